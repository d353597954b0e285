/**
 * The consumer runtime: subscribes each consumer to the bus and turns every delivery
 * into exactly one effect.
 *
 * For each delivery: check the event against the registry (an invalid one goes straight
 * to the dead letters, with the reason); upcast it to the latest version; then in ONE
 * transaction insert (consumer, event id) into the inbox and run the handler. If the
 * inbox already has the row the delivery is a duplicate and nothing runs. On failure
 * the retry policy decides: try again after a backoff with jitter, or, at the maximum,
 * record the dead letter and acknowledge. A delivery that arrives with more attempts
 * than the maximum (the worker kept dying while handling it) is dead-lettered without
 * running the handler again. A consumer with `prepare` (long work: downloads, child
 * processes) has it run first, outside any transaction, unless the inbox already has
 * the event; a failure there is retried like a failing handler. Whenever an event is
 * dead-lettered, the consumer's `onDeadLetter` (when it declares one) then runs in a
 * transaction of its own, told why (`invalid`, `failed` or `abandoned`).
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { DEFAULT_RETRY_POLICY, decideAfterFailure, type RetryPolicy } from '../events/retry-policy.js';
import type { CloudEvent } from '../events/cloud-event.js';
import { eventRegistry, type EventRegistry } from '../events/registry.js';
import type { Delivery, EventBus, Outcome, Subscription } from '../bus/event-bus.js';
import { asBackgroundWork } from '../db/connect.js';
import { isConnectionFault } from '../db/connection-faults.js';
import { buildEvent, insertEvents, type NewEvent } from '../events/event-log.js';
import { clearFailures, inInbox, insertDeadLetter, recordFailure } from '../events/dead-letter-repository.js';
import type { Database } from '../db/schema.js';
import type { Metrics } from '../metrics/metrics.js';
import { OutageLog } from '../logging/polling.js';
import type { Consumer, DeadLetterCause } from './consumer.js';
import { formatTraceparent, inConsumerSpan } from './trace-context.js';

export interface ConsumerRuntimeDependencies {
  db: Kysely<Database>;
  bus: EventBus;
  logger: Logger;
  metrics?: Metrics;
  registry?: EventRegistry;
  retry?: Partial<RetryPolicy>;
}

/** Redelivery delay of an event whose failure could not be recorded (the database is unreachable). */
const UNRECORDED_RETRY_MS = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Envelope and data problems of a delivered event; empty when it may be handled. */
export function eventProblems(event: CloudEvent, registry: EventRegistry): string[] {
  const e = event as Partial<CloudEvent> | null;
  if (!e || typeof e !== 'object') return ['the delivery is not a CloudEvent object'];
  const envelope: string[] = [];
  if (e.specversion !== '1.0') envelope.push('/specversion must be 1.0');
  if (typeof e.id !== 'string' || !UUID.test(e.id)) envelope.push('/id must be a UUID');
  if (typeof e.type !== 'string') envelope.push('/type is missing');
  if (typeof e.subject !== 'string' || e.subject === '') envelope.push('/subject is missing');
  if (typeof e.schemaversion !== 'number') envelope.push('/schemaversion must be a number');
  if (envelope.length > 0) return envelope;
  return registry.problems(event).map((p) => `${p.path} ${p.message}`);
}

export class ConsumerRuntime {
  readonly #subscriptions: Subscription[] = [];
  readonly #policy: RetryPolicy;
  readonly #registry: EventRegistry;
  readonly #databaseOutage: OutageLog;

