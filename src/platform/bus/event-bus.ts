/**
 * The bus port. An adapter carries CloudEvents from the relay to named consumers.
 * It is deliberately small: one file per engine implements it (`bus/<engine>/`),
 * and one contract suite (test/bus/bus-contract.ts) runs against every adapter.
 *
 * Semantics every adapter keeps:
 * - `publish` resolves only once the events are durable in the bus (at-least-once);
 * - each subscribed consumer (by name) receives every published event whose type it
 *   declared, even if it subscribes after publication (durable per-consumer queue),
 *   and several processes subscribing with the same consumer name share the work;
 * - a delivery whose handler neither acks nor schedules a retry (crash, hang past the
 *   lease) is delivered again with `attempt` increased;
 * - the handler's outcome decides: `ack` removes it; `retry` makes it visible again
 *   after `delayMs` with `attempt + 1`.
 * Dead-lettering is not the adapter's job: the consumer runtime records the dead
 * letter in the database and then acks.
 */
import type { CloudEvent } from '../events/cloud-event.js';

export interface Delivery {
  event: CloudEvent;
  /** 1 on first delivery, then 2, 3, … (counting crashes and retries). */
  attempt: number;
}

export type Outcome = { kind: 'ack' } | { kind: 'retry'; delayMs: number };

export interface SubscribeOptions {
  /** Consumer name: the durable queue / consumer group. */
  consumer: string;
  /** Full CloudEvent types this consumer handles. */
  types: readonly string[];
  /** How long a delivery may stay unacknowledged before it is redelivered. */
  leaseMs: number;
  /** Deliveries handled at once by this subscriber. */
  concurrency: number;
}

export type Handler = (delivery: Delivery) => Promise<Outcome>;

export interface Subscription {
  /** Stops taking new deliveries and waits for those in hand to finish. */
  close(): Promise<void>;
}

export interface EventBus {
  /** `postgres`, `nats`, `redis`, `rabbitmq`, `sqs`. */
  readonly name: string;
  /** Whether the engine keeps per-aggregate (subject) order for one consumer. */
  readonly ordered: boolean;
  publish(events: readonly CloudEvent[]): Promise<void>;
  subscribe(options: SubscribeOptions, handler: Handler): Promise<Subscription>;
  /** Throws if the bus cannot be reached (readiness check). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
