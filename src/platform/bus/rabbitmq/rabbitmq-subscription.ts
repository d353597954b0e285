/**
 * A RabbitMQ subscription that outlives its channel (see rabbitmq-bus.ts): it consumes
 * on each session the bus opens, enforces the delivery lease, and drops the outcome of
 * deliveries whose channel is gone (the broker delivers them again).
 */
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { CloudEvent } from '../../events/cloud-event.js';
import { DeliveryDispatcher } from '../delivery-dispatcher.js';
import type { Handler, Outcome, SubscribeOptions, Subscription } from '../event-bus.js';

/** One connection, its publisher confirm channel and what was declared through it. */
export interface Session {
  readonly connection: ChannelModel;
  publisher: ConfirmChannel | undefined;
  /** Set once any of its channels or the connection closed unexpectedly. */
  dead: boolean;
  /** Why the connection closed (preferred when reporting). */
  connectionError: Error | undefined;
  /** Why one of its channels closed. */
  channelError: Error | undefined;
  readonly declared: Map<string, Promise<void>>;
  readonly retryQueues: Map<string, Promise<void>>;
  topologyReady: Promise<void> | undefined;
}

/** What a subscription needs from its bus. */
export interface SubscriptionHost {
  queueOf(consumer: string): string;
  declareConsumer(session: Session, consumer: string, types: readonly string[]): Promise<void>;
  /** A channel of `session` closed unexpectedly. */
  lost(session: Session): void;
  publishRetry(consumer: string, message: ConsumeMessage, event: CloudEvent, attempt: number, delayMs: number): Promise<void>;
  onError(error: unknown): void;
}

export const ignore = (): void => undefined;

/** One delivery's channel: settles only while it is open. */
interface Attachment {
  readonly session: Session;
  readonly channel: Channel;
  consumerTag: string | undefined;
  open: boolean;
  /** Deliveries not settled yet: each entry drops its delivery (lease timer included). */
  readonly inHand: Set<() => void>;
}

/**
 * A subscription that outlives its channel: `attach` makes it consume on a session (the
 * first one, then each reconnected one); attach and close run one after the other.
 */
export class LiveSubscription implements Subscription {
  private readonly dispatcher: DeliveryDispatcher;
  private readonly queue: string;
  private attachment: Attachment | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private serial: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: SubscriptionHost,
    private readonly options: SubscribeOptions,
    private readonly handler: Handler,
    private readonly forget: () => void,
  ) {
    this.dispatcher = new DeliveryDispatcher(options.concurrency, (error) => bus.onError(error));
    this.queue = bus.queueOf(options.consumer);
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work);
    this.serial = run.then(ignore, ignore);
    return run;
  }

  /** Consumes on `session` with a fresh channel, unless closed or already consuming there. */
  attach(session: Session): Promise<void> {
    return this.inTurn(async () => {
      if (this.closed || session.dead || (this.attachment?.session === session && this.attachment.open)) return;
      await this.bus.declareConsumer(session, this.options.consumer, this.options.types);
      const channel = await session.connection.createChannel();
      const attachment: Attachment = { session, channel, consumerTag: undefined, open: true, inHand: new Set() };
      channel.on('error', (cause: Error) => {
        session.channelError ??= new Error(`RabbitMQ: channel of ${this.options.consumer} failed`, { cause });
      });
      channel.on('close', () => {
        attachment.open = false;
        // The broker requeues what this channel had not acked: drop those deliveries here.
        for (const drop of attachment.inHand) drop();
        attachment.inHand.clear();
        if (!this.closed) {
          session.channelError ??= new Error(`RabbitMQ: channel of ${this.options.consumer} closed`);
          this.bus.lost(session);
        }
      });
      this.attachment = attachment;
      await channel.prefetch(this.options.concurrency);
      const { consumerTag } = await channel.consume(this.queue, (message) => this.onMessage(attachment, message), { noAck: false });
      attachment.consumerTag = consumerTag;
    });
  }

  private onMessage(attachment: Attachment, message: ConsumeMessage | null): void {
    const { bus, options, handler } = this;
    const { channel } = attachment;
    const onError = (error: unknown): void => bus.onError(error);
    if (message === null) {
      onError(new Error(`RabbitMQ: queue ${this.queue} cancelled the consumer (deleted?)`));
      return;
    }
    let settled = false;
    const drop = (): void => {
      settled = true;
      clearTimeout(lease);
    };
    const finish = (settle: () => void): boolean => {
      if (settled) return false; // the lease ran out or the channel is gone: the message is someone else's now
      drop();
      attachment.inHand.delete(drop);
      if (attachment.open) {
        try {
          settle();
        } catch (cause) {
          onError(new Error(`RabbitMQ: could not settle a delivery of ${options.consumer}`, { cause }));
        }
      }
      return true;
    };
    const lease = setTimeout(() => finish(() => channel.nack(message, false, true)), options.leaseMs);
    attachment.inHand.add(drop);
    let event: CloudEvent;
    try {
      event = JSON.parse(message.content.toString('utf8')) as CloudEvent;
    } catch (cause) {
      onError(new Error(`RabbitMQ: message in ${this.queue} is not a JSON CloudEvent; dead-lettered`, { cause }));
      finish(() => channel.nack(message, false, false));
      return;
    }
    const headers = message.properties.headers ?? {};
    const attempt = Number(headers['x-attempt'] ?? 1) + Number(headers['x-delivery-count'] ?? 0);
    this.dispatcher.run(event.subject, async () => {
      if (settled) return;
      let outcome: Outcome;
      try {
        outcome = await handler({ event, attempt });
      } catch (cause) {
        // Like a crash: left unsettled, the lease requeues it.
        onError(new Error(`RabbitMQ: handler of ${options.consumer} threw on ${event.id}`, { cause }));
        return;
      }
      if (outcome.kind === 'ack') {
        finish(() => channel.ack(message));
        return;
      }
      if (settled) return;
      clearTimeout(lease); // settling now; the copy below is the retry
      try {
        await bus.publishRetry(options.consumer, message, event, attempt + 1, outcome.delayMs);
        finish(() => channel.ack(message));
      } catch (cause) {
        if (settled) return; // the channel is gone: the broker requeued the delivery
        onError(new Error(`RabbitMQ: could not schedule retry of ${event.id}; requeued`, { cause }));
        finish(() => channel.nack(message, false, true));
      }
    });
  }

  close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.inTurn(async () => {
      const attachment = this.attachment;
      if (attachment?.open && attachment.consumerTag !== undefined) {
        await attachment.channel.cancel(attachment.consumerTag).catch((error: unknown) => this.bus.onError(error));
      }
      await this.dispatcher.drain(this.options.leaseMs);
      if (attachment) {
        for (const drop of attachment.inHand) drop();
        attachment.inHand.clear();
        // Closing the channel returns what is still unacked to the queue.
        if (attachment.open) await attachment.channel.close().catch(ignore);
      }
      this.forget();
    });
    return this.closing;
  }
}

