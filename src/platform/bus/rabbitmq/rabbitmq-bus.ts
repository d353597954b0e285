/**
 * EventBus on RabbitMQ (AMQP 0-9-1).
 *
 * Topology (all names under `prefix`, default `nedlia`):
 * - `<prefix>.events`: topic exchange; an event is published with routing key = its type,
 *   persistent, and `publish` resolves on the publisher confirms.
 * - `<prefix>.<consumer>`: one durable quorum queue per consumer, bound once per declared
 *   type; subscribers with the same name share it (prefetch = concurrency, manual ack).
 *   A queue only receives what is published after it exists, so the consumers of the
 *   deployment (`consumers` option) are declared before the first publish; a consumer that
 *   is not declared receives only what follows its first subscription. Bindings are
 *   only ever added: a type a consumer stops handling is unbound by hand.
 * - `<prefix>.dead-letter`: direct exchange, and `<prefix>.<consumer>.dead` queues. The
 *   consumer runtime dead-letters in the database; this is the broker's backstop: a quorum
 *   queue drops a message at `x-delivery-limit` unless a dead-letter exchange is set.
 * - `<prefix>.<consumer>.retry.<ms>`: retry queues. A retry publishes a copy there with a
 *   per-message TTL of the delay and `x-attempt` = next attempt, then acks the original;
 *   on expiry the copy is dead-lettered back to the consumer's queue. TTLs expire only at a
 *   queue's head, so each queue holds delays in one power-of-two bucket (ms in (B/2, B]):
 *   a short delay can then wait behind a longer one by at most B/2 (< its own delay).
 *   Dead-lettering uses `at-least-once` (quorum queues, `reject-publish` overflow).
 *
 * Leases: RabbitMQ redelivers only when a channel closes, so the adapter enforces the
 * lease itself: a delivery not settled within `leaseMs` is nacked with requeue (the
 * handler's late outcome is then ignored). `attempt` = `x-attempt` (1 if absent) + the
 * quorum queue's `x-delivery-count` (returns after crashes, closes and lease expiries).
 *
 * Connection loss: amqplib does not reconnect by itself, so the bus does. A "session" is
 * one connection with its publisher confirm channel. When the connection, the publisher
 * channel or a subscription's channel closes unexpectedly, the session is dropped (its
 * connection closed, so every channel of it goes), the loss is reported once through
 * `onError`, and the bus reconnects with exponential backoff (100 ms doubling to 10 s,
 * until `close()`): a fresh connection and publisher channel, the exchanges asserted
 * again, and every live subscription consuming again on a fresh channel (same consumer,
 * types, prefetch and handler). `onRestore` reports the end of the outage. Meanwhile
 * `publish`, `subscribe` and `ping` reject at once (the outbox relay retries what was not
 * published). Deliveries that were unacked on the lost channels are requeued by the
 * broker and come again (with `x-delivery-count` increased); the handlers still running
 * on them finish, but their ack or retry is dropped and their lease timers cleared.
 */
import { hostname } from 'node:os';
import type { ConsumeMessage } from 'amqplib';
import type { CloudEvent } from '../../events/cloud-event.js';
import { BROKER_CALL_TIMEOUT_MS, BrokerTimeoutError, reportToStderr, sleep, withDeadline } from '../delivery-dispatcher.js';
import type { EventBus, Handler, SubscribeOptions, Subscription } from '../event-bus.js';
import { declareConsumer, failureOf, openSession, publishEvents, publishRetryCopy, queueOf, withChannel, type Topology } from './rabbitmq-session.js';
import { LiveSubscription, ignore, type Session, type SubscriptionHost } from './rabbitmq-subscription.js';

export interface RabbitMqBusOptions {
  /** e.g. `amqp://guest:guest@127.0.0.1:5672/`. */
  url: string;
  prefix?: string;
  /** The deployment's consumers, declared before the first publish. */
  consumers?: ReadonlyArray<Pick<SubscribeOptions, 'consumer' | 'types'>>;
  /** Broker backstop: returns of one message before it goes to `<consumer>.dead`. */
  deliveryLimit?: number;
  /** Shown by the broker (`connection_name`); default `<prefix> <host>:<pid>`. */
  connectionName?: string;
  onError?: (error: unknown) => void;
  /** Called when a lost connection is back (default: one line on stderr). */
  onRestore?: (info: RestoreInfo) => void;
}

