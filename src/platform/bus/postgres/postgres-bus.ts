/**
 * The postgres bus: the EventBus port on tables of the service's own database, so it
 * needs no server of its own and runs on PGlite and PostgreSQL alike.
 *
 * - `publish` appends to `bus_events` (the durable stream) and, in the same
 *   transaction, one `bus_queue` row per subscribed consumer whose types match.
 * - A consumer subscribing for the first time is back-filled from `bus_events`; a
 *   table lock makes the back-fill and concurrent publishes see each other.
 * - Workers claim ready rows with `FOR UPDATE SKIP LOCKED` under a short lease
 *   (token + `lease_until`) renewed by a heartbeat while the handler runs, up to the
 *   subscriber's `leaseMs`; a row whose lease ran out (the worker crashed, stalled, or
 *   its handler hung past `leaseMs`) is claimed again with `attempt + 1`.
 * - Per-aggregate order: a row is handed out only when no earlier row of the same
 *   subject is still queued for that consumer (in hand, or waiting for a retry).
 * - Ack deletes and retry reschedules only `WHERE id = … AND lease_token = …`, so the
 *   late answer of a worker that lost its lease changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CloudEvent } from '../../events/cloud-event.js';
import type { Database } from '../../db/schema.js';
import type { IdlePoller } from '../../logging/polling.js';
import type { EventBus, Handler, SubscribeOptions, Subscription } from '../event-bus.js';
import { PostgresSubscription } from './postgres-subscription.js';

export interface PostgresBusOptions {
  /** Identifies this process in `lease_owner` (diagnostics only). */
  owner?: string;
  /**
   * Lease stored on a claimed row and renewed by the heartbeat while the handler runs
   * (default 5 s, never more than the subscriber's `leaseMs`): a crashed worker's rows
   * come back after this, while a live but hung handler keeps them until `leaseMs`.
   */
  heartbeatLeaseMs?: number;
  /** Renewal period; default a third of the stored lease. 0 turns renewal off (tests). */
  heartbeatMs?: number;
  /** Idle polling: first wait and ceiling (ms). Publishes in this process wake pollers at once. */
  pollMinMs?: number;
  pollMaxMs?: number;
  /** Most rows claimed in one statement. */
  claimBatch?: number;
  /** How long `bus_events` keeps events for consumers that subscribe later (ms); default 7 days. */
  retentionMs?: number;
  /** Where a subscriber reports that it cannot claim (once per outage) and that it can again. */
  logger?: Pick<Logger, 'error' | 'info'>;
}

export interface QueueStats {
  consumer: string;
  depth: number;
  /** Age of the oldest queued row (s); 0 when empty. */
  oldestAgeSeconds: number;
}


/** Pollers of this process, per database, with the event types each subscribed to: woken after a publish of one of them. */
const localPollers = new WeakMap<object, Map<IdlePoller, ReadonlySet<string>>>();

