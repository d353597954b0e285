/**
 * The outbox relay: reads committed events from `event_log` in commit order and
 * publishes them to the bus, at least once.
 *
 * Why transaction ids and not positions: `position` comes from a sequence, taken when a
 * row is inserted, so a transaction holding position 7 may commit after one holding
 * position 8. A relay reading "position > last seen" would pass 7 by and never see it.
 * Instead each row carries its transaction id (`tx_id`), and the relay reads only rows
 * of transactions older than the oldest one still running
 * (`tx_id < pg_snapshot_xmin(pg_current_snapshot())`): those are settled, committed or
 * rolled back, so nothing can appear behind the checkpoint `(tx_id, position)` later.
 *
 * Order: publish a batch, then advance the checkpoint. A crash in between publishes the
 * batch again (consumers deduplicate through their inbox). With the postgres bus both
 * happen in one transaction, so each event is fanned out exactly once.
 *
 * One relay per bus is active: it holds a lease on its checkpoint row, renewed as it
 * works; the others stand by and take over when the lease runs out. A relay that lost
 * its lease cannot move the checkpoint (the update is fenced on the owner).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CloudEvent } from '../events/cloud-event.js';
import type { EventBus } from '../bus/event-bus.js';
import { PostgresBus, publishIn, wakeLocalSubscribers } from '../bus/postgres/postgres-bus.js';
import { asBackgroundWork } from '../db/connect.js';
import { onCommittedWrite } from '../db/committed-writes.js';
import { toCloudEvent, type OutboxRow } from '../events/event-log.js';
import type { Database } from '../db/schema.js';
import { IdlePoller, OutageLog } from '../logging/polling.js';

export interface OutboxRelayOptions {
  /** Checkpoint name; default the bus name, so each bus has its own position. */
  name?: string;
  batchSize?: number;
  /** Leadership lease (ms); a stand-by relay takes over this long after the leader stops. */
  leaseMs?: number;
  pollMinMs?: number;
  pollMaxMs?: number;
  logger?: Logger;
  /** Called after a batch is published and before the checkpoint moves (tests inject crashes here). */
  afterPublish?: (events: readonly CloudEvent[]) => Promise<void>;
}

interface Checkpoint {
  tx_id: string;
  position: number;
}

/** Thrown inside the relay's transaction to roll its fan-out back when the lease is gone. */
class LeaseLost extends Error {}

