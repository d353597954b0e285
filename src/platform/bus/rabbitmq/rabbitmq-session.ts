/**
 * What the RabbitMQ bus does on one session (see rabbitmq-bus.ts): opening it (the
 * connection with a heartbeat, the publisher confirm channel, the exchanges), declaring
 * the topology (consumer, dead-letter and retry queues, once per session), and
 * publishing with confirms under backpressure.
 */
import { connect, type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { CloudEvent } from '../../events/cloud-event.js';
import type { SubscribeOptions } from '../event-bus.js';
import { ignore, type Session } from './rabbitmq-subscription.js';

/** The names and limits the topology is declared with. */
export interface Topology {
  prefix: string;
  /** `<prefix>.events`: the topic exchange events are published to. */
  exchange: string;
  /** `<prefix>.dead-letter`: the broker's backstop for messages past the delivery limit. */
  deadExchange: string;
  deliveryLimit: number;
}

const MIN_BUCKET_MS = 100;
/** Bounds one connection attempt (TCP connect and AMQP handshake). */
const CONNECT_TIMEOUT_MS = 10_000;
/** Heartbeat asked of the broker (s): a link that stalls without breaking is declared dead after two missed beats. */
const HEARTBEAT_S = 5;

export const queueOf = (topology: Topology, consumer: string): string => `${topology.prefix}.${consumer}`;

/** Why a session died: its connection's error, else its channel's. */
export function failureOf(session: Session): Error {
  return session.connectionError ?? session.channelError ?? new Error('RabbitMQ connection closed');
}

/** The URL with a heartbeat, unless it sets one itself. */
function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(HEARTBEAT_S));
  return parsed.toString();
}

/**
 * Connects, opens the publisher confirm channel and asserts the exchanges. `lost` is told
 * when the connection or the publisher channel closes without being asked to.
 */
export async function openSession(url: string, topology: Topology, connectionName: string, lost: (session: Session) => void): Promise<Session> {
  let connection: ChannelModel;
  try {
    connection = await connect(withHeartbeat(url), {
      clientProperties: { connection_name: connectionName },
      timeout: CONNECT_TIMEOUT_MS,
    });
  } catch (cause) {
    throw new Error(`RabbitMQ: cannot connect to ${url.replace(/\/\/[^@]*@/, '//***@')}`, { cause });
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
    lost(session);
  });
  try {
    const publisher = await connection.createConfirmChannel();
    publisher.on('error', (cause: Error) => (session.channelError ??= new Error('RabbitMQ: publisher channel failed', { cause })));
    publisher.on('close', () => {
      session.channelError ??= new Error('RabbitMQ: publisher channel closed');
      lost(session);
    });
    session.publisher = publisher;
    await withChannel(session, async (channel) => {
      await channel.assertExchange(topology.exchange, 'topic', { durable: true });
      await channel.assertExchange(topology.deadExchange, 'direct', { durable: true });
    });
    if (session.dead) throw failureOf(session);
    return session;
  } catch (error) {
    session.dead = true;
    await connection.close().catch(ignore);
    throw error;
  }
}

/** Topology changes on a throwaway channel: a failed assertion closes its channel. */
export async function withChannel<T>(session: Session, work: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await session.connection.createChannel();
  channel.on('error', ignore); // reported by the failing call
  try {
    return await work(channel);
  } finally {
    await channel.close().catch(ignore);
  }
}

/** Declares the consumer's queue, its dead-letter queue and its bindings, once per session. */
export function declareConsumer(topology: Topology, session: Session, consumer: string, types: readonly string[]): Promise<void> {
  const key = `${consumer}\n${[...types].sort().join(',')}`;
  let done = session.declared.get(key);
  if (!done) {
    const queue = queueOf(topology, consumer);
    done = withChannel(session, async (channel) => {
      await channel.assertQueue(`${queue}.dead`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(`${queue}.dead`, topology.deadExchange, consumer);
      await channel.assertQueue(queue, {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-delivery-limit': topology.deliveryLimit,
          'x-dead-letter-exchange': topology.deadExchange,
          'x-dead-letter-routing-key': consumer,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        },
      });
      for (const type of types) await channel.bindQueue(queue, topology.exchange, type);
    }).catch((cause) => {
      session.declared.delete(key);
      throw new Error(`RabbitMQ: cannot declare queue ${queue}`, { cause });
    });
    session.declared.set(key, done);
  }
  return done;
}

/** The retry queue of `delayMs`'s power-of-two bucket, declared once per session. */
export function retryQueueFor(topology: Topology, session: Session, consumer: string, delayMs: number): { queue: string; ready: Promise<void> } {
  let bucket = MIN_BUCKET_MS;
  while (bucket < delayMs) bucket *= 2;
  const queue = `${queueOf(topology, consumer)}.retry.${bucket}`;
  let ready = session.retryQueues.get(queue);
  if (!ready) {
    ready = withChannel(session, async (channel) => {
      await channel.assertQueue(queue, {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queueOf(topology, consumer),
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
export async function send(
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
 * Publishes `events` to the events exchange, confirmed, once the deployment's consumers
 * (`consumers`) are declared on this session: a queue only receives what follows it.
 */
export async function publishEvents(
  topology: Topology,
  session: Session,
  consumers: ReadonlyArray<Pick<SubscribeOptions, 'consumer' | 'types'>>,
  events: readonly CloudEvent[],
): Promise<void> {
  session.topologyReady ??= Promise.all(consumers.map((c) => declareConsumer(topology, session, c.consumer, c.types))).then(
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
    const { confirmed } = await send(session, topology.exchange, event.type, body, {}, { messageId: event.id, type: event.type });
    confirms.push(confirmed);
  }
  await Promise.all(confirms);
}

/** Publishes a retry copy of a delivery to the retry queue of its delay, confirmed. */
export async function publishRetryCopy(
  topology: Topology,
  session: Session,
  retry: { consumer: string; content: Buffer; event: CloudEvent; attempt: number; delayMs: number },
): Promise<void> {
  const queue = retryQueueFor(topology, session, retry.consumer, retry.delayMs);
  await queue.ready;
  const { confirmed } = await send(session, '', queue.queue, retry.content, { 'x-attempt': retry.attempt }, {
    messageId: retry.event.id,
    type: retry.event.type,
    expiration: String(Math.max(0, Math.round(retry.delayMs))),
  });
  await confirmed;
}
