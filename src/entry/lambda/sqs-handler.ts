/**
 * A consumer as an SQS-triggered Lambda function: one function per consumer of
 * src/entry/consumers.ts, each fed by its own queue (an EventBridge rule per consumer,
 * see deploy/). Every record goes through the same consumer runtime as in a worker
 * process (schema check, upcast, inbox, retries, dead letters); the answer is an SQS
 * partial batch response, so only the records that must come again are retried and
 * one poison message never fails its batch:
 *
 * - handled, a duplicate, or dead-lettered by the runtime (invalid event, last attempt):
 *   acknowledged (left out of `batchItemFailures`, SQS deletes it);
 * - a failure the runtime wants retried: listed in `batchItemFailures`, and its visibility
 *   set to the retry policy's delay for that attempt (sqs-visibility.ts), so SQS delivers it
 *   again after the consumer's backoff, with `ApproximateReceiveCount` as the attempt, until
 *   the runtime dead-letters it at the consumer's maximum; if the visibility cannot be
 *   changed, it comes again after the queue's visibility timeout (the batch is unaffected);
 * - a body that is not a CloudEvent (nor an EventBridge envelope of one): listed too, so
 *   the queue's redrive policy moves it to the queue's dead-letter queue.
 * - an event type the consumer does not handle (a rule that routes too much): acknowledged.
 *
 * The records of a batch are handled at most `consumer.concurrency` at a time (default 8), as a
 * worker process's subscription does.
 *
 * The function needs `ReportBatchItemFailures` on its event source mapping (deploy/ sets it).
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { CloudEvent } from '../../platform/events/cloud-event.js';
import type { Consumer } from '../../platform/consumers/consumer.js';
import { ConsumerRuntime } from '../../platform/consumers/consumer-runtime.js';
import { asBackgroundWork } from '../../platform/db/connect.js';
import { DEFAULT_RETRY_POLICY, backoffDelay, type RetryPolicy } from '../../platform/events/retry-policy.js';
import { allConsumers, selectConsumers } from '../consumers.js';
import { containerResources, flushLogs, type LambdaResources } from './lambda-resources.js';
import { retryVisibilitySeconds, setVisibility } from './sqs-visibility.js';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** A CloudEvent from a record body, unwrapping an EventBridge envelope (`detail`). */
export function cloudEventOf(body: string): CloudEvent | undefined {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown> | null;
    if (!parsed || typeof parsed !== 'object') return undefined;
    const event = ('detail-type' in parsed && typeof parsed.detail === 'object' ? parsed.detail : parsed) as CloudEvent | null;
    return event && typeof event.id === 'string' && typeof event.type === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}

/** The attempt of a delivery: SQS counts every receive, the first being 1. */
function attemptOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount ?? 1);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

/** Records handled at once when the consumer declares no concurrency (the worker processes' default). */
const DEFAULT_CONCURRENCY = 8;

export interface SqsHandlerOptions {
  /** The runtime's retry policy (its defaults when absent, as in a worker process). */
  retry?: Partial<RetryPolicy>;
}

export function createSqsHandler(consumer: Consumer, resources: () => Promise<LambdaResources> = containerResources, options: SqsHandlerOptions = {}): SqsHandler {
  const types = new Set(consumer.types);
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  let runtime: ConsumerRuntime | undefined;
  return async (event, context) => {
    context.callbackWaitsForEmptyEventLoop = false;
    const r = await resources();
    runtime ??= new ConsumerRuntime({ db: r.database.db, bus: r.bus, logger: r.logger, ...(options.retry ? { retry: options.retry } : {}) });
    const log = r.logger.child({ consumer: consumer.name, aws_request_id: context.awsRequestId });
    const failed: string[] = [];
    /**
     * The retry policy's delay for the record's attempt, whatever made the runtime ask for a
     * retry (a failing handler, or a database it could not reach: those retries back off too,
     * rather than spending the queue's receives a second apart); a change that fails leaves
     * the queue's timeout.
     */
    const backOff = async (record: SQSRecord, attempt: number): Promise<void> => {
      const seconds = retryVisibilitySeconds(backoffDelay(attempt, policy));
      try {
        await setVisibility(await r.sqs(), record, seconds, r.config.brokers.sqs.endpoint);
        log.debug({ message_id: record.messageId, visibility_s: seconds }, 'record comes again after the retry delay');
      } catch (error) {
        log.warn({ err: error, message_id: record.messageId, visibility_s: seconds }, "could not set the record's visibility to the retry delay; it comes again at the queue's visibility timeout");
      }
    };
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const cloudEvent = cloudEventOf(record.body ?? '');
      if (!cloudEvent) {
        log.error({ message_id: record.messageId, queue: record.eventSourceARN }, 'SQS record is not a CloudEvent; left to the queue\'s redrive policy');
        failed.push(record.messageId);
        return;
      }
      if (!types.has(cloudEvent.type)) {
        log.warn({ message_id: record.messageId, event_type: cloudEvent.type }, 'event type not handled by this consumer; acknowledged');
        return;
      }
      try {
        const attempt = attemptOf(record);
        const outcome = await asBackgroundWork(() => runtime!.handleDelivery(consumer, { event: cloudEvent, attempt }));
        if (outcome.kind === 'retry') {
          failed.push(record.messageId);
          await backOff(record, attempt);
        }
      } catch (error) {
        // The failure could not even be recorded: the record comes again after its visibility timeout.
        log.error({ err: error, message_id: record.messageId, event_id: cloudEvent.id }, 'delivery failed outside the runtime; it comes again');
        failed.push(record.messageId);
      }
    };
    // At most the consumer's concurrency at once, as a worker process's subscription runs it.
    const records = event.Records ?? [];
    let next = 0;
    const lanes = Math.min(records.length, Math.max(1, consumer.concurrency ?? DEFAULT_CONCURRENCY));
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < records.length) await handleRecord(records[next++]!);
      }),
    );
    await flushLogs(r.logger);
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** The handler of the consumer named `name` in src/entry/consumers.ts (an unknown name fails at load). */
export function sqsHandlerFor(name: string, resources?: () => Promise<LambdaResources>): SqsHandler {
  const [consumer] = selectConsumers([name], allConsumers);
  return createSqsHandler(consumer!, resources);
}

/** Every consumer's handler by name: what a bundle exports when it carries several. */
export function sqsHandlers(resources?: () => Promise<LambdaResources>): Record<string, SqsHandler> {
  return Object.fromEntries(allConsumers.map((c) => [c.name, createSqsHandler(c, resources)]));
}