export class PostgresBus implements EventBus {
  readonly name = 'postgres';
  readonly ordered = true;
  readonly #owner: string;
  readonly #subscriptions = new Set<PostgresSubscription>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: PostgresBusOptions = {},
  ) {
    this.#owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  async publish(events: readonly CloudEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute((tx) => publishIn(tx, events));
    wakeLocalSubscribers(this.db, events);
  }

  async subscribe(options: SubscribeOptions, handler: Handler): Promise<Subscription> {
    await this.db.transaction().execute(async (tx) => {
      // Waits for publishes in flight (they hold ROW EXCLUSIVE on bus_events) and holds
      // new ones back until this commits: the back-fill misses nothing, repeats nothing.
      await sql`LOCK TABLE bus_events IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
      const existing = await tx
        .selectFrom('bus_subscriptions')
        .select('event_types')
        .where('consumer', '=', options.consumer)
        .forUpdate()
        .executeTakeFirst();
      const types = [...new Set(options.types)].sort();
      if (!existing) {
        await tx.insertInto('bus_subscriptions').values({ consumer: options.consumer, event_types: types }).execute();
        await sql`
          INSERT INTO bus_queue (consumer, event_id, subject, event)
          SELECT ${options.consumer}, event_id, event->>'subject', event FROM bus_events
          WHERE event_type = ANY(${types}::text[]) ORDER BY seq`.execute(tx);
      } else if ([...existing.event_types].sort().join(',') !== types.join(',')) {
        // A changed type list applies to events published from now on.
        await tx
          .updateTable('bus_subscriptions')
          .set({ event_types: types, updated_at: sql`now()` })
          .where('consumer', '=', options.consumer)
          .execute();
      }
    });
    const subscription = new PostgresSubscription(this.db, this.#owner, options, handler, this.options, () => {
      this.#subscriptions.delete(subscription);
      localPollers.get(this.db)?.delete(subscription.poller);
    });
    this.#subscriptions.add(subscription);
    this.#pollers().set(subscription.poller, new Set(options.types));
    subscription.start();
    return subscription;
  }

  async ping(): Promise<void> {
    await sql`SELECT 1 FROM bus_subscriptions LIMIT 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
  }

  /** Depth and oldest age of each consumer's queue (metrics). */
  async queueStats(): Promise<QueueStats[]> {
    const { rows } = await sql<{ consumer: string; depth: number | string; oldest: number | string | null }>`
      SELECT s.consumer, count(q.id) AS depth,
             EXTRACT(EPOCH FROM (clock_timestamp() - min(q.enqueued_at)))::float8 AS oldest
      FROM bus_subscriptions s LEFT JOIN bus_queue q ON q.consumer = s.consumer
      GROUP BY s.consumer ORDER BY s.consumer`.execute(this.db);
    return rows.map((r) => ({ consumer: r.consumer, depth: Number(r.depth), oldestAgeSeconds: Number(r.oldest ?? 0) }));
  }

  /** Drops stream entries older than the retention (queued rows keep their own copy). */
  async pruneStream(): Promise<number> {
    const retentionMs = this.options.retentionMs ?? 7 * 24 * 3600 * 1000;
    const result = await sql`
      DELETE FROM bus_events WHERE published_at < clock_timestamp() - make_interval(secs => ${retentionMs / 1000})`.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }

  #pollers(): Map<IdlePoller, ReadonlySet<string>> {
    let pollers = localPollers.get(this.db);
    if (!pollers) {
      pollers = new Map();
      localPollers.set(this.db, pollers);
    }
    return pollers;
  }
}

/**
 * Fans events out to the queue inside the caller's transaction. The relay uses it in
 * embedded mode to publish and advance its checkpoint in one commit.
 */
export async function publishIn(tx: Kysely<Database>, events: readonly CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  const payload = JSON.stringify(events);
  await sql`
    WITH input AS (
      SELECT e AS event, ord FROM jsonb_array_elements(${payload}::jsonb) WITH ORDINALITY AS x(e, ord)
    ), stored AS (
      INSERT INTO bus_events (event_id, event_type, event)
      SELECT event->>'id', event->>'type', event FROM input ORDER BY ord
    )
    INSERT INTO bus_queue (consumer, event_id, subject, event)
    SELECT s.consumer, i.event->>'id', i.event->>'subject', i.event
    FROM input i JOIN bus_subscriptions s ON (i.event->>'type') = ANY(s.event_types)
    ORDER BY i.ord, s.consumer`.execute(tx);
}

/**
 * Wakes the pollers of this process that subscribed to one of the events' types (all of
 * them without `events`), after a commit made outside `PostgresBus.publish`. The others
 * would claim nothing: on PGlite each claim is a transaction on the one session, so
 * waking them only puts the woken consumers' claims behind theirs.
 */
export function wakeLocalSubscribers(db: object, events?: readonly CloudEvent[]): void {
  const pollers = localPollers.get(db);
  if (!pollers) return;
  const types = events && new Set(events.map((e) => e.type));
  for (const [poller, subscribed] of pollers) {
    if (!types || [...types].some((type) => subscribed.has(type))) poller.wake();
  }
}
