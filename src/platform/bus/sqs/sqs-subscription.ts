/**
 * One consumer's subscription to its SQS queue (see sqs-bus.ts): long polls with the
 * lease as visibility timeout, hands messages to the handler with bounded concurrency,
 * and settles each outcome (delete, delayed copy, or a longer visibility), reporting a
 * failing link once and its recovery.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CloudEvent } from '../../events/cloud-event.js';
import { OutageLog } from '../../logging/polling.js';
import { BROKER_CALL_TIMEOUT_MS, DeliveryDispatcher, leaseExpired, sleep, type RestoreReport } from '../delivery-dispatcher.js';
import type { Handler, Outcome, SubscribeOptions, Subscription } from '../event-bus.js';

/** SQS and EventBridge maximum entries per call. */
export const SQS_BATCH = 10;
const IDLE_POLL_MS = 200;
const MAX_DELAY_SECONDS = 900; // SQS DelaySeconds limit
const ATTEMPT = 'nedlia-attempt';

/** Every call but the long poll gives up after `BROKER_CALL_TIMEOUT_MS` (SDK retries included). */
export const bounded = (): { abortSignal: AbortSignal } => ({ abortSignal: AbortSignal.timeout(BROKER_CALL_TIMEOUT_MS) });

export interface SqsSubscriptionParts {
  sqs: SQSClient;
  queueUrl: string;
  /** Long-poll wait of each receive (0–20 s); 0 polls every 200 ms instead. */
  waitSeconds: number;
  onError: (error: unknown) => void;
  onRestore: RestoreReport;
  onClosed: () => void;
  options: SubscribeOptions;
  handler: Handler;
}

export function startSqsSubscription({ sqs, queueUrl: QueueUrl, waitSeconds, onError, onRestore, onClosed, options, handler }: SqsSubscriptionParts): Subscription {
  const types = new Set(options.types);
  const visibility = Math.max(1, Math.ceil(options.leaseMs / 1000));
  const dispatcher = new DeliveryDispatcher(options.concurrency, onError);
  const stopping = new AbortController();

  const settle = async (message: Message, outcome: Outcome): Promise<void> => {
    const ReceiptHandle = message.ReceiptHandle!;
    const seconds = outcome.kind === 'retry' ? Math.max(1, Math.ceil(outcome.delayMs / 1000)) : 0;
    if (outcome.kind === 'retry' && seconds > MAX_DELAY_SECONDS) {
      const VisibilityTimeout = Math.min(43_200, seconds);
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle, VisibilityTimeout }), bounded());
      return;
    }
    if (outcome.kind === 'retry') {
      const next = String(attemptOf(message) + 1);
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: message.Body!,
          DelaySeconds: seconds,
          MessageAttributes: { [ATTEMPT]: { DataType: 'Number', StringValue: next } },
        }),
        bounded(),
      );
    }
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle }), bounded());
  };

  const settling = new OutageLog({
    down: (cause) => onError(new Error(`SQS: settling deliveries of ${options.consumer} failed; they come again after their visibility timeout`, { cause })),
    up: (outage) => onRestore({ consumer: options.consumer, ...outage }),
  });
  const handle = async (message: Message, event: CloudEvent, receivedAt: number): Promise<void> => {
    if (!types.has(event.type)) return settle(message, { kind: 'ack' });
    if (leaseExpired(receivedAt, visibility * 1000)) return; // waited too long here: visible again
    const attempt = attemptOf(message);
    let outcome: Outcome;
    try {
      outcome = await handler({ event, attempt });
    } catch (cause) {
      onError(new Error(`SQS: handler of ${options.consumer} threw on ${event.id}`, { cause }));
      return; // like a crash: visible again when the lease (visibility timeout) runs out
    }
    // Stale (visible again, maybe received elsewhere): an old receipt handle must not settle it.
    if (leaseExpired(receivedAt, visibility * 1000)) return;
    // A settle that fails leaves the message to come back after its visibility timeout.
    await settle(message, outcome).then(
      () => settling.succeeded(),
      (cause: unknown) => settling.failed(cause),
    );
  };

  // Reported when receiving starts failing and when it works again, not at every retry.
  const outage = new OutageLog({
    down: (cause) => onError(new Error(`SQS: receive from ${QueueUrl} failed; retrying until it works`, { cause })),
    up: (outage) => onRestore({ consumer: options.consumer, ...outage }),
  });
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      await dispatcher.waitForSlot(1000);
      if (dispatcher.free === 0 || stopping.signal.aborted) continue;
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: Math.min(SQS_BATCH, dispatcher.free),
            WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: visibility,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            // The deprecated spelling too: some SQS-compatible servers know only this one.
            AttributeNames: ['All'],
            MessageAttributeNames: [ATTEMPT],
          }),
          // A long poll answers within its wait; past it (and a margin) the link is stalled.
          { abortSignal: AbortSignal.any([stopping.signal, AbortSignal.timeout(waitSeconds * 1000 + BROKER_CALL_TIMEOUT_MS)]) },
        );
        outage.succeeded();
        for (const message of received.Messages ?? []) {
          const event = parseBody(message.Body);
          if (!event) {
            // Left alone: a redrive DLQ, if configured, takes it after maxReceiveCount.
            onError(new Error(`SQS: message ${message.MessageId} in ${QueueUrl} is not a CloudEvent`));
            continue;
          }
          const receivedAt = Date.now();
          dispatcher.run(event.id, () => handle(message, event, receivedAt));
        }
        if (waitSeconds === 0 && !received.Messages?.length) await sleep(IDLE_POLL_MS, stopping.signal);
      } catch (cause) {
        if (stopping.signal.aborted) break;
        outage.failed(cause);
        await sleep(1000, stopping.signal);
      }
    }
  })();

  let closing: Promise<void> | undefined;
  const subscription: Subscription = {
    close: () =>
      (closing ??= (async () => {
        stopping.abort();
        await loop;
        await dispatcher.drain(options.leaseMs);
        onClosed();
      })()),
  };
  return subscription;
}

function attemptOf(message: Message): number {
  const base = Number(message.MessageAttributes?.[ATTEMPT]?.StringValue ?? 1);
  return base + Number(message.Attributes?.ApproximateReceiveCount ?? 1) - 1;
}

/** A CloudEvent from a message body, unwrapping an EventBridge envelope. */
function parseBody(body: string | undefined): CloudEvent | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as Record<string, unknown>;
    const event = ('detail-type' in parsed && typeof parsed.detail === 'object' ? parsed.detail : parsed) as CloudEvent;
    return typeof event?.id === 'string' && typeof event.type === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}
