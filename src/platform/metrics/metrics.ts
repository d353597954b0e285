/**
 * Prometheus metrics (prom-client), one registry per process: consumer outcomes,
 * queue depth and lag, the relay's backlog, and HTTP requests. Gauges that need the
 * database are read when `/metrics` is scraped, not on a timer.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface QueueGauge {
  consumer: string;
  depth: number;
  oldestAgeSeconds: number;
}

/** One read cache, as `/metrics` reports it. */
export interface ReadCacheGauge {
  cache: string;
  hits: number;
  misses: number;
  size: number;
  live: boolean;
}

export interface MetricSources {
  /** Per consumer: rows waiting and the age of the oldest (buses that can tell). */
  queues?: () => Promise<QueueGauge[]>;
  /** Committed events the relay has not published yet. */
  outbox?: () => Promise<{ count: number; oldestAgeSeconds: number }>;
  /** The API's read caches. */
  readCaches?: () => ReadCacheGauge[];
}

export class Metrics {
  readonly registry = new Registry();
  readonly processed: Counter<'consumer'>;
  readonly failed: Counter<'consumer'>;
  readonly retried: Counter<'consumer'>;
  readonly deadLettered: Counter<'consumer'>;
  readonly duplicates: Counter<'consumer'>;
  readonly handleSeconds: Histogram<'consumer'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;
  #sources: MetricSources = {};

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['consumer'] as const, registers });
    this.processed = counter('nedlia_consumer_processed_total', 'Events a consumer handled successfully');
    this.failed = counter('nedlia_consumer_failed_total', 'Attempts that failed (each failure counts)');
    this.retried = counter('nedlia_consumer_retried_total', 'Failed attempts scheduled again with backoff');
    this.deadLettered = counter('nedlia_consumer_dead_lettered_total', 'Events moved to the dead letters');
    this.duplicates = counter('nedlia_consumer_duplicates_total', 'Deliveries skipped because the inbox already had them');
    this.handleSeconds = new Histogram({
      name: 'nedlia_consumer_handle_seconds',
      help: 'Time to handle one event (transaction included)',
      labelNames: ['consumer'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    const sources = () => this.#sources;
    new Gauge({
      name: 'nedlia_consumer_queue_depth',
      help: 'Events waiting for a consumer (postgres bus)',
      labelNames: ['consumer'] as const,
      registers,
      async collect() {
        this.reset();
        for (const q of (await sources().queues?.().catch(() => [])) ?? []) this.set({ consumer: q.consumer }, q.depth);
      },
    });
    new Gauge({
      name: 'nedlia_consumer_lag_seconds',
      help: 'Age of the oldest event a consumer has not finished (postgres bus)',
      labelNames: ['consumer'] as const,
      registers,
      async collect() {
        this.reset();
        for (const q of (await sources().queues?.().catch(() => [])) ?? []) this.set({ consumer: q.consumer }, q.oldestAgeSeconds);
      },
    });
    new Gauge({
      name: 'nedlia_outbox_backlog',
      help: 'Committed events the relay has not published yet',
      registers,
      async collect() {
        const backlog = await sources().outbox?.().catch(() => undefined);
        if (backlog) this.set(backlog.count);
      },
    });
    new Gauge({
      name: 'nedlia_outbox_lag_seconds',
      help: 'Age of the oldest committed event not yet published',
      registers,
      async collect() {
        const backlog = await sources().outbox?.().catch(() => undefined);
        if (backlog) this.set(backlog.oldestAgeSeconds);
      },
    });
    // Read caches count in plain numbers on the request path; these copy them when scraped.
    const perCache = (name: string, help: string, value: (cache: ReadCacheGauge) => number, Metric: typeof Counter | typeof Gauge) =>
      new Metric({
        name,
        help,
        labelNames: ['cache'] as const,
        registers,
        collect(this: Counter<'cache'> | Gauge<'cache'>) {
          this.reset();
          for (const cache of sources().readCaches?.() ?? []) this.inc({ cache: cache.cache }, value(cache));
        },
      });
    perCache('nedlia_read_cache_hits_total', 'Reads a read cache answered without the database', (c) => c.hits, Counter);
    perCache('nedlia_read_cache_misses_total', 'Reads a read cache passed on to the database', (c) => c.misses, Counter);
    perCache('nedlia_read_cache_rows', 'Rows held by a read cache', (c) => c.size, Gauge);
    perCache('nedlia_read_cache_live', '1 while a read cache serves rows (row change notifications arrive), 0 while it is bypassed', (c) => (c.live ? 1 : 0), Gauge);
    this.httpRequests = new Counter({
      name: 'nedlia_http_requests_total',
      help: 'HTTP requests answered',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    });
    this.httpSeconds = new Histogram({
      name: 'nedlia_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'nedlia_' });
  }

  /** Where the database-backed gauges read from (set once the bus and relay exist). */
  watch(sources: MetricSources): void {
    this.#sources = { ...this.#sources, ...sources };
  }
}
