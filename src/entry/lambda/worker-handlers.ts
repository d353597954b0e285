/**
 * The background workers of src/entry/workers.ts (webhook dispatch, sync snapshots) as a
 * scheduled function (deploy/ invokes it every minute): each invocation starts every
 * worker, lets them run until shortly before its time runs out, then stops them, which
 * waits for what they hold (bounded by their own timeouts: a webhook attempt by
 * WEBHOOK_TIMEOUT_MS). The workers keep their state in the database (leases on rows), so
 * overlapping invocations share the work as several worker processes do.
 *
 * In a file of its own so that the relay and maintenance bundles do not carry the features.
 */
import type { Context } from 'aws-lambda';
import { asBackgroundWork } from '../../platform/db/connect.js';
import type { BackgroundWorker, RunningWorker } from '../../platform/workers/background-worker.js';
import { allWorkers } from '../workers.js';
import { containerResources, flushLogs, type LambdaResources } from './lambda-resources.js';

/** Time kept for stopping beyond the longest bound of the work in hand (a webhook attempt). */
const STOP_MARGIN_MS = 5_000;

export interface WorkersHandlerOptions {
  workers?: readonly BackgroundWorker[];
  /** Time left unused at the end (ms); default WEBHOOK_TIMEOUT_MS + 5 s. */
  marginMs?: number;
}

export function createWorkersHandler(resources: () => Promise<LambdaResources> = containerResources, options: WorkersHandlerOptions = {}) {
  const workers = options.workers ?? allWorkers;
  return async (_event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>): Promise<{ workers: string[]; ranMs: number }> => {
    context.callbackWaitsForEmptyEventLoop = false;
    const r = await resources();
    const margin = options.marginMs ?? r.config.webhookTimeoutMs + STOP_MARGIN_MS;
    const started = Date.now();
    const until = started + Math.max(0, context.getRemainingTimeInMillis() - margin);
    const running: RunningWorker[] = [];
    try {
      for (const worker of workers) {
        running.push(await asBackgroundWork(() => worker.start({ config: r.config, database: r.database, logger: r.logger.child({ worker: worker.name }) })));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now())));
    } finally {
      // Every started worker is stopped, even when a later one failed to start.
      const stopped = await Promise.allSettled(running.map((w) => w.stop()));
      for (const result of stopped) if (result.status === 'rejected') r.logger.error({ err: result.reason }, 'a background worker failed to stop');
    }
    const ranMs = Date.now() - started;
    r.logger.info({ workers: workers.map((w) => w.name), ran_ms: ranMs }, 'workers invocation done');
    await flushLogs(r.logger);
    return { workers: workers.map((w) => w.name), ranMs };
  };
}

export const workersHandler = createWorkersHandler();
