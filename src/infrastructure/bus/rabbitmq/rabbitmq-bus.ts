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
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { CloudEvent } from '../../../domain/events/cloud-event.js';
import { BROKER_CALL_TIMEOUT_MS, BrokerTimeoutError, reportToStderr, sleep, withDeadline } from '../delivery-dispatcher.js';
import type { EventBus, Handler, SubscribeOptions, Subscription } from '../event-bus.js';
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

const MIN_BUCKET_MS = 100;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 10_000;
/** Bounds one connection attempt (TCP connect and AMQP handshake). */
const CONNECT_TIMEOUT_MS = 10_000;
/** Heartbeat asked of the broker (s): a link that stalls without breaking is declared dead after two missed beats. */
const HEARTBEAT_S = 5;

/** The URL with a heartbeat, unless it sets one itself. */
function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(HEARTBEAT_S));
  return parsed.toString();
}

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
  private readonly exchange: string;
  private readonly deadExchange: string;
  private readonly host: SubscriptionHost = {
    queueOf: (consumer) => this.queueOf(consumer),
    declareConsumer: (session, consumer, types) => this.declareConsumer(session, consumer, types),
    lost: (session) => this.lost(session),
    publishRetry: (...args) => this.publishRetry(...args),
    onError: (error) => this.options.onError(error),
  };

  private constructor(
    private readonly url: string,
    private readonly options: ResolvedOptions,
  ) {
    this.exchange = `${options.prefix}.events`;
    this.deadExchange = `${options.prefix}.dead-letter`;
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
  private async openSession(): Promise<Session> {
    let connection: ChannelModel;
    try {
      connection = await connect(withHeartbeat(this.url), {
        clientProperties: { connection_name: this.options.connectionName },
        timeout: CONNECT_TIMEOUT_MS,
      });
    } catch (cause) {
      throw new Error(`RabbitMQ: cannot connect to ${this.url.replace(/\/\/[^@]*@/, '//***@')}`, { cause });
    }
    const session: Session = {
      connection,
      publisher: undefined,
      dead: false,
      connectionError: undefined,
      channelError: undefined,
      declared: new Map(),
      retryQueues: new Map(),
      topologyReady: undefined,
    };
    connection.on('error', (error: Error) => (session.connectionError ??= error));
    connection.on('close', (error?: Error) => {
      if (error) session.connectionError ??= error;
      this.lost(session);
    });
    try {
      const publisher = await connection.createConfirmChannel();
      publisher.on('error', (cause: Error) => (session.channelError ??= new Error('RabbitMQ: publisher channel failed', { cause })));
      publisher.on('close', () => {
        session.channelError ??= new Error('RabbitMQ: publisher channel closed');
        this.lost(session);
      });
      session.publisher = publisher;
      await this.withChannel(session, async (channel) => {
        await channel.assertExchange(this.exchange, 'topic', { durable: true });
        await channel.assertExchange(this.deadExchange, 'direct', { durable: true });
      });
      if (session.dead) throw this.failureOf(session);
      return session;
    } catch (error) {
      session.dead = true;
      await connection.close().catch(ignore);
      throw error;
    }
  }

  private failureOf(session: Session): Error {
    return session.connectionError ?? session.channelError ?? new Error('RabbitMQ connection closed');
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
      const cause = this.failureOf(session);
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
        if (session.dead) throw this.failureOf(session);
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

  /** Topology changes on a throwaway channel: a failed assertion closes its channel. */
  private async withChannel<T>(session: Session, work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await session.connection.createChannel();
    channel.on('error', ignore); // reported by the failing call
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(ignore);
    }
  }

  private queueOf(consumer: string): string {
    return `${this.options.prefix}.${consumer}`;
  }

  private declareConsumer(session: Session, consumer: string, types: readonly string[]): Promise<void> {
    const key = `${consumer}\n${[...types].sort().join(',')}`;
    let done = session.declared.get(key);
    if (!done) {
      const queue = this.queueOf(consumer);
      done = this.withChannel(session, async (channel) => {
        await channel.assertQueue(`${queue}.dead`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        await channel.bindQueue(`${queue}.dead`, this.deadExchange, consumer);
        await channel.assertQueue(queue, {
          durable: true,
          arguments: {
            'x-queue-type': 'quorum',
            'x-delivery-limit': this.options.deliveryLimit,
            'x-dead-letter-exchange': this.deadExchange,
            'x-dead-letter-routing-key': consumer,
            'x-dead-letter-strategy': 'at-least-once',
            'x-overflow': 'reject-publish',
          },
        });
        for (const type of types) await channel.bindQueue(queue, this.exchange, type);
      }).catch((cause) => {
        session.declared.delete(key);
        throw new Error(`RabbitMQ: cannot declare queue ${queue}`, { cause });
      });
      session.declared.set(key, done);
    }
    return done;
  }

  private retryQueueFor(session: Session, consumer: string, delayMs: number): { queue: string; ready: Promise<void> } {
    let bucket = MIN_BUCKET_MS;
    while (bucket < delayMs) bucket *= 2;
    const queue = `${this.queueOf(consumer)}.retry.${bucket}`;
    let ready = session.retryQueues.get(queue);
    if (!ready) {
      ready = this.withChannel(session, async (channel) => {
        await channel.assertQueue(queue, {
          durable: true,
          arguments: {
            'x-queue-type': 'quorum',
            'x-dead-letter-exchange': '',
            'x-dead-letter-routing-key': this.queueOf(consumer),
            'x-dead-letter-strategy': 'at-least-once',
            'x-overflow': 'reject-publish',
          },
        });
      }).catch((cause) => {
        session.retryQueues.delete(queue);
        throw new Error(`RabbitMQ: cannot declare retry queue ${queue}`, { cause });
      });
      session.retryQueues.set(queue, ready);
    }
    return { queue, ready };
  }

  /**
   * Publishes one message; `confirmed` settles on its publisher confirm (rejected if the
   * channel closes first). Under backpressure (write buffer full) waits for `drain`, or
   * for the channel to close, before returning.
   */
  private async send(
    session: Session,
    exchange: string,
    routingKey: string,
    body: Buffer,
    headers: Record<string, unknown>,
    extra: { messageId: string; type: string; expiration?: string },
  ): Promise<{ confirmed: Promise<void> }> {
    const publisher = session.publisher as ConfirmChannel;
    let ok = true;
    const confirmed = new Promise<void>((resolve, reject) => {
      ok = publisher.publish(
        exchange,
        routingKey,
        body,
        { persistent: true, contentType: 'application/cloudevents+json', headers, ...extra },
        (error) => (error ? reject(new Error(`RabbitMQ: broker refused message ${extra.messageId}`, { cause: error })) : resolve()),
      );
    });
    confirmed.catch(ignore); // awaited by the caller; avoid an unhandled rejection meanwhile
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          publisher.off('drain', done);
          publisher.off('close', done);
          resolve();
        };
        publisher.on('drain', done);
        publisher.on('close', done);
      });
    }
    return { confirmed };
  }

  /**
   * Bounded: a publish whose confirms do not come within `BROKER_CALL_TIMEOUT_MS` (a
   * stalled link) fails, and its connection is dropped so that a fresh one replaces it.
   * The relay publishes the batch again; consumers deduplicate.
   */
  async publish(events: readonly CloudEvent[]): Promise<void> {
    const session = this.current();
    await this.bounded(session, this.publishIn(session, events), 'RabbitMQ: publish');
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

  private async publishIn(session: Session, events: readonly CloudEvent[]): Promise<void> {
    session.topologyReady ??= Promise.all(this.options.consumers.map((c) => this.declareConsumer(session, c.consumer, c.types))).then(
      () => undefined,
      (error: unknown) => {
        session.topologyReady = undefined;
        throw error;
      },
    );
    await session.topologyReady;
    const confirms: Array<Promise<void>> = [];
    for (const event of events) {
      const body = Buffer.from(JSON.stringify(event));
      const { confirmed } = await this.send(session, this.exchange, event.type, body, {}, { messageId: event.id, type: event.type });
      confirms.push(confirmed);
    }
    await Promise.all(confirms);
  }

  /** Publishes a retry copy of a delivery to the retry queue of its delay, confirmed. */
  private async publishRetry(consumer: string, message: ConsumeMessage, event: CloudEvent, attempt: number, delayMs: number): Promise<void> {
    const session = this.current();
    const retry = this.retryQueueFor(session, consumer, delayMs);
    const work = (async () => {
      await retry.ready;
      const { confirmed } = await this.send(session, '', retry.queue, message.content, { 'x-attempt': attempt }, {
        messageId: event.id,
        type: event.type,
        expiration: String(Math.max(0, Math.round(delayMs))),
      });
      await confirmed;
    })();
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
      await this.bounded(session, this.withChannel(session, (channel) => channel.checkExchange(this.exchange)), 'RabbitMQ: ping');
    } catch (cause) {
      throw new Error(`RabbitMQ: exchange ${this.exchange} unreachable`, { cause });
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
