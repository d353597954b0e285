/**
 * Glossary (the words used everywhere in the event side):
 * - event: a CloudEvent 1.0 saying that something happened to an aggregate
 *   (`com.nedlia.<aggregate>.<action>`), immutable once written;
 * - event log / outbox: the `event_log` table; a command appends its events there in
 *   the same transaction as its rows, so an event exists if and only if its change does;
 * - relay: reads committed events from the outbox in commit order and publishes them;
 * - bus: carries published events to consumers (Postgres tables, NATS, Redis, RabbitMQ, SQS);
 * - consumer: a named handler of some event types; each consumer gets every event of
 *   its types at least once;
 * - inbox: the record "consumer C processed event E", committed with C's effects, so a
 *   duplicate delivery changes nothing;
 * - dead letter: an event a consumer gave up on after its maximum attempts, kept with
 *   the error for inspection and replay;
 * - projection: a read model kept current by a consumer.
 */

/** A CloudEvent 1.0 in structured JSON form, with Nedlia's extensions. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  /** Unique per event; consumers deduplicate on it. */
  id: string;
  /** Where it happened, e.g. `/placements`. */
  source: string;
  /** `com.nedlia.<aggregate>.<action>` */
  type: string;
  /** RFC 3339 UTC. */
  time: string;
  /** The aggregate's id. */
  subject: string;
  datacontenttype: 'application/json';
  data: T;
  /** Major version of the data schema (extension). */
  schemaversion: number;
  /** The request (or causing event's correlation id) this event belongs to (extension). */
  correlationid?: string;
  /** W3C trace context of the producer (extension). */
  traceparent?: string;
  /** Who caused it: a user id (`sub`) or `system:<consumer>` (extension). */
  actor?: string;
}

/** `com.nedlia.placement.created` → `placement`. */
export function aggregateTypeOf(type: string): string {
  const parts = type.split('.');
  return parts.length >= 4 ? (parts[2] as string) : type;
}
