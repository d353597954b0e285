/**
 * EventBus on Amazon SQS, optionally fed through Amazon EventBridge.
 *
 * - One standard queue per consumer: `<queuePrefix><consumer>`. Subscribers with the same
 *   name receive from it and share the work. Its visibility timeout is the lease
 *   (whole seconds, set on each receive); an ack deletes the message; a crash or a
 *   throwing handler lets the visibility run out, and the next receive counts one more.
 * - `attempt` = the `nedlia-attempt` message attribute (1 when absent) + the
 *   `ApproximateReceiveCount` − 1.
 * - Retry (delay rounded up to whole seconds): up to 15 minutes, a copy is sent to the
 *   consumer's own queue with `DelaySeconds` and `nedlia-attempt` = attempt + 1, then the
 *   original is deleted (a crash in between makes a duplicate, which the inbox absorbs);
 *   longer delays use `ChangeMessageVisibility` (up to 12 h), whose next receive counts
 *   one more. The copy keeps the attempt explicit: local SQS emulators count
 *   ChangeMessageVisibility as a receive, and a redrive policy's maxReceiveCount would
 *   otherwise also count retries.
 * - Publishing, two ways:
 *   - direct (default): `SendMessageBatch` to the queue of every consumer of the type, the
 *     consumers being the deployment's (`consumers` option) plus those subscribed here;
 *   - EventBridge (`eventBridgeBusName`): `PutEvents` with detail-type = event type and
 *     detail = the CloudEvent; rules (infrastructure, not this code) route
 *     `{"detail-type": [types]}` to each consumer's queue. Received EventBridge envelopes
 *     are unwrapped. `PutEvents` and `SendMessageBatch` can fail in part: only the failed
 *     entries are sent again, a few times with backoff, then `publish` rejects.
 * - Queues must exist before publication for the events to reach them: `publish` makes
 *   sure the declared consumers' queues exist (GetQueueUrl, else CreateQueue).
 * - Order: standard queues do not keep order (`ordered: false`).
 *
 * Operations: the standard redrive DLQ is optional here (the runtime dead-letters in the
 * database); if you add one, its retention must exceed the source queue's and its
 * maxReceiveCount must exceed the runtime's maximum attempts. With Lambda consumers the
 * visibility timeout must be ≥ 6× the function timeout.
 */
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  QueueDoesNotExist,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { CloudEvent } from '../../events/cloud-event.js';
import { reportRestoreToStderr, reportToStderr, sleep, type RestoreReport } from '../delivery-dispatcher.js';
import type { EventBus, Handler, SubscribeOptions, Subscription } from '../event-bus.js';
import { bounded, SQS_BATCH, startSqsSubscription } from './sqs-subscription.js';

export interface SqsBusOptions {
  /** AWS region; the SDK's own resolution (AWS_REGION, profile) when absent. */
  region?: string;
  /** A local or compatible SQS endpoint; AWS's when absent. */
  endpoint?: string;
  queuePrefix?: string;
  consumers?: ReadonlyArray<Pick<SubscribeOptions, 'consumer' | 'types'>>;
  /** Publish through this EventBridge bus instead of straight to the queues. */
  eventBridgeBusName?: string;
  eventBridgeEndpoint?: string;
  /** EventBridge `Source` of published entries. */
  eventBridgeSource?: string;
  /** Static credentials (tests, local servers); the default provider chain otherwise. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Long-poll wait of each receive (0–20 s); 0 polls every 200 ms instead. */
  receiveWaitSeconds?: number;
  onError?: (error: unknown) => void;
  /** Told when a subscription that was failing to receive works again. */
  onRestore?: RestoreReport;
}

const MAX_BATCH_BYTES = 240 * 1024; // under the 256 KiB request limit
const RESEND_ROUNDS = 5;

/** An entry a batch call did not accept. */
interface Failure {
  id: string;
  code: string;
  senderFault: boolean;
}

export class SqsBus implements EventBus {
  readonly name = 'sqs';
  readonly ordered = false;
  private closed = false;
  private readonly sqs: SQSClient;
  private readonly eventBridge: EventBridgeClient | undefined;
  private readonly urls = new Map<string, Promise<string>>();
  private readonly routes = new Map<string, Set<string>>(); // type → consumers
  private readonly subscriptions = new Set<Subscription>();
  private readonly prefix: string;
  private readonly onError: (error: unknown) => void;
  private readonly onRestore: RestoreReport;

