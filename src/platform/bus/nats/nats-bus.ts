/**
 * EventBus on NATS JetStream.
 *
 * - One stream (`NEDLIA_EVENTS` by default) holds every event on `<root>.<type>`, e.g.
 *   `nedlia.events.com.nedlia.placement.created`; retention by limits, so the stream is the
 *   history a late consumer reads from the start (`deliver_policy: all`).
 * - Each consumer name is a durable pull consumer: explicit ack, `ack_wait` = the lease,
 *   `max_deliver: -1` (the runtime dead-letters in the database; a broker-side limit would
 *   silently stop delivering). Subscribers with the same name pull from it and share work.
 * - Filtering: servers ≥ 2.10 get `filter_subjects` (one per type); older servers take a
 *   single filter, so a consumer of several types filters on their common prefix and the
 *   adapter acks, unhandled, what it did not declare.
 * - Retry is `nak(delay)`; `attempt` is the server's delivery count.
 * - Order: the stream keeps publication order; one subscriber runs one subject at a time.
 *
 * Production: JetStream fsyncs every 2 minutes by default, so an acknowledged publish can
 * be lost on a server crash. Run the servers with `jetstream { sync_interval: always }`
 * (or a 3-replica stream) before relying on "publish resolves once durable".
 */
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  connect,
  nanos,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import type { CloudEvent } from '../../events/cloud-event.js';
import { OutageLog } from '../../logging/polling.js';
import { DeliveryDispatcher, leaseExpired, reportRestoreToStderr, reportToStderr, type RestoreReport, sleep } from '../delivery-dispatcher.js';
import type { EventBus, Handler, Outcome, SubscribeOptions, Subscription } from '../event-bus.js';

export interface NatsBusOptions {
  /** e.g. `nats://127.0.0.1:4222` (comma-separated for a cluster). */
  url: string;
  /** Stream name; also prefixes nothing else. */
  stream?: string;
  /** Subject root; events go to `<root>.<type>`. */
  subjectRoot?: string;
  /** Replicas of the stream when it is created (1 on a single server, 3 in a cluster). */
  replicas?: number;
  onError?: (error: unknown) => void;
  /** Told when a subscription that was failing to fetch works again. */
  onRestore?: RestoreReport;
}

const PUBLISH_WINDOW = 256;
const FETCH_EXPIRES_MS = 1000;

export class NatsBus implements EventBus {
  readonly name = 'nats';
  readonly ordered = true;
  private closed = false;
  private readonly subscriptions = new Set<Subscription>();

