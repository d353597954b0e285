/**
 * The SQS consumer handler's backoff, against local-aws-sqs (an SQS-compatible server
 * started in-process, as in test/bus/sqs-bus.test.ts): a record the runtime retries gets
 * the retry policy's delay as its visibility (ChangeMessageVisibility), not the queue's
 * visibility timeout; the delay is kept under SQS's 12-hour maximum; a change that fails
 * leaves the batch answer as it was; a retry because the database is unreachable backs off
 * the same way (the database behind a loopback TCP proxy that resets). The records handed to the handler are the ones
 * ReceiveMessage returned (their receipt handles and receive counts are the server's).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { onceOpened, openLambdaResources, type LambdaResources } from '../../src/entry/lambda/lambda-resources.js';
import { createSqsHandler } from '../../src/entry/lambda/sqs-handler.js';
import { SQS_MAX_VISIBILITY_SECONDS, queueUrlOf, retryVisibilitySeconds } from '../../src/entry/lambda/sqs-visibility.js';
import { EventTypes } from '../../src/features/catalog/index.js';
import { openPostgres } from '../../src/platform/db/connect.js';
import { openTestDatabase, type TestDatabase } from '../support/engine.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { openPostgresDatabase, placementCreated } from '../events/support.js';
import { eventBridgeEnvelope, lambdaContext, sqsEvent } from './aws-events.js';

const region = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
/** Far longer than any wait below: a record back before it was given the consumer's delay. */
const QUEUE_VISIBILITY_S = 600;

let server: Server;
let endpoint: string;
let sqs: SQSClient;
let database: TestDatabase;
let resources: () => Promise<LambdaResources>;
const logLines: { level: number; msg: string; message_id?: string; visibility_s?: number }[] = [];

/** Collects the JSON log lines into `logLines`. */
const sink = () =>
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sqs = new SQSClient({ region, endpoint, credentials });
  database = await openTestDatabase();
  resources = onceOpened(() =>
    openLambdaResources({ env: { NODE_ENV: 'test', AWS_REGION: region, SQS_ENDPOINT: endpoint }, database, sqs, logger: pino({ level: 'debug' }, sink()) }),
  );
});

afterAll(async () => {
  await (await resources()).close();
  await database?.close();
  sqs?.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

async function queue(): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `backoff-${randomUUID().slice(0, 8)}`, Attributes: { VisibilityTimeout: String(QUEUE_VISIBILITY_S) } }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** The Lambda record of a message ReceiveMessage returned, as the event source mapping builds it. */
function recordOf(message: Message, arn: string): SQSRecord {
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body!,
    attributes: { ...(message.Attributes ?? {}) } as unknown as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: message.MD5OfBody!,
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: region,
  };
}

/** Receives until a message arrives (generous bound; the queue's own timeout is 600 s). */
async function receiveOne(url: string, timeoutMs = 60_000): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, AttributeNames: ['All'] }));
    if (Messages[0]) return Messages[0];
  }
  throw new Error(`no message on ${url} within ${timeoutMs} ms`);
}

const failing = (maxAttempts: number) => ({
  name: `lambda-backoff-${randomUUID().slice(0, 8)}`,
  types: [EventTypes.placementCreated],
  maxAttempts,
  async handle() {
    throw new Error('not yet');
  },
});

