import { randomUUID } from 'node:crypto';
import { afterAll } from 'vitest';
import { connect } from 'nats';
import { NatsBus } from '../../src/platform/bus/nats/nats-bus.js';
import { defineBusContract } from './bus-contract.js';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const streams: string[] = [];

defineBusContract('nats', {
  leaseMs: 1000,
  isolate: () => {
    const tag = randomUUID().slice(0, 8);
    const stream = `TEST_${tag}`;
    streams.push(stream);
    const options = { url, stream, subjectRoot: `test-${tag}.events` };
    return Object.assign(() => NatsBus.connect(options), { child: () => ({ engine: 'nats', options }) });
  },
});

afterAll(async () => {
  const connection = await connect({ servers: url });
  const manager = await connection.jetstreamManager();
  for (const stream of streams) await manager.streams.delete(stream).catch(() => undefined);
  await connection.close();
});