export class OutboxRelay {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #name: string;
  readonly #poller: IdlePoller;
  #running = false;
  #loop: Promise<void> | undefined;
  #leader = false;
  #unwatch: (() => void) | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: EventBus,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.#name = options.name ?? bus.name;
    this.#poller = new IdlePoller({ minMs: options.pollMinMs ?? 5, maxMs: options.pollMaxMs ?? 100 });
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    // Events this process commits wake the relay at once (any use case, consumer or
    // tool: the database driver sees the commit); other processes' are found by polling.
    // The wake waits for the committing caller's own continuation: on PGlite the relay's
    // batch would otherwise take the one session before the request that committed can
    // finish (and answer), and the file it made waits behind every consumer's work.
    this.#unwatch = onCommittedWrite(this.db, 'event_log', () => void setImmediate(() => this.#poller.wake()));
    // Batches run under the background query budget, not a request's.
    this.#loop = asBackgroundWork(() => this.#run());
  }

  /** Stops after the batch in hand and gives the lease up, so a stand-by takes over at once. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#poller.wake();
    await this.#loop;
    await this.db
      .updateTable('outbox_relay_checkpoints')
      .set({ owner: null, lease_until: null })
      .where('name', '=', this.#name)
      .where('owner', '=', this.owner)
      .execute()
      .catch(() => undefined);
    this.#leader = false;
  }

  /** Nudges an idle relay (commits of this process do it themselves, see `start`). */
  wake(): void {
    this.#poller.wake();
  }

  /**
   * One step: take or renew the lease, publish the next batch, advance the checkpoint.
   * Returns the number of events published, or -1 when another relay holds the lease.
   */
  async relayOnce(): Promise<number> {
    const checkpoint = await this.#acquire();
    if (!checkpoint) return -1;
    const rows = await this.#readBatch(checkpoint);
    if (rows.length === 0) return 0;
    const events = rows.map(toCloudEvent);
    const last = rows[rows.length - 1] as OutboxRow;
    if (this.options.logger?.isLevelEnabled('debug')) {
      const first = rows[0] as OutboxRow;
      this.options.logger.debug(
        { relay: this.#name, from: checkpoint, first: { tx_id: first.tx_id, position: first.position }, last: { tx_id: last.tx_id, position: last.position }, count: rows.length },
        'relaying a batch',
      );
    }
    if (this.bus instanceof PostgresBus && !this.options.afterPublish) {
      // Same database: fan out and move the checkpoint in one commit. Fan-out first, as on
      // a broker: were the checkpoint's move ever to outlive a failed fan-out, events would
      // be skipped for good; the other way round they are only published twice (and the
      // lease fences the move, rolling the fan-out back with it when lost).
      const moved = await this.db.transaction().execute(async (tx) => {
        await publishIn(tx, events);
        const ok = await this.#advance(tx, last, rows.length);
        if (!ok) throw new LeaseLost();
        return ok;
      }).catch((error: unknown) => {
        if (error instanceof LeaseLost) return false;
        throw error;
      });
      if (moved) wakeLocalSubscribers(this.db, events);
      else this.#lostLease();
      return moved ? rows.length : -1;
    }
    await this.bus.publish(events);
    await this.options.afterPublish?.(events);
    if (!(await this.#advance(this.db, last, rows.length))) {
      this.#lostLease();
      return -1;
    }
    return rows.length;
  }

  /** Committed events not yet relayed, and the age of the oldest (s). */
  async backlog(): Promise<{ count: number; oldestAgeSeconds: number }> {
    const { rows } = await sql<{ count: number | string; oldest: number | string | null }>`
      SELECT count(*) AS count, EXTRACT(EPOCH FROM (clock_timestamp() - min(e.created_at)))::float8 AS oldest
      FROM event_log e
      LEFT JOIN outbox_relay_checkpoints c ON c.name = ${this.#name}
      WHERE (e.tx_id, e.position) > (COALESCE(c.tx_id, '0'::xid8), COALESCE(c.position, 0))`.execute(this.db);
    const row = rows[0];
    return { count: Number(row?.count ?? 0), oldestAgeSeconds: Number(row?.oldest ?? 0) };
  }

  async #run(): Promise<void> {
    const log = this.options.logger;
    const relay = this.#name;
    // An outage is logged when it starts and when it ends, not at every retry.
    const outage = new OutageLog({
      down: (error) => log?.error({ err: error, relay }, 'outbox relay step failed; retrying until it succeeds'),
      up: (outage) => log?.info({ relay, ...outage }, 'outbox relay works again'),
    });
    let failures = 0;
    while (this.#running) {
      try {
        const published = await this.relayOnce();
        failures = 0;
        outage.succeeded();
        if (published > 0) {
          this.#poller.busy();
          continue;
        }
        if (published < 0) {
          // Stand-by: check the lease now and then.
          await sleep(Math.min(1000, (this.options.leaseMs ?? 10_000) / 4));
          continue;
        }
        await this.#poller.idle();
      } catch (error) {
        failures++;
        outage.failed(error);
        // Short enough that the relay resumes within a second of the database's return.
        if (this.#running) await sleep(Math.min(1000, 50 * 2 ** Math.min(failures, 5)));
      }
    }
  }

  async #acquire(): Promise<Checkpoint | undefined> {
    await this.db
      .insertInto('outbox_relay_checkpoints')
      .values({ name: this.#name })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const leaseSeconds = (this.options.leaseMs ?? 10_000) / 1000;
    const { rows } = await sql<Checkpoint>`
      UPDATE outbox_relay_checkpoints
      SET owner = ${this.owner}, lease_until = clock_timestamp() + make_interval(secs => ${leaseSeconds})
      WHERE name = ${this.#name}
        AND (owner IS NULL OR owner = ${this.owner} OR lease_until IS NULL OR lease_until < clock_timestamp())
      RETURNING tx_id::text AS tx_id, position`.execute(this.db);
    const row = rows[0];
    if (row && !this.#leader) this.options.logger?.info({ relay: this.#name, owner: this.owner }, 'outbox relay is active');
    this.#leader = row !== undefined;
    return row;
  }

  async #readBatch(checkpoint: Checkpoint): Promise<OutboxRow[]> {
    const { rows } = await sql<OutboxRow>`
      SELECT id, position, tx_id::text AS tx_id, event_type, aggregate_id::text AS aggregate_id, data, metadata, created_by
      FROM event_log
      WHERE (tx_id, position) > (${checkpoint.tx_id}::xid8, ${checkpoint.position}::bigint)
        AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY tx_id, position
      LIMIT ${this.options.batchSize ?? 500}`.execute(this.db);
    return rows;
  }

  async #advance(db: Kysely<Database>, last: OutboxRow, count: number): Promise<boolean> {
    const result = await sql`
      UPDATE outbox_relay_checkpoints
      SET tx_id = ${last.tx_id}::xid8, position = ${last.position}, relayed_count = relayed_count + ${count},
          updated_at = clock_timestamp()
      WHERE name = ${this.#name} AND owner = ${this.owner}`.execute(db);
    return Number(result.numAffectedRows ?? 0) === 1;
  }

  #lostLease(): void {
    this.#leader = false;
    this.options.logger?.warn({ relay: this.#name }, 'outbox relay lost its lease; standing by');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