  private constructor(
    private readonly connection: NatsConnection,
    private readonly jetstream: JetStreamClient,
    private readonly manager: JetStreamManager,
    private readonly stream: string,
    private readonly root: string,
    private readonly onError: (error: unknown) => void,
    private readonly onRestore: RestoreReport,
  ) {}

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const stream = options.stream ?? 'NEDLIA_EVENTS';
    const root = options.subjectRoot ?? 'nedlia.events';
    let connection: NatsConnection;
    try {
      connection = await connect({ servers: options.url.split(','), name: `nedlia-${process.pid}`, maxReconnectAttempts: -1 });
    } catch (cause) {
      throw new Error(`NATS: cannot connect to ${options.url}; is the server running with JetStream (-js)?`, { cause });
    }
    try {
      const manager = await connection.jetstreamManager();
      try {
        await manager.streams.info(stream);
      } catch {
        await manager.streams.add({
          name: stream,
          subjects: [`${root}.>`],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          num_replicas: options.replicas ?? 1,
        });
      }
      return new NatsBus(connection, connection.jetstream(), manager, stream, root, options.onError ?? reportToStderr, options.onRestore ?? reportRestoreToStderr);
    } catch (cause) {
      await connection.close();
      throw new Error(`NATS: cannot set up stream ${stream}`, { cause });
    }
  }

  private subjectOf(type: string): string {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(type)) {
      throw new Error(`NATS: event type ${JSON.stringify(type)} is not usable as a subject`);
    }
    return `${this.root}.${type}`;
  }

  async publish(events: readonly CloudEvent[]): Promise<void> {
    if (this.closed) throw new Error('NATS bus is closed');
    // One connection keeps send order, so the stream stores the events in this order;
    // a window of in-flight publishes keeps throughput without unbounded buffering.
    for (let start = 0; start < events.length; start += PUBLISH_WINDOW) {
      const window = events.slice(start, start + PUBLISH_WINDOW);
      try {
        await Promise.all(window.map((event) => this.jetstream.publish(this.subjectOf(event.type), JSON.stringify(event))));
      } catch (cause) {
        throw new Error(`NATS: publish to stream ${this.stream} was not acknowledged`, { cause });
      }
    }
  }

  async subscribe(options: SubscribeOptions, handler: Handler): Promise<Subscription> {
    if (this.closed) throw new Error('NATS bus is closed');
    if (!/^[A-Za-z0-9_-]+$/.test(options.consumer)) {
      throw new Error(`NATS: consumer name ${JSON.stringify(options.consumer)} may use letters, digits, - and _ only`);
    }
    const config = this.consumerConfig(options);
    try {
      await this.manager.consumers.add(this.stream, config);
    } catch (error) {
      // Exists with another filter or lease (types changed between deployments): update it.
      try {
        await this.manager.consumers.update(this.stream, options.consumer, config);
      } catch (cause) {
        throw new Error(`NATS: cannot create consumer ${options.consumer} on ${this.stream}`, { cause: [error, cause] });
      }
    }
    const consumer = await this.jetstream.consumers.get(this.stream, options.consumer);
    const types = new Set(options.types);
    const dispatcher = new DeliveryDispatcher(options.concurrency, this.onError);
    const stopping = new AbortController();
    let batch: ConsumerMessages | undefined;

    const handle = async (message: JsMsg, event: CloudEvent, receivedAt: number): Promise<void> => {
      if (!types.has(event.type)) return message.ack();
      if (leaseExpired(receivedAt, options.leaseMs)) return; // waited too long here: redelivered
      let outcome: Outcome;
      try {
        outcome = await handler({ event, attempt: message.info.redeliveryCount });
      } catch (cause) {
        // Like a crash: no ack, the server redelivers after ack_wait.
        this.onError(new Error(`NATS: handler of ${options.consumer} threw on ${event.id}`, { cause }));
        return;
      }
      if (leaseExpired(receivedAt, options.leaseMs)) return; // stale: the redelivery settles it
      if (outcome.kind === 'ack') message.ack();
      else message.nak(Math.max(0, Math.round(outcome.delayMs)));
    };

    // Reported when fetching starts failing and when it works again, not at every retry.
    const outage = new OutageLog({
      down: (cause) => this.onError(new Error(`NATS: fetch for ${options.consumer} failed; retrying until it works`, { cause })),
      up: (outage) => this.onRestore({ consumer: options.consumer, ...outage }),
    });
    const loop = (async () => {
      while (!stopping.signal.aborted) {
        await dispatcher.waitForSlot(FETCH_EXPIRES_MS);
        const wanted = dispatcher.free;
        if (wanted === 0 || stopping.signal.aborted) continue;
        try {
          batch = await consumer.fetch({ max_messages: wanted, expires: FETCH_EXPIRES_MS });
          for await (const message of batch) {
            let event: CloudEvent;
            try {
              event = message.json<CloudEvent>();
            } catch (cause) {
              // Only the relay publishes here, so this is corruption: keep it in the stream, stop redelivering.
              this.onError(new Error(`NATS: message ${message.seq} is not a JSON CloudEvent; terminated`, { cause }));
              message.term();
              continue;
            }
            const receivedAt = Date.now();
            dispatcher.run(event.subject, () => handle(message, event, receivedAt));
          }
          outage.succeeded();
        } catch (cause) {
          if (stopping.signal.aborted) break;
          outage.failed(cause);
          await sleep(500, stopping.signal);
        }
      }
    })();

    const subscription: Subscription = {
      close: async () => {
        if (stopping.signal.aborted) return;
        stopping.abort();
        batch?.stop();
        await loop;
        await dispatcher.drain(options.leaseMs);
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  private consumerConfig(options: SubscribeOptions): Partial<ConsumerConfig> {
    const subjects = options.types.map((type) => this.subjectOf(type));
    const config: Partial<ConsumerConfig> = {
      durable_name: options.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(options.leaseMs),
      max_deliver: -1,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: -1,
    };
    if (subjects.length === 1) config.filter_subject = subjects[0];
    else if (this.connection.info && versionAtLeast(this.connection.info.version, 2, 10)) config.filter_subjects = subjects;
    else config.filter_subject = commonWildcard(subjects, this.root);
    return config;
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('NATS bus is closed');
    try {
      await this.connection.flush();
      await this.manager.streams.info(this.stream);
    } catch (cause) {
      throw new Error(`NATS: stream ${this.stream} unreachable`, { cause });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    // drain() flushes acks still buffered before closing the connection.
    await this.connection.drain();
  }
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** `a.b.c.x`, `a.b.d.y` → `a.b.>`; at worst `<root>.>`. */
function commonWildcard(subjects: readonly string[], root: string): string {
  const split = subjects.map((s) => s.split('.'));
  const first = split[0] ?? [];
  let shared = 0;
  while (shared < first.length - 1 && split.every((tokens) => tokens[shared] === first[shared])) shared += 1;
  const prefix = first.slice(0, shared).join('.');
  return prefix.length > root.length ? `${prefix}.>` : `${root}.>`;
}