export interface RestoreInfo {
  /** Reconnection attempts it took, the successful one included. */
  attempts: number;
  /** How long the bus was without a connection. */
  downtimeMs: number;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 10_000;
interface Outage {
  since: number;
  cause: Error;
  /** Reconnection attempts so far. */
  attempts: number;
  /** Why the latest attempt failed. */
  lastFailure: unknown;
}

type ResolvedOptions = Required<Omit<RabbitMqBusOptions, 'url'>>;

export class RabbitMqBus implements EventBus {
  readonly name = 'rabbitmq';
  readonly ordered = true;
  private stopping = false;
  private closing: Promise<void> | undefined;
  /** The connected session; undefined while reconnecting (and after close). */
  private session: Session | undefined;
  private outage: Outage | undefined;
  private recovery: Promise<void> | undefined;
  private readonly stopRecovery = new AbortController();
  private readonly subscriptions = new Set<LiveSubscription>();
  private readonly topology: Topology;
  private readonly host: SubscriptionHost = {
    queueOf: (consumer) => queueOf(this.topology, consumer),
    declareConsumer: (session, consumer, types) => declareConsumer(this.topology, session, consumer, types),
    lost: (session) => this.lost(session),
    publishRetry: (...args) => this.publishRetry(...args),
    onError: (error) => this.options.onError(error),
  };

  private constructor(
    private readonly url: string,
    private readonly options: ResolvedOptions,
  ) {
    this.topology = {
      prefix: options.prefix,
      exchange: `${options.prefix}.events`,
      deadExchange: `${options.prefix}.dead-letter`,
      deliveryLimit: options.deliveryLimit,
    };
  }

  static async connect(options: RabbitMqBusOptions): Promise<RabbitMqBus> {
    const prefix = options.prefix ?? 'nedlia';
    const bus = new RabbitMqBus(options.url, {
      prefix,
      consumers: options.consumers ?? [],
      deliveryLimit: options.deliveryLimit ?? 1000,
      connectionName: options.connectionName ?? `${prefix} ${hostname()}:${process.pid}`,
      onError: options.onError ?? reportToStderr,
      onRestore: options.onRestore ?? reportRestoreToStderr,
    });
    bus.session = await bus.openSession();
    return bus;
  }

  /** Connects, opens the publisher channel and asserts the exchanges. */
  private openSession(): Promise<Session> {
    return openSession(this.url, this.topology, this.options.connectionName, (session: Session) => this.lost(session));
  }

  /**
   * A channel or the connection of `session` closed without being asked to. If it is the
   * connected session, drop it and start reconnecting.
   */
  private lost(session: Session): void {
    if (session.dead) return;
    session.dead = true;
    if (this.session !== session || this.stopping) return;
    this.session = undefined;
    // A channel alone may have closed: close the connection so that everything of this
    // session goes (the broker requeues what its consumer channels had not acked).
    void session.connection.close().catch(ignore);
    // The channels close before the connection reports why: read the cause after both.
    queueMicrotask(() => {
      if (this.stopping) return;
      const cause = failureOf(session);
      this.outage = { since: Date.now(), cause, attempts: 0, lastFailure: undefined };
      this.recovery = this.reconnect().catch((error: unknown) => this.report(() => this.options.onError(error)));
      this.report(() => this.options.onError(new Error('RabbitMQ connection lost; reconnecting', { cause })));
    });
  }

  private async reconnect(): Promise<void> {
    let delay = RECONNECT_MIN_MS;
    while (!this.stopping) {
      await sleep(delay, this.stopRecovery.signal);
      if (this.stopping) return;
      const outage = this.outage as Outage;
      outage.attempts += 1;
      let session: Session | undefined;
      try {
        session = await this.openSession();
        for (const subscription of this.subscriptions) {
          if (this.stopping || session.dead) break;
          await subscription.attach(session);
        }
        if (this.stopping) {
          session.dead = true;
          await session.connection.close().catch(ignore);
          return;
        }
        if (session.dead) throw failureOf(session);
        this.session = session;
        this.outage = undefined;
        this.report(() => this.options.onRestore({ attempts: outage.attempts, downtimeMs: Date.now() - outage.since }));
        return;
      } catch (error) {
        outage.lastFailure = error;
        if (session) {
          session.dead = true;
          await session.connection.close().catch(ignore);
        }
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      }
    }
  }

