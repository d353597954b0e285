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
 * Connection loss stops this bus's subscriptions and makes `ping` fail; the process is
 * expected to exit and be restarted (unacked deliveries are requeued by the broker).
 */
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { CloudEvent } from '../../../domain/events/cloud-event.js';
import { DeliveryDispatcher, reportToStderr } from '../delivery-dispatcher.js';
import type { EventBus, Handler, Outcome, SubscribeOptions, Subscription } from '../event-bus.js';

export interface RabbitMqBusOptions {
  /** e.g. `amqp://guest:guest@127.0.0.1:5672/`. */
  url: string;
  prefix?: string;
  /** The deployment's consumers, declared before the first publish. */
  consumers?: ReadonlyArray<Pick<SubscribeOptions, 'consumer' | 'types'>>;
  /** Broker backstop: returns of one message before it goes to `<consumer>.dead`. */
  deliveryLimit?: number;
  onError?: (error: unknown) => void;
}

const MIN_BUCKET_MS = 100;

export class RabbitMqBus implements EventBus {
  readonly name = 'rabbitmq';
  readonly ordered = true;
  private closed = false;
  private closing: Promise<void> | undefined;
  private broken: Error | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private readonly declared = new Map<string, Promise<void>>();
  private readonly retryQueues = new Map<string, Promise<void>>();
  private topologyReady: Promise<void> | undefined;
  private readonly exchange: string;
  private readonly deadExchange: string;

  private constructor(
    private readonly connection: ChannelModel,
    private readonly publisher: ConfirmChannel,
    private readonly options: Required<Omit<RabbitMqBusOptions, 'url'>>,
  ) {
    this.exchange = `${options.prefix}.events`;
    this.deadExchange = `${options.prefix}.dead-letter`;
    connection.on('error', (error: Error) => (this.broken = error));
    connection.on('close', (error?: Error) => {
      if (!this.closed) {
        this.broken = new Error('RabbitMQ connection closed unexpectedly', { cause: error });
        options.onError(this.broken);
      }
    });
    publisher.on('error', (error: Error) => options.onError(new Error('RabbitMQ: publisher channel failed', { cause: error })));
    publisher.on('close', () => {
      if (!this.closed) this.broken ??= new Error('RabbitMQ publisher channel closed unexpectedly');
    });
  }

  static async connect(options: RabbitMqBusOptions): Promise<RabbitMqBus> {
    let connection: ChannelModel;
    try {
      connection = await connect(options.url);
    } catch (cause) {
      throw new Error(`RabbitMQ: cannot connect to ${options.url.replace(/\/\/[^@]*@/, '//***@')}`, { cause });
    }
    const publisher = await connection.createConfirmChannel();
    const bus = new RabbitMqBus(connection, publisher, {
      prefix: options.prefix ?? 'nedlia',
      consumers: options.consumers ?? [],
      deliveryLimit: options.deliveryLimit ?? 1000,
      onError: options.onError ?? reportToStderr,
    });
    await bus.withChannel(async (channel) => {
      await channel.assertExchange(bus.exchange, 'topic', { durable: true });
      await channel.assertExchange(bus.deadExchange, 'direct', { durable: true });
    });
    return bus;
  }

  /** Topology changes on a throwaway channel: a failed assertion closes its channel. */
  private async withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.connection.createChannel();
    channel.on('error', () => undefined); // reported by the failing call
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  private queueOf(consumer: string): string {
    return `${this.options.prefix}.${consumer}`;
  }

  private declareConsumer(consumer: string, types: readonly string[]): Promise<void> {
    const key = `${consumer}\n${[...types].sort().join(',')}`;
    let done = this.declared.get(key);
    if (!done) {
      const queue = this.queueOf(consumer);
      done = this.withChannel(async (channel) => {
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
        this.declared.delete(key);
        throw new Error(`RabbitMQ: cannot declare queue ${queue}`, { cause });
      });
      this.declared.set(key, done);
    }
    return done;
  }

  private retryQueueFor(consumer: string, delayMs: number): { queue: string; ready: Promise<void> } {
    let bucket = MIN_BUCKET_MS;
    while (bucket < delayMs) bucket *= 2;
    const queue = `${this.queueOf(consumer)}.retry.${bucket}`;
    let ready = this.retryQueues.get(queue);
    if (!ready) {
      ready = this.withChannel(async (channel) => {
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
        this.retryQueues.delete(queue);
        throw new Error(`RabbitMQ: cannot declare retry queue ${queue}`, { cause });
      });
      this.retryQueues.set(queue, ready);
    }
    return { queue, ready };
  }

  /**
   * Publishes one message; `confirmed` settles on its publisher confirm. Under
   * backpressure (write buffer full) waits for `drain` before returning.
   */
  private async send(
    exchange: string,
    routingKey: string,
    body: Buffer,
    headers: Record<string, unknown>,
    extra: { messageId: string; type: string; expiration?: string },
  ): Promise<{ confirmed: Promise<void> }> {
    let ok = true;
    const confirmed = new Promise<void>((resolve, reject) => {
      ok = this.publisher.publish(
        exchange,
        routingKey,
        body,
        { persistent: true, contentType: 'application/cloudevents+json', headers, ...extra },
        (error) => (error ? reject(new Error(`RabbitMQ: broker refused message ${extra.messageId}`, { cause: error })) : resolve()),
      );
    });
    confirmed.catch(() => undefined); // awaited by the caller; avoid an unhandled rejection meanwhile
    if (!ok) await new Promise((resolve) => this.publisher.once('drain', resolve));
    return { confirmed };
  }

