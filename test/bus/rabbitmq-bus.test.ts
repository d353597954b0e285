import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from 'amqplib';
import { RabbitMqBus } from '../../src/platform/bus/rabbitmq/rabbitmq-bus.js';
import { deleteRabbitMqTopology } from './rabbitmq-cleanup.js';
import { CREATED, defineBusContract, makeEvent, type ConsumerDeclaration } from './bus-contract.js';

const url = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const prefixes: string[] = [];

defineBusContract('rabbitmq', {
  leaseMs: 1000,
  isolate: () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    prefixes.push(prefix);
    return Object.assign((consumers: readonly ConsumerDeclaration[]) => RabbitMqBus.connect({ url, prefix, consumers }), {
      child: () => ({ engine: 'rabbitmq', options: { url, prefix } }),
    });
  },
});

describe('RabbitMQ adapter: broker-side dead letters', () => {
  it('moves a message past x-delivery-limit to <consumer>.dead instead of dropping it', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    prefixes.push(prefix);
    const consumers = [{ consumer: 'poison', types: [CREATED] }];
    const bus = await RabbitMqBus.connect({ url, prefix, consumers, deliveryLimit: 1, onError: () => undefined });
    const attempts: number[] = [];
    try {
      // A handler that always throws: each lease expiry returns the message to the queue.
      await bus.subscribe({ ...consumers[0]!, leaseMs: 300, concurrency: 1 }, async ({ attempt }) => {
        attempts.push(attempt);
        throw new Error('poison');
      });
      const event = makeEvent(CREATED, 'p-1');
      await bus.publish([event]);
      const connection = await connect(url);
      const channel = await connection.createChannel();
      try {
        let dead: Awaited<ReturnType<typeof channel.get>> = false;
        for (let i = 0; i < 150 && dead === false; i += 1) {
          dead = await channel.get(`${prefix}.poison.dead`, { noAck: true });
          if (dead === false) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(dead).not.toBe(false);
        expect(JSON.parse((dead as { content: Buffer }).content.toString('utf8'))).toEqual(event);
        expect(attempts).toEqual([1, 2]);
      } finally {
        await connection.close();
      }
    } finally {
      await bus.close();
    }
  });
});

afterAll(() => deleteRabbitMqTopology(url, prefixes), 60_000);
