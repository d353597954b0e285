/**
 * The SQS adapter against local-aws-sqs (started in-process on a free port), publishing
 * straight to the queues and through EventBridge. EventBridge itself is a test stand-in
 * (test/support/eventbridge-stub.ts): no emulator exists, so rules and delivery from
 * EventBridge to SQS are not tested against AWS.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { SqsBus } from '../../src/platform/bus/sqs/sqs-bus.js';
import { startEventBridgeStub, type EventBridgeStub } from '../support/eventbridge-stub.js';
import { CREATED, UPDATED, defineBusContract, makeEvent, waitFor, type ConsumerDeclaration } from './bus-contract.js';

const region = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let server: Server;
let endpoint: string;
let stub: EventBridgeStub;
let stubClient: SQSClient;

// About a third of the entries fail on their first PutEvents.
const failsFirst = (id: string) => parseInt(id.slice(0, 2), 16) % 3 === 0;

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stubClient = new SQSClient({ region, endpoint, credentials });
  stub = await startEventBridgeStub(stubClient, failsFirst);
});

afterAll(async () => {
  await stub.close();
  stubClient.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function direct(consumers: readonly ConsumerDeclaration[], queuePrefix: string): SqsBus {
  return new SqsBus({ region, endpoint, credentials, queuePrefix, consumers, receiveWaitSeconds: 0 });
}

function viaEventBridge(consumers: readonly ConsumerDeclaration[], queuePrefix: string, bus: string): SqsBus {
  // The infrastructure's rules: one per consumer, on its detail-types, targeting its queue.
  stub.rules.set(bus, consumers.map((c) => ({ queueName: `${queuePrefix}${c.consumer}`, detailTypes: c.types })));
  return new SqsBus({
    region, endpoint, credentials, queuePrefix, consumers,
    receiveWaitSeconds: 0,
    eventBridgeBusName: bus,
    eventBridgeEndpoint: stub.endpoint,
  });
}

defineBusContract('sqs', {
  leaseMs: 1000,
  isolate: () => {
    const queuePrefix = `t${randomUUID().slice(0, 8)}-`;
    return Object.assign(async (consumers: readonly ConsumerDeclaration[]) => direct(consumers, queuePrefix), {
      child: () => ({ engine: 'sqs', options: { region, endpoint, credentials, queuePrefix, receiveWaitSeconds: 0 } }),
    });
  },
});

defineBusContract('sqs (EventBridge)', {
  leaseMs: 1000,
  isolate: () => {
    const tag = randomUUID().slice(0, 8);
    return Object.assign(async (consumers: readonly ConsumerDeclaration[]) => viaEventBridge(consumers, `e${tag}-`, `bus-${tag}`), {
      // The child only receives, straight from the queues.
      child: () => ({ engine: 'sqs', options: { region, endpoint, credentials, queuePrefix: `e${tag}-`, receiveWaitSeconds: 0 } }),
    });
  },
});

/** Resolves once the queue holds no message, visible or in flight (every delivery deleted). */
async function queueDrained(queueName: string, timeoutMs = 20_000): Promise<void> {
  const { QueueUrl } = await stubClient.send(new GetQueueUrlCommand({ QueueName: queueName }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Attributes = {} } = await stubClient.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    if (Number(Attributes.ApproximateNumberOfMessages) === 0 && Number(Attributes.ApproximateNumberOfMessagesNotVisible) === 0) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${queueName} to drain: ${JSON.stringify(Attributes)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('SQS adapter: EventBridge partial failures', () => {
  it('resends only the entries PutEvents failed, and every event arrives once', async () => {
    const tag = randomUUID().slice(0, 8);
    const consumers = [{ consumer: 'webhooks', types: [CREATED, UPDATED] }];
    const bus = viaEventBridge(consumers, `p${tag}-`, `bus-${tag}`);
    const events = Array.from({ length: 35 }, (_, i) => makeEvent(i % 2 ? CREATED : UPDATED, `p-${i}`));
    try {
      await bus.publish(events);
      const requests = stub.requests.filter((r) => r.bus === `bus-${tag}`);
      const failedFirst = events.filter((e) => failsFirst(e.id)).map((e) => e.id);
      expect(failedFirst.length).toBeGreaterThan(0);
      // First round: 4 requests of ≤ 10 carrying everything; then only the failed ones.
      const firstRound = requests.slice(0, 4);
      expect(firstRound.flatMap((r) => r.ids).sort()).toEqual(events.map((e) => e.id).sort());
      const resent = requests.slice(4).flatMap((r) => r.ids);
      expect(resent.sort()).toEqual([...failedFirst].sort());

      const seen = new Map<string, number>();
      const subscription = await bus.subscribe({ ...consumers[0]!, leaseMs: 1000, concurrency: 8 }, async ({ event }) => {
        seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
        return { kind: 'ack' };
      });
      await waitFor('every event', () => seen.size >= events.length, 20_000);
      // A duplicate would still be in the queue: wait until it holds nothing, visible or in flight.
      await queueDrained(`p${tag}-webhooks`);
      await subscription.close();
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await bus.close();
    }
  });

  it('rejects publish when entries keep failing, naming the bus', async () => {
    const tag = randomUUID().slice(0, 8);
    const bus = new SqsBus({
      region, endpoint, credentials, queuePrefix: `x${tag}-`,
      eventBridgeBusName: `bus-${tag}`,
      eventBridgeEndpoint: 'http://127.0.0.1:9', // nothing listens: every call fails
    });
    try {
      await expect(bus.publish([makeEvent(CREATED, 'p-1')])).rejects.toThrow(`EventBridge bus bus-${tag}`);
    } finally {
      await bus.close();
    }
  });
});