  async publish(events: readonly CloudEvent[]): Promise<void> {
    this.assertUsable();
    this.topologyReady ??= Promise.all(this.options.consumers.map((c) => this.declareConsumer(c.consumer, c.types))).then(
      () => undefined,
      (error: unknown) => {
        this.topologyReady = undefined;
        throw error;
      },
    );
    await this.topologyReady;
    const confirms: Array<Promise<void>> = [];
    for (const event of events) {
      const body = Buffer.from(JSON.stringify(event));
      const { confirmed } = await this.send(this.exchange, event.type, body, {}, { messageId: event.id, type: event.type });
      confirms.push(confirmed);
    }
    await Promise.all(confirms);
  }

  async subscribe(options: SubscribeOptions, handler: Handler): Promise<Subscription> {
    this.assertUsable();
    await this.declareConsumer(options.consumer, options.types);
    const queue = this.queueOf(options.consumer);
    const channel = await this.connection.createChannel();
    channel.on('error', (cause: Error) => this.options.onError(new Error(`RabbitMQ: channel of ${options.consumer} failed`, { cause })));
    await channel.prefetch(options.concurrency);
    const dispatcher = new DeliveryDispatcher(options.concurrency, this.options.onError);
    const leases = new Set<NodeJS.Timeout>();
    let channelOpen = true;
    channel.on('close', () => (channelOpen = false));

    const onMessage = (message: ConsumeMessage | null): void => {
      if (message === null) {
        this.options.onError(new Error(`RabbitMQ: queue ${queue} cancelled the consumer (deleted?)`));
        return;
      }
      let settled = false;
      const finish = (settle: () => void): boolean => {
        if (settled) return false; // the lease ran out: the message is someone else's now
        settled = true;
        clearTimeout(lease);
        leases.delete(lease);
        if (channelOpen) settle();
        return true;
      };
      const lease = setTimeout(() => finish(() => channel.nack(message, false, true)), options.leaseMs);
      leases.add(lease);
      let event: CloudEvent;
      try {
        event = JSON.parse(message.content.toString('utf8')) as CloudEvent;
      } catch (cause) {
        this.options.onError(new Error(`RabbitMQ: message in ${queue} is not a JSON CloudEvent; dead-lettered`, { cause }));
        finish(() => channel.nack(message, false, false));
        return;
      }
      const headers = message.properties.headers ?? {};
      const attempt = Number(headers['x-attempt'] ?? 1) + Number(headers['x-delivery-count'] ?? 0);
      dispatcher.run(event.subject, async () => {
        if (settled) return;
        let outcome: Outcome;
        try {
          outcome = await handler({ event, attempt });
        } catch (cause) {
          // Like a crash: left unsettled, the lease requeues it.
          this.options.onError(new Error(`RabbitMQ: handler of ${options.consumer} threw on ${event.id}`, { cause }));
          return;
        }
        if (outcome.kind === 'ack') {
          finish(() => channel.ack(message));
          return;
        }
        if (settled) return;
        clearTimeout(lease); // settling now; the copy below is the retry
        try {
          const retry = this.retryQueueFor(options.consumer, outcome.delayMs);
          await retry.ready;
          const { confirmed } = await this.send('', retry.queue, message.content, { 'x-attempt': attempt + 1 }, {
            messageId: event.id,
            type: event.type,
            expiration: String(Math.max(0, Math.round(outcome.delayMs))),
          });
          await confirmed;
          finish(() => channel.ack(message));
        } catch (cause) {
          this.options.onError(new Error(`RabbitMQ: could not schedule retry of ${event.id}; requeued`, { cause }));
          finish(() => channel.nack(message, false, true));
        }
      });
    };

    const { consumerTag } = await channel.consume(queue, onMessage, { noAck: false });
    let closing: Promise<void> | undefined;
    const subscription: Subscription = {
      close: () =>
        (closing ??= (async () => {
          if (channelOpen) await channel.cancel(consumerTag).catch(this.options.onError);
          await dispatcher.drain(options.leaseMs);
          for (const lease of leases) clearTimeout(lease);
          // Closing the channel returns what is still unacked to the queue.
          if (channelOpen) await channel.close().catch(() => undefined);
          this.subscriptions.delete(subscription);
        })()),
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  private assertUsable(): void {
    if (this.closed || this.closing) throw new Error('RabbitMQ bus is closed');
    if (this.broken) throw new Error('RabbitMQ connection is broken; restart the process', { cause: this.broken });
  }

  async ping(): Promise<void> {
    this.assertUsable();
    try {
      await this.withChannel((channel) => channel.checkExchange(this.exchange));
    } catch (cause) {
      throw new Error(`RabbitMQ: exchange ${this.exchange} unreachable`, { cause });
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.close()));
      this.closed = true;
      await this.publisher.waitForConfirms().catch(() => undefined);
      await this.connection.close().catch(() => undefined);
    })();
    return this.closing;
  }
}
