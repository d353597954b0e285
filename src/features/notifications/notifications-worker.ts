/**
 * The dispatcher as a background worker of the process, with the process's outbound fetch
 * and settings; beside it, hourly, the purge of finished deliveries past their retention.
 */
import { asBackgroundWork } from '../../platform/db/connect.js';
import type { BackgroundWorker } from '../../platform/workers/background-worker.js';
import { outboundFetchFromConfig } from '../../platform/outbound-fetch/create-outbound-fetch.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { purgeFinishedDeliveries } from './webhooks/webhook-delivery-purge.js';

const PURGE_EVERY_MS = 60 * 60_000;

export const webhookDispatcherWorker: BackgroundWorker = {
  name: 'webhook-dispatcher',
  async start({ config, database, logger }) {
    const fetch = outboundFetchFromConfig(config, { timeoutMs: config.webhookTimeoutMs });
    const dispatcher = new WebhookDispatcher({
      db: database.db, fetch, logger: logger.child({ worker: 'webhook-dispatcher' }),
      timeoutMs: config.webhookTimeoutMs, concurrency: config.webhookConcurrency,
    });
    dispatcher.start();
    const log = logger.child({ worker: 'webhook-dispatcher' });
    let purging: Promise<unknown> = Promise.resolve();
    const purge = () => {
      purging = asBackgroundWork(() => purgeFinishedDeliveries(database.db, config.webhookDeliveryRetentionDays))
        .then((deleted) => deleted > 0 && log.info({ deleted }, 'finished webhook deliveries past their retention purged'))
        .catch((error: unknown) => log.error({ err: error }, 'webhook delivery purge failed; the next hourly run tries again'));
    };
    const timer = setInterval(purge, PURGE_EVERY_MS);
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
        await purging;
        await dispatcher.stop();
        await fetch.close();
      },
    };
  },
};
