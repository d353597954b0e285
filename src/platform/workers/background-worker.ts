/**
 * A background worker: a feature's own loop that is not driven by bus deliveries
 * (webhook dispatch with its retry schedule, sync snapshots), run by worker and
 * all-in-one processes beside the consumers. It keeps its state in the database (leases
 * on rows), so any number of processes may run it at once, and it must stop promptly
 * when asked: finish or give up what it holds, then resolve.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { Metrics } from '../metrics/metrics.js';

export interface WorkerContext {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  metrics?: Metrics;
}

export interface RunningWorker {
  /** Stops taking work and waits for what is in hand (bounded by the worker's own timeouts). */
  stop(): Promise<void>;
}

export interface BackgroundWorker {
  /** For logs and `CONSUMERS`-style selection. */
  name: string;
  start(context: WorkerContext): Promise<RunningWorker>;
}
