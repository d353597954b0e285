/**
 * One consumer's subscription to the postgres bus (see postgres-bus.ts): claims ready
 * rows of `bus_queue` under a lease, hands them to the handler with bounded
 * concurrency, renews the leases of rows in hand, and acks (batched) or reschedules,
 * each fenced on the row's lease token.
 */
import { sql, type Kysely } from 'kysely';
import type { CloudEvent } from '../../events/cloud-event.js';
import type { Database } from '../../db/schema.js';
import { IdlePoller, OutageLog } from '../../logging/polling.js';
import type { Delivery, Handler, Outcome, SubscribeOptions, Subscription } from '../event-bus.js';
import type { PostgresBusOptions } from './postgres-bus.js';

interface ClaimedRow {
  id: number;
  event: CloudEvent;
  attempt: number;
  lease_token: string;
}

export class PostgresSubscription implements Subscription {
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
  readonly #heartbeatOutage: OutageLog;

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
    this.#heartbeatOutage = new OutageLog({
      down: (error) => logger?.error({ err: error, consumer }, 'postgres bus cannot renew the leases of deliveries in hand'),
      up: (outage) => logger?.info({ consumer, ...outage }, 'postgres bus renews leases again'),
    });
  }

  start(): void {
    const heartbeatMs = this.busOptions.heartbeatMs ?? Math.max(50, Math.floor(this.#storedLeaseMs() / 3));
    if (heartbeatMs > 0) {
      // A failed renewal is an outage like a failed claim: reported once, and the rows'
      // leases may run out meanwhile (they are then delivered again, fenced on their token).
      this.#heartbeat = setInterval(
        () => void this.#renew().then(() => this.#heartbeatOutage.succeeded(), (error: unknown) => this.#heartbeatOutage.failed(error)),
        heartbeatMs,
      );
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