  constructor(private readonly options: SqsBusOptions) {
    const common = {
      ...(options.region ? { region: options.region } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    };
    this.sqs = new SQSClient({ ...common, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
    if (options.eventBridgeBusName) {
      this.eventBridge = new EventBridgeClient({ ...common, ...(options.eventBridgeEndpoint ? { endpoint: options.eventBridgeEndpoint } : {}) });
    }
    this.prefix = options.queuePrefix ?? 'nedlia-';
    this.onError = options.onError ?? reportToStderr;
    this.onRestore = options.onRestore ?? reportRestoreToStderr;
    for (const { consumer, types } of options.consumers ?? []) this.route(consumer, types);
  }

  private route(consumer: string, types: readonly string[]): void {
    for (const type of types) {
      const consumers = this.routes.get(type) ?? new Set<string>();
      consumers.add(consumer);
      this.routes.set(type, consumers);
    }
  }

  /** The consumer's queue URL, creating the queue if it does not exist. */
  private queueUrl(consumer: string): Promise<string> {
    let url = this.urls.get(consumer);
    if (!url) {
      const QueueName = `${this.prefix}${consumer}`;
      url = (async () => {
        try {
          return (await this.sqs.send(new GetQueueUrlCommand({ QueueName }), bounded())).QueueUrl!;
        } catch (error) {
          if (!(error instanceof QueueDoesNotExist) && (error as { name?: string }).name !== 'QueueDoesNotExist') throw error;
        }
        // 14 days, the maximum: a consumer that is down keeps its backlog as long as possible.
        const created = await this.sqs.send(new CreateQueueCommand({ QueueName, Attributes: { MessageRetentionPeriod: '1209600' } }), bounded());
        return created.QueueUrl!;
      })().catch((cause: unknown) => {
        this.urls.delete(consumer);
        throw new Error(`SQS: cannot find or create queue ${QueueName}`, { cause });
      });
      this.urls.set(consumer, url);
    }
    return url;
  }

  async publish(events: readonly CloudEvent[]): Promise<void> {
    if (this.closed) throw new Error('SQS bus is closed');
    const consumers = new Set([...this.routes.values()].flatMap((set) => [...set]));
    await Promise.all([...consumers].map((c) => this.queueUrl(c)));
    if (this.eventBridge) return this.putEvents(events);
    const perConsumer = new Map<string, CloudEvent[]>();
    for (const event of events) {
      for (const consumer of this.routes.get(event.type) ?? []) {
        perConsumer.set(consumer, [...(perConsumer.get(consumer) ?? []), event]);
      }
    }
    await Promise.all(
      [...perConsumer].map(async ([consumer, list]) => {
        const QueueUrl = await this.queueUrl(consumer);
        await sendInBatches(list, `SQS queue ${this.prefix}${consumer}`, async (batch) => {
          const entries = batch.map((item) => ({ Id: item.id, MessageBody: item.body }));
          const result = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }), bounded());
          return (result.Failed ?? []).map((f) => ({ id: f.Id!, code: f.Code ?? 'unknown', senderFault: f.SenderFault === true }));
        });
      }),
    );
  }

  private async putEvents(events: readonly CloudEvent[]): Promise<void> {
    const EventBusName = this.options.eventBridgeBusName!;
    const Source = this.options.eventBridgeSource ?? 'nedlia';
    const byId = new Map(events.map((event, i) => [String(i), event]));
    await sendInBatches(events, `EventBridge bus ${EventBusName}`, async (batch) => {
      const entries: PutEventsRequestEntry[] = batch.map((item) => {
        const event = byId.get(item.id)!;
        return { EventBusName, Source, DetailType: event.type, Detail: item.body, Time: new Date(event.time) };
      });
      const result = await this.eventBridge!.send(new PutEventsCommand({ Entries: entries }), bounded());
      if (!result.FailedEntryCount) return [];
      // Result entries are in request order; a failed one has an ErrorCode.
      return (result.Entries ?? []).flatMap((entry, i) =>
        entry.ErrorCode ? [{ id: batch[i]!.id, code: entry.ErrorCode, senderFault: entry.ErrorCode.startsWith('Validation') }] : [],
      );
    });
  }

  async subscribe(options: SubscribeOptions, handler: Handler): Promise<Subscription> {
    if (this.closed) throw new Error('SQS bus is closed');
    this.route(options.consumer, options.types);
    const subscription = startSqsSubscription({
      sqs: this.sqs,
      queueUrl: await this.queueUrl(options.consumer),
      waitSeconds: Math.min(20, Math.max(0, this.options.receiveWaitSeconds ?? 10)),
      onError: this.onError,
      onRestore: this.onRestore,
      onClosed: () => this.subscriptions.delete(subscription),
      options,
      handler,
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('SQS bus is closed');
    try {
      await this.sqs.send(new ListQueuesCommand({ QueueNamePrefix: this.prefix, MaxResults: 1 }), bounded());
    } catch (cause) {
      throw new Error('SQS: ListQueues failed', { cause });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.sqs.destroy();
    this.eventBridge?.destroy();
  }
}

/**
 * Sends `events` in batches (≤ 10 entries, < 256 KiB); `send` returns the entries that
 * failed. Only those are sent again, with backoff; sender faults are not retried.
 */
async function sendInBatches(
  events: readonly CloudEvent[],
  target: string,
  send: (batch: Array<{ id: string; body: string }>) => Promise<Failure[]>,
): Promise<void> {
  let pending = events.map((event, i) => ({ id: String(i), body: JSON.stringify(event) }));
  for (let round = 0; pending.length > 0; round += 1) {
    const failed: Failure[] = [];
    for (const batch of chunk(pending)) {
      try {
        failed.push(...(await send(batch)));
      } catch (cause) {
        throw new Error(`${target}: sending ${batch.length} events failed`, { cause });
      }
    }
    const fatal = failed.find((f) => f.senderFault);
    if (fatal) throw new Error(`${target}: entry rejected (${fatal.code}); not retried`);
    if (failed.length > 0 && round + 1 >= RESEND_ROUNDS) {
      throw new Error(`${target}: ${failed.length} entries still failing after ${RESEND_ROUNDS} rounds (${failed[0]!.code})`);
    }
    const again = new Set(failed.map((f) => f.id));
    pending = pending.filter((item) => again.has(item.id));
    if (pending.length > 0) await sleep(100 * 2 ** round);
  }
}

function chunk(items: Array<{ id: string; body: string }>): Array<Array<{ id: string; body: string }>> {
  const batches: Array<Array<{ id: string; body: string }>> = [];
  let current: Array<{ id: string; body: string }> = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(item.body);
    if (current.length > 0 && (current.length === SQS_BATCH || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
