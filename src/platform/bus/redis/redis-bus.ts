/**
 * EventBus on Redis Streams.
 *
 * Keys (all under `prefix`, default `nedlia`):
 * - `<prefix>:events` — one stream, every event in publication order (XADD). Each consumer
 *   name is a consumer group created from `0`, so a late consumer reads the history; the
 *   group acks unhandled what it did not declare.
 * - `<prefix>:retry:<consumer>` — the consumer's retry stream (same group name), and
 *   `<prefix>:delayed:<consumer>` — a sorted set of retries by due time.
 *
 * Crash recovery: entries stay in the group's pending list until acked; every subscriber
 * reclaims those idle for ≥ the lease with XAUTOCLAIM. `attempt` is the entry's delivery
 * count from XPENDING (plus, on the retry stream, the attempt the retry was scheduled as).
 *
 * Retry with delay: a Lua script acks the entry and adds it to the delayed set scored by
 * the due time (Redis clock) in one step; another script moves due members to the retry
 * stream (XADD + ZREM, atomic). A retry is never lost between the two and is never
 * visible before its time. (Leaving it pending until idle ≥ delay would tie every delay
 * to the lease, which XAUTOCLAIM applies per call, not per entry.)
 *
 * Fencing: ack and retry check, in the same script, that the entry is still pending for
 * this subscriber with the same delivery count; a stale worker whose lease ran out (and
 * whose entry was reclaimed) changes nothing.
 *
 * Requirements: `maxmemory-policy noeviction` (any eviction policy can drop stream keys
 * silently), and `appendonly yes` with `appendfsync always` if an acknowledged publish must
 * survive a Redis crash (the default `everysec` may lose the last second).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CloudEvent } from '../../events/cloud-event.js';
import { OutageLog } from '../../logging/polling.js';
import { BROKER_CALL_TIMEOUT_MS, DeliveryDispatcher, reportToStderr, reportRestoreToStderr, sleep, type RestoreReport } from '../delivery-dispatcher.js';
import type { EventBus, Handler, Outcome, SubscribeOptions, Subscription } from '../event-bus.js';
import { FENCED_ACK, FENCED_RETRY, MOVE_DUE } from './redis-scripts.js';

export interface RedisBusOptions {
  /** e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  prefix?: string;
  onError?: (error: unknown) => void;
  /** Told when a subscription that was failing to read works again. */
  onRestore?: RestoreReport;
}

const BLOCK_MS = 250;

/**
 * Every command is bounded (a stalled link fails it instead of hanging), and so is the
 * connect. A command that timed out leaves its connection unusable (its answer may
 * still come and be taken for the next command's): `reconnectAfterTimeout` drops it.
 */
const CONNECTION_OPTIONS = { maxRetriesPerRequest: 3, commandTimeout: BROKER_CALL_TIMEOUT_MS, connectTimeout: BROKER_CALL_TIMEOUT_MS } as const;

function reconnectAfterTimeout(redis: Redis, error: unknown): void {
  if (error instanceof Error && /Command timed out/.test(error.message)) redis.disconnect(true);
}

type Entry = [id: string, fields: string[]];
interface Fetched {
  stream: string;
  id: string;
  fields: string[];
  deliveries: number;
}

export class RedisBus implements EventBus {
  readonly name = 'redis';
  readonly ordered = true;
  private closed = false;
  private readonly subscriptions = new Set<Subscription>();
  private readonly eventsKey: string;

  private constructor(
    private readonly redis: Redis,
    private readonly url: string,
    private readonly prefix: string,
    private readonly onError: (error: unknown) => void,
    private readonly onRestore: RestoreReport,
  ) {
    this.eventsKey = `${prefix}:events`;
  }

