/**
 * `npm run bench:bus-adapters`: the broker adapters alone (no database): publish → handler
 * → ack, on a fresh namespace per run.
 * - throughput: BENCH_EVENTS (20,000) published in batches of 500, one subscriber with
 *   concurrency 64; events/s from the first publish to the last ack;
 * - lag: BENCH_RATE (500) events/s for BENCH_SECONDS (10) in batches of 10 every 20 ms;
 *   p50/p99 of publish call → handler start.
 * BENCH_BUSES=nats,redis,rabbitmq,sqs picks adapters. SQS runs against local-aws-sqs in
 * this process (an emulator: its figures say nothing about AWS).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { connect as connectNats } from 'nats';
import { Redis } from 'ioredis';
import { createSqsServer } from 'local-aws-sqs';
import type { CloudEvent } from '../src/platform/events/cloud-event.js';
import type { EventBus } from '../src/platform/bus/event-bus.js';
import { NatsBus } from '../src/platform/bus/nats/nats-bus.js';
import { RabbitMqBus } from '../src/platform/bus/rabbitmq/rabbitmq-bus.js';
import { RedisBus } from '../src/platform/bus/redis/redis-bus.js';
import { SqsBus } from '../src/platform/bus/sqs/sqs-bus.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const buses = (process.env.BENCH_BUSES ?? 'nats,redis,rabbitmq,sqs').split(',').map((s) => s.trim());
const TYPE = 'com.nedlia.placement.created';
const consumers = [{ consumer: 'bench', types: [TYPE] }];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

function event(): CloudEvent {
  const id = randomUUID();
  return {
    specversion: '1.0', id, source: '/bench', type: TYPE, time: new Date().toISOString(), subject: id,
    datacontenttype: 'application/json', schemaversion: 1,
    data: { placement_id: id, video_id: randomUUID(), product_id: randomUUID(), time_range: { start_time: 0, end_time: 1 } },
  };
}

interface Target {
  open(): Promise<EventBus>;
  cleanup(): Promise<void>;
}

async function target(kind: string, tag: string, sqsEndpoint: () => Promise<string>): Promise<Target> {
  switch (kind) {
    case 'nats': {
      const options = { url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', stream: `BENCH_${tag}`, subjectRoot: `bench-${tag}.events` };
      return {
        open: () => NatsBus.connect(options),
        cleanup: async () => {
          const nc = await connectNats({ servers: options.url });
          await (await nc.jetstreamManager()).streams.delete(options.stream).catch(() => undefined);
          await nc.close();
        },
      };
    }
    case 'redis': {
      const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      const prefix = `bench-${tag}`;
      return {
        open: () => RedisBus.connect({ url, prefix }),
        cleanup: async () => {
          const redis = new Redis(url);
          const keys = await redis.keys(`${prefix}:*`);
          if (keys.length > 0) await redis.del(...keys);
          await redis.quit();
        },
      };
    }
    case 'rabbitmq': {
      const url = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
      const prefix = `bench-${tag}`;
      return {
        open: () => RabbitMqBus.connect({ url, prefix, consumers }),
        cleanup: async () => {
          const { connect } = await import('amqplib');
          const connection = await connect(url);
          const channel = await connection.createChannel();
          for (const queue of [`${prefix}.bench`, `${prefix}.bench.dead`]) await channel.deleteQueue(queue).catch(() => undefined);
          await channel.deleteExchange(`${prefix}.events`).catch(() => undefined);
          await channel.deleteExchange(`${prefix}.dead-letter`).catch(() => undefined);
          await connection.close();
        },
      };
    }
    case 'sqs': {
      const endpoint = await sqsEndpoint();
      return {
        open: async () =>
          new SqsBus({
            region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            queuePrefix: `b${tag}-`, consumers, receiveWaitSeconds: 0,
          }),
        cleanup: async () => undefined,
      };
    }
    default:
      throw new Error(`unknown bus ${kind}`);
  }
}

async function run(kind: string, sqsEndpoint: () => Promise<string>): Promise<Record<string, string | number>> {
  const { open, cleanup } = await target(kind, randomUUID().slice(0, 8), sqsEndpoint);
  const bus = await open();
  const publishedAt = new Map<string, number>();
  const lags: number[] = [];
  let handled = 0;
  try {
    const subscription = await bus.subscribe({ ...consumers[0]!, leaseMs: 30_000, concurrency: 64 }, async ({ event: e }) => {
      const at = publishedAt.get(e.id);
      if (at !== undefined) lags.push(performance.now() - at);
      handled += 1;
      return { kind: 'ack' };
    });

    const events = Array.from({ length: EVENTS }, event);
    const started = performance.now();
    for (let i = 0; i < events.length; i += 500) await bus.publish(events.slice(i, i + 500));
    const published = performance.now();
    const deadline = Date.now() + 300_000;
    while (handled < EVENTS && Date.now() < deadline) await sleep(10);
    const throughput = Math.round((handled / (performance.now() - started)) * 1000);
    const publishRate = Math.round((EVENTS / (published - started)) * 1000);

    lags.length = 0;
    handled = 0;
    const steady = Math.round(RATE * SECONDS);
    const batch = Math.max(1, Math.round(RATE / 50));
    for (let sent = 0; sent < steady; sent += batch) {
      const tick = performance.now();
      const list = Array.from({ length: Math.min(batch, steady - sent) }, event);
      for (const e of list) publishedAt.set(e.id, performance.now());
      await bus.publish(list);
      await sleep(Math.max(0, 20 - (performance.now() - tick)));
    }
    while (handled < steady && Date.now() < deadline + 60_000) await sleep(10);
    await subscription.close();
    const sorted = [...lags].sort((a, b) => a - b);
    return {
      bus: kind,
      'events/s (publish→ack)': handled < steady ? `${throughput} (incomplete)` : throughput,
      'publish only, events/s': publishRate,
      [`lag p50 ms @${RATE}/s`]: Number(percentile(sorted, 50).toFixed(1)),
      [`lag p99 ms @${RATE}/s`]: Number(percentile(sorted, 99).toFixed(1)),
    };
  } finally {
    await bus.close();
    await cleanup();
  }
}

let sqsServer: Server | undefined;
const sqsEndpoint = async () => {
  sqsServer ??= await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  return `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`;
};
const rows: Array<Record<string, string | number>> = [];
for (const kind of buses) {
  try {
    rows.push(await run(kind, sqsEndpoint));
  } catch (error) {
    rows.push({ bus: kind, error: String(error) });
  }
}
sqsServer?.close();
const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
const cell = (r: Record<string, unknown>, c: string) => String(r[c] ?? '');
process.stdout.write(`| ${columns.join(' | ')} |\n|${columns.map(() => ' --- ').join('|')}|\n`);
for (const r of rows) process.stdout.write(`| ${columns.map((c) => cell(r, c)).join(' | ')} |\n`);
process.exit(0);