describe('SQS consumer handler backoff', () => {
  it('a retried record comes again after the retry policy delay for its attempt, not the queue visibility timeout', async () => {
    const { url, arn } = await queue();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(eventBridgeEnvelope(placementCreated())) }));
    // 2 s before the second attempt, 4 s before the third (equal jitter: half of it fixed).
    const handler = createSqsHandler(failing(5), resources, { retry: { baseDelayMs: 2_000, maxDelayMs: 60_000 } });
    const received: number[] = [];
    let message = await receiveOne(url);
    for (let attempt = 1; attempt <= 2; attempt++) {
      // SQS counts receives only; local-aws-sqs also counts each ChangeMessageVisibility as one,
      // so the count is set to what SQS would say on this delivery.
      const record = recordOf(message, arn);
      record.attributes.ApproximateReceiveCount = String(attempt);
      const before = performance.now();
      logLines.length = 0;
      const result = await handler(sqsEvent([record]), lambdaContext());
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
      const set = logLines.find((l) => l.message_id === record.messageId && l.msg === 'record comes again after the retry delay');
      const [low, high] = attempt === 1 ? [1, 2] : [2, 4];
      expect(set?.visibility_s).toBeGreaterThanOrEqual(low);
      expect(set?.visibility_s).toBeLessThanOrEqual(high);
      const again = await receiveOne(url);
      received.push(performance.now() - before);
      expect(again.MessageId).toBe(message.MessageId);
      // Not before the visibility it was given.
      expect(received[attempt - 1]!).toBeGreaterThanOrEqual(set!.visibility_s! * 1000);
      message = again;
    }
    // Both came back long before the queue's 600 s visibility timeout.
    for (const ms of received) expect(ms).toBeLessThan(QUEUE_VISIBILITY_S * 1000);
  }, 120_000);

  it('keeps a long delay under SQS 12-hour maximum (the server accepts it) and the record in flight', async () => {
    const { url, arn } = await queue();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(eventBridgeEnvelope(placementCreated())) }));
    // A policy whose delay (2 days) is past what SQS allows.
    const handler = createSqsHandler(failing(5), resources, { retry: { baseDelayMs: 2 * 86_400_000, maxDelayMs: 4 * 86_400_000 } });
    const record = recordOf(await receiveOne(url), arn);
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    logLines.length = 0;
    const result = await handler(sqsEvent([record]), lambdaContext());
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    const set = logLines.find((l) => l.message_id === record.messageId);
    expect(set).toMatchObject({ msg: 'record comes again after the retry delay', visibility_s: SQS_MAX_VISIBILITY_SECONDS - 20 * 60 });
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }));
    expect(Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('1');
  });

  it('a visibility change that fails is logged and the batch answer stays the same', async () => {
    const { url, arn } = await queue();
    const good = placementCreated();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(eventBridgeEnvelope(good)) }));
    const handler = createSqsHandler(failing(5), resources);
    const record = recordOf(await receiveOne(url), arn);
    // A receipt handle the server never gave out: SQS refuses the change.
    const refused = { ...record, messageId: randomUUID(), receiptHandle: 'not-a-receipt-handle' };
    // A queue that does not exist.
    const gone = { ...record, messageId: randomUUID(), eventSourceARN: `${arn}-gone` };
    logLines.length = 0;
    const result = await handler(sqsEvent([record, refused, gone]), lambdaContext());
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([record.messageId, refused.messageId, gone.messageId].sort());
    const warned = logLines.filter((l) => l.level === 40 && /could not set the record's visibility/.test(l.msg)).map((l) => l.message_id).sort();
    expect(warned).toEqual([refused.messageId, gone.messageId].sort());
    expect(logLines.find((l) => l.message_id === record.messageId)?.msg).toBe('record comes again after the retry delay');
  });
});

describe('SQS consumer handler backoff while the database is unreachable', () => {
  it('backs off by the retry policy for the attempt, not the 1 s the runtime asks when it cannot record the failure', async () => {
    const postgres = await openPostgresDatabase();
    const server = new URL(postgres.url!);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const through = new URL(postgres.url!);
    through.host = `127.0.0.1:${proxy.port}`;
    const handle = openPostgres({ connectionString: through.toString(), max: 2, timeouts: { connectMs: 1_000, queryMs: 1_000, backgroundQueryMs: 1_000 } });
    const own = await openLambdaResources({ env: { NODE_ENV: 'test', AWS_REGION: region, SQS_ENDPOINT: endpoint }, database: handle, sqs, logger: pino({ level: 'debug' }, sink()) });
    try {
      const { url, arn } = await queue();
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(eventBridgeEnvelope(placementCreated())) }));
      const record = recordOf(await receiveOne(url), arn);
      // The third delivery: the default policy waits 2–4 s before the fourth.
      record.attributes.ApproximateReceiveCount = '3';
      proxy.setMode('reset');
      logLines.length = 0;
      const result = await createSqsHandler(failing(5), async () => own)(sqsEvent([record]), lambdaContext());
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
      const set = logLines.find((l) => l.message_id === record.messageId && l.msg === 'record comes again after the retry delay');
      expect(set?.visibility_s).toBeGreaterThanOrEqual(2);
      expect(set?.visibility_s).toBeLessThanOrEqual(4);
    } finally {
      await own.close();
      await handle.close();
      await proxy.close();
      await postgres.close();
    }
  }, 60_000);
});

describe('visibility of a retry', () => {
  it('is the delay in whole seconds, at least 1, and under the 12-hour maximum less the time since the receive', () => {
    expect(retryVisibilitySeconds(0)).toBe(1);
    expect(retryVisibilitySeconds(500)).toBe(1);
    expect(retryVisibilitySeconds(1_001)).toBe(2);
    expect(retryVisibilitySeconds(300_000)).toBe(300);
    expect(retryVisibilitySeconds(48 * 3600_000)).toBe(SQS_MAX_VISIBILITY_SECONDS - 1200);
    expect(retryVisibilitySeconds(Number.POSITIVE_INFINITY)).toBe(SQS_MAX_VISIBILITY_SECONDS - 1200);
  });

  it('finds the queue URL from the record ARN, on the configured endpoint or AWS', () => {
    expect(queueUrlOf('arn:aws:sqs:eu-west-1:123456789012:nedlia-notifier')).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/nedlia-notifier');
    expect(queueUrlOf('arn:aws-cn:sqs:cn-north-1:123456789012:q')).toBe('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q');
    expect(queueUrlOf('arn:aws:sqs:us-east-1:123456789012:q', 'http://127.0.0.1:9324/')).toBe('http://127.0.0.1:9324/123456789012/q');
    expect(queueUrlOf('arn:aws:sns:us-east-1:123456789012:topic')).toBeUndefined();
  });
});
