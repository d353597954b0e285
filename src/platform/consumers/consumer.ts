/**
 * A consumer: a named handler of some event types (see the glossary in
 * src/platform/events/cloud-event.ts). The runtime gives `handle` a transaction that also
 * records the event in the consumer's inbox; everything the handler writes through it
 * commits together with that record, or not at all. A consumer may also declare
 * `onDeadLetter`, run after the runtime has dead-lettered one of its events, to leave
 * its own state final (a job marked failed instead of running forever).
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CloudEvent } from '../events/cloud-event.js';
import type { NewEvent } from '../events/event-log.js';
import type { Database } from '../db/schema.js';

export interface HandlerContext {
  /** Carries consumer, event id and type, correlation id and trace id on every line. */
  logger: Logger;
  /** 1 on the first delivery. */
  attempt: number;
  /** Appends follow-up events to the outbox in this transaction, with this event's correlation id and trace. */
  emit(events: readonly NewEvent[]): Promise<CloudEvent[]>;
  /** What the consumer's `prepare` answered (undefined without one). */
  prepared?: unknown;
}

/** What `prepare` gets: the database itself (no transaction is open), to write progress in short transactions of its own. */
export interface PrepareContext {
  db: Kysely<Database>;
  logger: Logger;
  attempt: number;
  /** The consumer's attempts before dead-lettering. */
  maxAttempts: number;
}

/**
 * Why an event went to the dead letters: `invalid` (it failed the registry's checks and
 * was never handled), `failed` (the handler or `prepare` failed on the last attempt),
 * `abandoned` (deliveries kept ending without an outcome, a worker crashing or its lease
 * running out, until the attempts were used up).
 */
export type DeadLetterCause = 'invalid' | 'failed' | 'abandoned';

/** What `onDeadLetter` gets. */
export interface DeadLetterContext {
  /** A transaction of the hook's own (the dead letter is already committed); its writes commit when the hook returns. */
  tx: Kysely<Database>;
  logger: Logger;
  cause: DeadLetterCause;
  /** The error stored with the dead letter. */
  error: string;
  /** Attempts made (those that ended without an outcome included). */
  attempts: number;
  /** Appends follow-up events to the outbox in `tx`, with the event's correlation id. */
  emit(events: readonly NewEvent[]): Promise<CloudEvent[]>;
}

export interface Consumer {
  /** Durable name: the queue / consumer group, the inbox key, the dead letters' owner. */
  name: string;
  /** Full CloudEvent types handled; events arrive upcast to the latest version. */
  types: readonly string[];
  /** Attempts before dead-lettering (default from the runtime's retry policy). */
  maxAttempts?: number;
  /** Deliveries handled at once per process (default 8). */
  concurrency?: number;
  /** How long a delivery may run without a heartbeat before it is redelivered (default 30 s). */
  leaseMs?: number;
  /**
   * Long work (downloads, child processes) done before the transaction opens, so that no
   * transaction stays open while it runs; its result is `context.prepared` in `handle`.
   * It runs again on a redelivery, so it must be safe to repeat. A delivery already in
   * the inbox skips it.
   */
  prepare?(event: CloudEvent, context: PrepareContext): Promise<unknown>;
  handle(event: CloudEvent, tx: Kysely<Database>, context: HandlerContext): Promise<void>;
  /**
   * Runs after one of this consumer's events was dead-lettered, in a transaction of its
   * own. The event is as delivered, not upcast (with cause `invalid` it failed the
   * registry's checks: read its data with care). It may run more than once for one event
   * (a delivery whose acknowledgement was lost comes again), so it must be idempotent.
   * If it throws, the dead letter stays recorded and the error is logged; only a lost
   * database connection makes the delivery come again (and the hook run again).
   */
  onDeadLetter?(event: CloudEvent, context: DeadLetterContext): Promise<void>;
}