  static async connect(options: RedisBusOptions): Promise<RedisBus> {
    const redis = new Redis(options.url, { lazyConnect: true, ...CONNECTION_OPTIONS });
    redis.on('error', () => undefined); // surfaced by the failing command instead
    try {
      await redis.connect();
    } catch (cause) {
      redis.disconnect();
      throw new Error(`Redis: cannot connect to ${options.url}`, { cause });
    }
    return new RedisBus(redis, options.url, options.prefix ?? 'nedlia', options.onError ?? reportToStderr, options.onRestore ?? reportRestoreToStderr);
  }

  async publish(events: readonly CloudEvent[]): Promise<void> {
    if (this.closed) throw new Error('Redis bus is closed');
    if (events.length === 0) return;
    const pipeline = this.redis.multi();
    for (const event of events) pipeline.xadd(this.eventsKey, '*', 'event', JSON.stringify(event));
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await pipeline.exec();
    } catch (cause) {
      reconnectAfterTimeout(this.redis, cause);
      throw new Error(`Redis: XADD to ${this.eventsKey} failed`, { cause });
    }
    const failed = results?.find(([error]) => error !== null);
    if (!results || failed) throw new Error(`Redis: XADD to ${this.eventsKey} failed`, { cause: failed?.[0] });
  }

  async subscribe(options: SubscribeOptions, handler: Handler): Promise<Subscription> {
    if (this.closed) throw new Error('Redis bus is closed');
    const group = options.consumer;
    const retryKey = `${this.prefix}:retry:${group}`;
    const delayedKey = `${this.prefix}:delayed:${group}`;
    const me = `${group}-${process.pid}-${randomUUID().slice(0, 8)}`;
    for (const key of [this.eventsKey, retryKey]) {
      try {
        await this.redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
      } catch (error) {
        if (!String(error).includes('BUSYGROUP')) throw new Error(`Redis: cannot create group ${group} on ${key}`, { cause: error });
      }
    }
    // XREADGROUP BLOCK holds its connection, so each subscription reads on its own.
    const reader = new Redis(this.url, CONNECTION_OPTIONS);
    reader.on('error', () => undefined);
    const types = new Set(options.types);
    const dispatcher = new DeliveryDispatcher(options.concurrency, this.onError);
    const stopping = new AbortController();
    const cursors: Record<string, string> = { [this.eventsKey]: '0-0', [retryKey]: '0-0' };
    const reclaimEvery = Math.max(100, Math.floor(options.leaseMs / 4));
    let nextReclaim = 0;

    const settle = async (item: Fetched, outcome: Outcome): Promise<void> => {
      const common = [group, me, item.id, String(item.deliveries)];
      if (outcome.kind === 'ack') {
        await this.redis.eval(FENCED_ACK, 1, item.stream, ...common);
        return;
      }
      const attempt = attemptOf(item, retryKey) + 1;
      const member = JSON.stringify({ event: fieldOf(item.fields, 'event'), attempt, origin: `${item.stream}/${item.id}` });
      await this.redis.eval(FENCED_RETRY, 2, item.stream, delayedKey, ...common, String(Math.max(0, Math.round(outcome.delayMs))), member);
    };

    const handle = async (item: Fetched, event: CloudEvent): Promise<void> => {
      if (!types.has(event.type)) return settle(item, { kind: 'ack' });
      let outcome: Outcome;
      try {
        outcome = await handler({ event, attempt: attemptOf(item, retryKey) });
      } catch (cause) {
        // Like a crash: stays pending, reclaimed after the lease.
        this.onError(new Error(`Redis: handler of ${group} threw on ${event.id}`, { cause }));
        return;
      }
      await settle(item, outcome);
    };

    const dispatch = (items: Fetched[]): void => {
      for (const item of items) {
        let event: CloudEvent;
        try {
          event = JSON.parse(fieldOf(item.fields, 'event')) as CloudEvent;
        } catch (cause) {
          // Corrupt entry: ack it (it stays in the stream for inspection), report it.
          this.onError(new Error(`Redis: entry ${item.stream}/${item.id} is not a JSON CloudEvent; skipped`, { cause }));
          void settle(item, { kind: 'ack' }).catch(this.onError);
          continue;
        }
        dispatcher.run(event.subject, () => handle(item, event));
      }
    };

    const reclaim = async (limit: number): Promise<Fetched[]> => {
      await this.redis.eval(MOVE_DUE, 2, delayedKey, retryKey, String(100));
      const claimed: Fetched[] = [];
      for (const stream of [this.eventsKey, retryKey]) {
        if (claimed.length >= limit) break;
        const [next, entries] = (await this.redis.xautoclaim(
          stream, group, me, options.leaseMs, cursors[stream] ?? '0-0', 'COUNT', limit - claimed.length,
        )) as [string, Array<Entry | null>];
        cursors[stream] = next;
        const live = entries.filter((e): e is Entry => e !== null);
        if (live.length === 0) continue;
        const pending = this.redis.pipeline();
        for (const [id] of live) pending.xpending(stream, group, id, id, 1);
        const counts = (await pending.exec()) ?? [];
        live.forEach(([id, fields], i) => {
          const row = (counts[i]?.[1] as Array<[string, string, number, number]> | undefined)?.[0];
          // Gone from the list means another subscriber acked it meanwhile: nothing to do.
          if (row && row[1] === me) claimed.push({ stream, id, fields, deliveries: Number(row[3]) });
        });
      }
      return claimed;
    };

    // Reported when reading starts failing and when it works again, not at every retry.
    const outage = new OutageLog({
      down: (cause) => this.onError(new Error(`Redis: reading ${group} failed; retrying until it works`, { cause })),
      up: (outage) => this.onRestore({ consumer: group, ...outage }),
    });
    const loop = (async () => {
      while (!stopping.signal.aborted) {
        await dispatcher.waitForSlot(BLOCK_MS);
        if (dispatcher.free === 0 || stopping.signal.aborted) continue;
        try {
          if (Date.now() >= nextReclaim) {
            nextReclaim = Date.now() + reclaimEvery;
            const claimed = await reclaim(dispatcher.free);
            dispatch(claimed);
            if (dispatcher.free === 0) continue;
          }
          const block = Math.max(1, Math.min(BLOCK_MS, nextReclaim - Date.now()));
          const read = (await reader.xreadgroup(
            'GROUP', group, me, 'COUNT', dispatcher.free, 'BLOCK', block, 'STREAMS', this.eventsKey, retryKey, '>', '>',
          )) as Array<[string, Entry[]]> | null;
          for (const [stream, entries] of read ?? []) {
            dispatch(entries.map(([id, fields]) => ({ stream, id, fields, deliveries: 1 })));
          }
          outage.succeeded();
        } catch (cause) {
          if (stopping.signal.aborted) break;
          reconnectAfterTimeout(reader, cause);
          outage.failed(cause);
          await sleep(500, stopping.signal);
        }
      }
    })();

    const subscription: Subscription = {
      close: async () => {
        if (stopping.signal.aborted) return;
        stopping.abort();
        await loop;
        reader.disconnect();
        await dispatcher.drain(options.leaseMs);
        await this.forget(group, me, [this.eventsKey, retryKey]).catch(this.onError);
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Removes this subscriber from its groups if it holds nothing pending (else others reclaim it). */
  private async forget(group: string, me: string, streams: string[]): Promise<void> {
    for (const stream of streams) {
      const pending = (await this.redis.xpending(stream, group, '-', '+', 1, me)) as unknown[];
      if (pending.length === 0) await this.redis.xgroup('DELCONSUMER', stream, group, me);
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('Redis bus is closed');
    try {
      await this.redis.ping();
    } catch (cause) {
      reconnectAfterTimeout(this.redis, cause);
      throw new Error('Redis: ping failed', { cause });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function fieldOf(fields: string[], name: string): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] ?? '';
  return '';
}

/** Delivery count on the main stream; on the retry stream, the scheduled attempt plus redeliveries. */
function attemptOf(item: Fetched, retryKey: string): number {
  if (item.stream !== retryKey) return item.deliveries;
  return Number(fieldOf(item.fields, 'attempt')) + item.deliveries - 1;
}