  /** Runs a reporting callback; one that throws must not stop the reconnection. */
  private report(callback: () => void): void {
    try {
      callback();
    } catch {
      // nothing sensible left to report it to
    }
  }

  /** The connected session, or a prompt error while reconnecting or closed. */
  private current(): Session {
    if (this.stopping) throw new Error('RabbitMQ bus is closed');
    const session = this.session;
    if (!session || session.dead) {
      const outage = this.outage;
      const since = outage ? ` since ${new Date(outage.since).toISOString()}, ${outage.attempts} attempts so far` : '';
      throw new Error(`RabbitMQ: not connected (reconnecting${since})`, { cause: outage?.lastFailure ?? outage?.cause });
    }
    return session;
  }

  /**
   * Bounded: a publish whose confirms do not come within `BROKER_CALL_TIMEOUT_MS` (a
   * stalled link) fails, and its connection is dropped so that a fresh one replaces it.
   * The relay publishes the batch again; consumers deduplicate.
   */
  async publish(events: readonly CloudEvent[]): Promise<void> {
    const session = this.current();
    await this.bounded(session, publishEvents(this.topology, session, this.options.consumers, events), 'RabbitMQ: publish');
  }

  private async bounded<T>(session: Session, work: Promise<T>, what: string): Promise<T> {
    try {
      return await withDeadline(work, BROKER_CALL_TIMEOUT_MS, what);
    } catch (error) {
      if (error instanceof BrokerTimeoutError) this.abandon(session, error);
      throw error;
    }
  }

  /** Drops a session's connection that stopped answering; its close starts the reconnection. */
  private abandon(session: Session, error: Error): void {
    if (session.dead) return;
    session.connectionError ??= error;
    const socket = (session.connection as unknown as { connection?: { stream?: { destroy(error?: Error): void } } }).connection?.stream;
    if (socket) socket.destroy();
    else this.lost(session);
  }

  /** Publishes a retry copy of a delivery to the retry queue of its delay, confirmed. */
  private async publishRetry(consumer: string, message: ConsumeMessage, event: CloudEvent, attempt: number, delayMs: number): Promise<void> {
    const session = this.current();
    const work = publishRetryCopy(this.topology, session, { consumer, content: message.content, event, attempt, delayMs });
    await this.bounded(session, work, 'RabbitMQ: retry publish');
  }

  async subscribe(options: SubscribeOptions, handler: Handler): Promise<Subscription> {
    const session = this.current();
    const subscription = new LiveSubscription(this.host, options, handler, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    try {
      await subscription.attach(session);
    } catch (error) {
      // Lost connection meanwhile: the subscription stays and consumes once reconnected.
      if (!session.dead) {
        await subscription.close();
        throw error;
      }
    }
    return subscription;
  }

  async ping(): Promise<void> {
    const session = this.current();
    try {
      await this.bounded(session, withChannel(session, (channel) => channel.checkExchange(this.topology.exchange)), 'RabbitMQ: ping');
    } catch (cause) {
      throw new Error(`RabbitMQ: exchange ${this.topology.exchange} unreachable`, { cause });
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      this.stopRecovery.abort();
      await this.recovery;
      await Promise.all([...this.subscriptions].map((s) => s.close()));
      const session = this.session;
      this.session = undefined;
      if (session && !session.dead) {
        session.dead = true;
        await session.publisher?.waitForConfirms().catch(ignore);
        await session.connection.close().catch(ignore);
      }
    })();
    return this.closing;
  }
}

function reportRestoreToStderr(info: RestoreInfo): void {
  process.stderr.write(`event bus: RabbitMQ connection restored after ${info.attempts} attempt(s), ${info.downtimeMs} ms without it\n`);
}
