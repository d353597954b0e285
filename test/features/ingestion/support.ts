/**
 * Ingestion test helpers: the catalog harness with a creator's ingest key and a live
 * placement, the event pipeline (relay → postgres bus → campaign matcher) on the same
 * database, and event builders.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { LightMyRequestResponse } from 'fastify';
import { PostgresBus } from '../../../src/platform/bus/postgres/postgres-bus.js';
import { ConsumerRuntime } from '../../../src/platform/consumers/consumer-runtime.js';
import { OutboxRelay } from '../../../src/platform/outbox/outbox-relay.js';
import { ingestionConsumers } from '../../../src/features/ingestion/index.js';
import type { Harness } from '../../http/catalog/support.js';
import { eventually } from '../../events/support.js';

export { eventually };

/** A key of `creator` made through the API. */
export async function newKey(h: Harness, who: 'creator' | 'otherCreator' = 'creator'): Promise<{ id: string; key: string }> {
  const res = await h.call(who, { method: 'POST', url: '/v1/ingest-keys', body: { name: 'player' } });
  if (res.statusCode !== 201) throw new Error(`creating a key answered ${res.statusCode}: ${res.body}`);
  return res.json();
}

/** Posts `body` to /v1/events with `key`. */
export function postEvents(h: Harness, key: string, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return h.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json', 'x-nedlia-key': key, ...headers }, payload: JSON.stringify(body) });
}

export const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

export function playback(placement: { placementId: string; videoId: string }, type: 'impression' | 'click' | 'view_start' | 'view_end' = 'impression', extra: Record<string, unknown> = {}) {
  return { id: randomUUID(), type, placement_id: placement.placementId, video_id: placement.videoId, occurred_at: ago(60_000), ...extra };
}

/** The relay and the matcher running on the harness's database (postgres bus). */
export async function startPipeline(h: Harness): Promise<{ stop(): Promise<void> }> {
  const logger = pino({ level: 'silent' });
  const bus = new PostgresBus(h.database.db, { pollMaxMs: 20 });
  const relay = new OutboxRelay(h.database.db, bus, { pollMaxMs: 20 });
  const runtime = new ConsumerRuntime({ db: h.database.db, bus, logger, retry: { baseDelayMs: 20, maxDelayMs: 100 } });
  await runtime.start(ingestionConsumers);
  relay.start();
  return {
    async stop() {
      await relay.stop();
      await runtime.stop();
      await bus.close();
    },
  };
}

/** Waits until the matcher applied every accepted batch. */
export async function drained(h: Harness, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => {
    const row = await h.database.db.selectFrom('ingest_batches').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n) === 0;
  }, timeoutMs, 'the matcher to apply every batch');
}
