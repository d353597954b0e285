/**
 * A consumer: a named handler of some event types (see the glossary in
 * src/platform/events/cloud-event.ts). The runtime gives `handle` a transaction that also
 * records the event in the consumer's inbox; everything the handler writes through it
 * commits together with that record, or not at all.
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
}
