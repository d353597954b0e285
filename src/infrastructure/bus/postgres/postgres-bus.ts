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
import type { CloudEvent } from '../../../domain/events/cloud-event.js';
import type { Database } from '../../db/schema.js';
import { IdlePoller, OutageLog } from '../../polling.js';
import type { Delivery, EventBus, Handler, Outcome, SubscribeOptions, Subscription } from '../event-bus.js';

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

interface ClaimedRow {
  id: number;
  event: CloudEvent;
  attempt: number;
  lease_token: string;
}

/** Pollers of this process, per database, woken after each publish. */
const localPollers = new WeakMap<object, Set<IdlePoller>>();

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
    this.#wakeLocal();
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
    const subscription = new PostgresSubscription(this.db, this.#owner, options, handler, this.options, () =>
      this.#subscriptions.delete(subscription),
    );
    this.#subscriptions.add(subscription);
    this.#pollers().add(subscription.poller);
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

  #pollers(): Set<IdlePoller> {
    let set = localPollers.get(this.db);
    if (!set) {
      set = new Set();
      localPollers.set(this.db, set);
    }
    return set;
  }

  #wakeLocal(): void {
    for (const poller of localPollers.get(this.db) ?? []) poller.wake();
  }

  /** Forgets a closed subscription's poller. */
  static forget(db: object, poller: IdlePoller): void {
    localPollers.get(db)?.delete(poller);
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

/** Wakes pollers of this process after a commit made outside `PostgresBus.publish`. */
export function wakeLocalSubscribers(db: object): void {
  for (const poller of localPollers.get(db) ?? []) poller.wake();
}

class PostgresSubscription implements Subscription {
  readonly poller: IdlePoller;
  /** Rows in hand: lease token and the time (ms) past which the handler counts as hung. */
  readonly #inHand = new Map<number, { token: string; deadline: number }>();
  #running = true;
  #loop: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #tasks = new Set<Promise<void>>();
  #slotFreed: (() => void) | undefined;
  #acks: { id: number; token: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  #ackTimer: NodeJS.Timeout | undefined;
  readonly #outage: OutageLog;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly owner: string,
    private readonly options: SubscribeOptions,
    private readonly handler: Handler,
    private readonly busOptions: PostgresBusOptions,
    private readonly onClosed: () => void,
  ) {
    this.poller = new IdlePoller({ minMs: busOptions.pollMinMs ?? 5, maxMs: busOptions.pollMaxMs ?? 200 });
    const logger = busOptions.logger;
    const consumer = options.consumer;
    this.#outage = new OutageLog({
      down: (error) => logger?.error({ err: error, consumer }, 'postgres bus cannot claim deliveries; retrying until the database answers'),
      up: (outage) => logger?.info({ consumer, ...outage }, 'postgres bus claims deliveries again'),
    });
  }

  start(): void {
    const heartbeatMs = this.busOptions.heartbeatMs ?? Math.max(50, Math.floor(this.#storedLeaseMs() / 3));
    if (heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => void this.#renew().catch(() => undefined), heartbeatMs);
      this.#heartbeat.unref();
    }
    this.#loop = this.#run();
  }

  async close(): Promise<void> {
    if (!this.#running) return this.#loop;
    this.#running = false;
    this.poller.wake();
    this.#slotFreed?.();
    await this.#loop;
    // Drain: wait for deliveries in hand, but not past their deadline. A handler hung
    // beyond it has lost its lease (the row goes to another worker) and its late outcome
    // is fenced, so waiting longer would only hang the shutdown.
    const latest = Math.max(0, ...[...this.#inHand.values()].map((h) => h.deadline - Date.now()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#tasks]),
      new Promise((resolve) => (timer = setTimeout(resolve, latest + 100))),
    ]);
    clearTimeout(timer);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    PostgresBus.forget(this.db, this.poller);
    this.onClosed();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const free = this.options.concurrency - this.#tasks.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
        // Deliveries acked together free their slots together: claim for all of them at once.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      let rows: ClaimedRow[];
      try {
        rows = await this.#claim(Math.min(free, this.busOptions.claimBatch ?? 100));
        this.#outage.succeeded();
      } catch (error) {
        // The database is unreachable or busy: wait as if idle, then try again.
        this.#outage.failed(error);
        await this.poller.idle();
        continue;
      }
      if (rows.length === 0) {
        await this.poller.idle();
        continue;
      }
      this.poller.busy();
      for (const row of rows) {
        this.#inHand.set(row.id, { token: row.lease_token, deadline: Date.now() + this.options.leaseMs });
        const task = this.#deliver(row).finally(() => {
          this.#tasks.delete(task);
          this.#inHand.delete(row.id);
          const freed = this.#slotFreed;
          this.#slotFreed = undefined;
          freed?.();
        });
        this.#tasks.add(task);
      }
    }
  }

  async #claim(limit: number): Promise<ClaimedRow[]> {
    return this.db.transaction().execute((tx) => this.#claimIn(tx, limit));
  }

  async #claimIn(tx: Kysely<Database>, limit: number): Promise<ClaimedRow[]> {
    // A queue table churns faster than its statistics: without them the planner reads
    // every row of the consumer, checks each for an earlier one of its subject and sorts,
    // O(queue) per claim. Walking the (consumer, id) index in order stops after `limit`.
    await sql.raw('SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off').execute(tx);
    const { rows } = await sql<ClaimedRow>`
      WITH next AS (
        SELECT q.id FROM bus_queue q
        WHERE q.consumer = ${this.options.consumer}
          AND q.available_at <= clock_timestamp()
          AND (q.lease_until IS NULL OR q.lease_until < clock_timestamp())
          AND NOT EXISTS (
            SELECT 1 FROM bus_queue e
            WHERE e.consumer = q.consumer AND e.subject = q.subject AND e.id < q.id)
        ORDER BY q.id
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE bus_queue q
      SET attempt = q.attempt + 1, lease_owner = ${this.owner}, lease_token = gen_random_uuid(),
          lease_until = clock_timestamp() + make_interval(secs => ${this.#storedLeaseMs() / 1000})
      FROM next WHERE q.id = next.id
      RETURNING q.id, q.event, q.attempt, q.lease_token::text AS lease_token`.execute(tx);
    return rows.sort((a, b) => a.id - b.id);
  }

  async #deliver(row: ClaimedRow): Promise<void> {
    const delivery: Delivery = { event: row.event, attempt: row.attempt };
    let outcome: Outcome;
    try {
      outcome = await this.handler(delivery);
    } catch {
      // The port says handlers answer with an outcome; a throw is treated as "try later".
      outcome = { kind: 'retry', delayMs: this.options.leaseMs };
    }
    try {
      await this.#complete(row, outcome);
    } catch {
      // Unreachable database: the lease runs out and the row is delivered again.
    }
  }

  async #complete(row: ClaimedRow, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'ack') {
      await this.#ack(row);
      // The next event of the same subject may now be handed out.
      this.poller.wake();
      return;
    }
    await sql`
      UPDATE bus_queue
      SET available_at = clock_timestamp() + make_interval(secs => ${Math.max(0, outcome.delayMs) / 1000}),
          lease_owner = NULL, lease_token = NULL, lease_until = NULL
      WHERE id = ${row.id} AND lease_token = ${row.lease_token}::uuid`.execute(this.db);
  }

  /**
   * Acks of deliveries finishing together are deleted in one statement (one commit
   * instead of many); each is still fenced on its own (id, lease token).
   */
  #ack(row: ClaimedRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#acks.push({ id: row.id, token: row.lease_token, resolve, reject });
      if (this.#acks.length >= 100) void this.#flushAcks();
      else this.#ackTimer ??= setTimeout(() => void this.#flushAcks(), 2);
    });
  }

  async #flushAcks(): Promise<void> {
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    const batch = this.#acks.splice(0);
    if (batch.length === 0) return;
    try {
      const held = JSON.stringify(batch.map(({ id, token }) => ({ id, token })));
      await sql`
        DELETE FROM bus_queue q USING jsonb_to_recordset(${held}::jsonb) AS a(id bigint, token uuid)
        WHERE q.id = a.id AND q.lease_token = a.token`.execute(this.db);
      for (const a of batch) a.resolve();
    } catch (error) {
      for (const a of batch) a.reject(error);
    }
  }

  #storedLeaseMs(): number {
    return Math.min(this.options.leaseMs, this.busOptions.heartbeatLeaseMs ?? 5000);
  }

  /** Extends the leases of rows in hand, but never past their handler's deadline. */
  async #renew(): Promise<void> {
    const now = Date.now();
    const held = [...this.#inHand]
      .filter(([, h]) => h.deadline > now)
      .map(([id, h]) => ({ id, token: h.token, ms: Math.min(this.#storedLeaseMs(), h.deadline - now) }));
    if (held.length === 0) return;
    await sql`
      UPDATE bus_queue q
      SET lease_until = clock_timestamp() + make_interval(secs => h.ms / 1000.0)
      FROM jsonb_to_recordset(${JSON.stringify(held)}::jsonb) AS h(id bigint, token uuid, ms float8)
      WHERE q.id = h.id AND q.lease_token = h.token`.execute(this.db);
  }
}