  constructor(private readonly deps: ConsumerRuntimeDependencies) {
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...deps.retry };
    this.#registry = deps.registry ?? eventRegistry;
    this.#databaseOutage = new OutageLog({
      down: (error) => deps.logger.error({ err: error }, 'consumers cannot reach the database; deliveries come again until it answers'),
      up: (outage) => deps.logger.info(outage, 'consumers reach the database again'),
    });
  }

  async start(consumers: readonly Consumer[]): Promise<void> {
    for (const consumer of consumers) {
      // Subscriptions (their polling loops) and handlers run under the background query budget.
      const subscription = await asBackgroundWork(() =>
        this.deps.bus.subscribe(
          { consumer: consumer.name, types: consumer.types, leaseMs: consumer.leaseMs ?? 30_000, concurrency: consumer.concurrency ?? 8 },
          (delivery) => asBackgroundWork(() => this.handleDelivery(consumer, delivery)),
        ),
      );
      this.#subscriptions.push(subscription);
      this.deps.logger.info({ consumer: consumer.name, types: consumer.types, bus: this.deps.bus.name }, 'consumer started');
    }
  }

  /** Stops taking deliveries and waits for those in hand (drain). */
  async stop(): Promise<void> {
    await Promise.all(this.#subscriptions.splice(0).map((s) => s.close()));
  }

  async handleDelivery(consumer: Consumer, delivery: Delivery): Promise<Outcome> {
    const { event, attempt } = delivery;
    const maxAttempts = consumer.maxAttempts ?? this.#policy.maxAttempts;
    const metrics = this.deps.metrics;
    const labels = { consumer: consumer.name };
    const base = this.deps.logger.child({
      consumer: consumer.name,
      event_id: event?.id,
      event_type: event?.type,
      correlation_id: event?.correlationid,
      attempt,
    });

    const problems = eventProblems(event, this.#registry);
    if (problems.length > 0) {
      const reason = `invalid event: ${problems.join('; ')}`;
      return this.#unlessDatabaseAway(async () => {
        await this.#deadLetter(consumer, event, { cause: 'invalid', error: reason, attempts: attempt }, base);
        base.warn({ problems }, 'invalid event dead-lettered');
        return { kind: 'ack' };
      });
    }

    if (attempt > maxAttempts) {
      return this.#unlessDatabaseAway(async () => {
        if (await inInbox(this.deps.db, consumer.name, event.id)) return { kind: 'ack' };
        const reason = `gave up after ${attempt - 1} deliveries that did not complete (worker crash or lease expiry)`;
        await this.#deadLetter(consumer, event, { cause: 'abandoned', error: reason, attempts: attempt - 1 }, base);
        base.error({ reason }, 'event dead-lettered');
        return { kind: 'ack' };
      });
    }

    const started = performance.now();
    try {
      const result = await inConsumerSpan(consumer.name, event, async (span) => {
        const spanContext = span.spanContext();
        const log = base.child({ trace_id: spanContext.traceId });
        const traceparent = formatTraceparent(spanContext);
        let prepared: unknown;
        if (consumer.prepare) {
          if (await inInbox(this.deps.db, consumer.name, event.id)) return 'duplicate' as const;
          const upcast = await this.#registry.upcast(event, this.deps.db);
          prepared = await consumer.prepare(upcast, { db: this.deps.db, logger: log, attempt, maxAttempts });
        }
        return this.deps.db.transaction().execute(async (tx) => {
          const fresh = await tx
            .insertInto('consumer_inbox')
            .values({ consumer: consumer.name, event_id: event.id })
            .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
            .returning('event_id')
            .executeTakeFirst();
          if (!fresh) return 'duplicate' as const;
          const current = await this.#registry.upcast(event, tx);
          await consumer.handle(current, tx, {
            logger: log,
            attempt,
            prepared,
            emit: async (events: readonly NewEvent[]) => {
              const built = events.map((e) =>
                buildEvent(e, { correlationId: event.correlationid ?? event.id, traceparent, actor: `system:${consumer.name}` }),
              );
              await insertEvents(tx, built);
              return built;
            },
          });
          if (attempt > 1) await clearFailures(tx, consumer.name, event.id);
          log.info({ duration_ms: Math.round(performance.now() - started) }, 'event handled');
          return 'processed' as const;
        });
      });
      this.#databaseOutage.succeeded();
      if (result === 'duplicate') {
        metrics?.duplicates.inc(labels);
        base.debug('duplicate delivery skipped');
      } else {
        metrics?.processed.inc(labels);
        metrics?.handleSeconds.observe(labels, (performance.now() - started) / 1000);
      }
      return { kind: 'ack' };
    } catch (error) {
      try {
        return await this.#failed(consumer, event, attempt, maxAttempts, error, base);
      } catch (failure) {
        // The failure cannot even be recorded: the database is away. Logged once per
        // outage; the delivery comes again (its attempts count is the broker's).
        if (!isConnectionFault(failure)) throw failure;
        this.#databaseOutage.failed(failure);
        return { kind: 'retry', delayMs: UNRECORDED_RETRY_MS };
      }
    }
  }

  async #failed(consumer: Consumer, event: CloudEvent, attempt: number, maxAttempts: number, error: unknown, log: Logger): Promise<Outcome> {
    const metrics = this.deps.metrics;
    const labels = { consumer: consumer.name };
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    metrics?.failed.inc(labels);
    await recordFailure(this.deps.db, consumer.name, event.id, message);
    const decision = decideAfterFailure(attempt, { ...this.#policy, maxAttempts });
    if (decision.kind === 'retry') {
      metrics?.retried.inc(labels);
      log.warn({ err: error, retry_in_ms: decision.delayMs }, 'event handling failed; will retry');
      return { kind: 'retry', delayMs: decision.delayMs };
    }
    await this.#deadLetter(consumer, event, { cause: 'failed', error: message, attempts: attempt }, log);
    log.error({ err: error }, 'event dead-lettered after the last attempt');
    return { kind: 'ack' };
  }

  /**
   * Records the dead letter, then runs the consumer's `onDeadLetter` in a transaction of
   * its own. A hook that fails leaves the dead letter recorded and is logged; a lost
   * database connection is thrown, so that the delivery comes again.
   */
  async #deadLetter(consumer: Consumer, event: CloudEvent, entry: { cause: DeadLetterCause; error: string; attempts: number }, log: Logger): Promise<void> {
    await insertDeadLetter(this.deps.db, { consumer: consumer.name, event, error: entry.error, attempts: entry.attempts });
    this.deps.metrics?.deadLettered.inc({ consumer: consumer.name });
    const hook = consumer.onDeadLetter?.bind(consumer);
    if (!hook || typeof event !== 'object' || event === null) return;
    try {
      await this.deps.db.transaction().execute((tx) =>
        hook(event, {
          tx,
          logger: log,
          ...entry,
          emit: async (events: readonly NewEvent[]) => {
            const built = events.map((e) =>
              buildEvent(e, {
                correlationId: typeof event.correlationid === 'string' ? event.correlationid : String(event.id),
                ...(typeof event.traceparent === 'string' ? { traceparent: event.traceparent } : {}),
                actor: `system:${consumer.name}`,
              }),
            );
            await insertEvents(tx, built);
            return built;
          },
        }),
      );
    } catch (error) {
      if (isConnectionFault(error)) throw error;
      log.error({ err: error, cause: entry.cause }, 'the on-dead-letter hook failed; the dead letter stays recorded');
    }
  }

  /** Runs `work`; a lost database connection is logged once per outage and answers a retry. */
  async #unlessDatabaseAway(work: () => Promise<Outcome>): Promise<Outcome> {
    try {
      const outcome = await work();
      this.#databaseOutage.succeeded();
      return outcome;
    } catch (error) {
      if (!isConnectionFault(error)) throw error;
      this.#databaseOutage.failed(error);
      return { kind: 'retry', delayMs: UNRECORDED_RETRY_MS };
    }
  }
}
