import { randomUUID } from 'node:crypto';
import { afterAll } from 'vitest';
import { Redis } from 'ioredis';
import { RedisBus } from '../../src/platform/bus/redis/redis-bus.js';
import { defineBusContract } from './bus-contract.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefixes: string[] = [];

defineBusContract('redis', {
  leaseMs: 1000,
  isolate: () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    prefixes.push(prefix);
    return Object.assign(() => RedisBus.connect({ url, prefix }), { child: () => ({ engine: 'redis', options: { url, prefix } }) });
  },
});

afterAll(async () => {
  const redis = new Redis(url);
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});
