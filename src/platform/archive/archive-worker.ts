/**
 * The archiver on schedule: a background worker (worker and all-in-one processes) that runs
 * `archivePartitions` a minute after start and then hourly, and logs what each run did.
 * Stopping aborts a run between two batches; what it leaves detached the next run finishes.
 */
import type { Config } from '../config/config.js';
import { asBackgroundWork } from '../db/connect.js';
import { createObjectStorage } from '../storage/create-storage.js';
import type { BackgroundWorker } from '../workers/background-worker.js';
import { archivePartitions, type ArchivePolicy } from './partition-archiver.js';

const FIRST_RUN_MS = 60_000;
const EVERY_MS = 60 * 60_000;

export function createArchiveWorker(policiesOf: (config: Config) => ArchivePolicy[], timing = { firstRunMs: FIRST_RUN_MS, everyMs: EVERY_MS }): BackgroundWorker {
  return {
    name: 'partition-archiver',
    async start({ config, database, logger }) {
      const log = logger.child({ worker: 'partition-archiver' });
      const storage = createObjectStorage(config);
      const policies = policiesOf(config);
      const stopping = new AbortController();
      let running: Promise<void> = Promise.resolve();
      const runOnce = async () => {
        const result = await asBackgroundWork(() => archivePartitions({ db: database.db, engine: database.engine, storage }, policies, { signal: stopping.signal }));
        for (const a of result.archived) log.info({ table: a.table, partition: a.partition, rows: a.rowCount, object: a.objectKey, resumed: a.resumed }, 'partition archived and dropped');
        for (const h of result.held) log.info({ table: h.table, partition: h.partition, reason: h.reason }, 'partition past retention kept for now');
        for (const f of result.failed) log.error({ table: f.table, partition: f.partition, err: f.error }, 'partition not archived; nothing was dropped, the next run tries again');
      };
      let timer: NodeJS.Timeout | undefined;
      const schedule = (ms: number) => {
        timer = setTimeout(() => {
          running = runOnce().catch((error: unknown) => log.error({ err: error }, 'archiver run failed; the next run tries again'));
          void running.then(() => {
            if (!stopping.signal.aborted) schedule(timing.everyMs);
          });
        }, ms);
        timer.unref();
      };
      schedule(timing.firstRunMs);
      return {
        async stop() {
          stopping.abort(new Error('the process is stopping'));
          clearTimeout(timer);
          await running;
          storage.close();
        },
      };
    },
  };
}
