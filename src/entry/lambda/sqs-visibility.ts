/**
 * The consumer's backoff on SQS: a record the runtime wants retried stays in flight for the
 * retry policy's delay (ChangeMessageVisibility) instead of the queue's visibility timeout,
 * so Lambda consumers back off as the worker processes do on the other buses.
 *
 * SQS keeps a message in flight at most 12 hours from the receive that handed it out.
 * Lambda received the batch before the invocation (up to a 5-minute batching window, then
 * a function that may run 15 minutes), so the delay is capped 20 minutes short of that.
 * A change SQS refuses (or that fails) is only logged: the record then comes again at the
 * queue's visibility timeout, as it would without a backoff.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/** SQS's ceiling on a message's visibility (seconds). */
export const SQS_MAX_VISIBILITY_SECONDS = 12 * 3600;
/** Time between Lambda's receive and this call, at most: batching window (5 min) + function timeout (15 min). */
const SINCE_RECEIVE_SECONDS = 20 * 60;
/** Bound on one ChangeMessageVisibility call (ms). */
const CHANGE_TIMEOUT_MS = 5_000;

/** The visibility (whole seconds) for a retry in `delayMs`: at least 1 s, at most what SQS still allows. */
export function retryVisibilitySeconds(delayMs: number): number {
  const seconds = Number.isFinite(delayMs) ? Math.ceil(Math.max(0, delayMs) / 1000) : SQS_MAX_VISIBILITY_SECONDS;
  return Math.min(SQS_MAX_VISIBILITY_SECONDS - SINCE_RECEIVE_SECONDS, Math.max(1, seconds));
}

/**
 * The queue URL of a record's `eventSourceARN` (`arn:<partition>:sqs:<region>:<account>:<name>`):
 * on `endpoint` when one is configured (SQS_ENDPOINT, a compatible server), else AWS's.
 */
export function queueUrlOf(arn: string, endpoint?: string): string | undefined {
  const [scheme, partition, service, region, account, name] = arn.split(':');
  if (scheme !== 'arn' || service !== 'sqs' || !region || !account || !name) return undefined;
  const base = endpoint ? endpoint.replace(/\/+$/, '') : `https://sqs.${region}.${partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
  return `${base}/${account}/${name}`;
}

/** Sets the record's visibility to `seconds` from now; rejects with the reason when SQS did not. */
export async function setVisibility(sqs: SQSClient, record: SQSRecord, seconds: number, endpoint?: string): Promise<void> {
  const QueueUrl = queueUrlOf(record.eventSourceARN ?? '', endpoint);
  if (!QueueUrl) throw new Error(`not an SQS queue ARN: ${String(record.eventSourceARN)}`);
  const { ChangeMessageVisibilityCommand } = await import('@aws-sdk/client-sqs');
  await sqs.send(
    new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }),
    { abortSignal: AbortSignal.timeout(CHANGE_TIMEOUT_MS) },
  );
}
