/** The dispatcher as a background worker of the process, with the process's outbound fetch and settings. */
import type { BackgroundWorker } from '../../platform/workers/background-worker.js';
import { outboundFetchFromConfig } from '../../platform/outbound-fetch/create-outbound-fetch.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';

export const webhookDispatcherWorker: BackgroundWorker = {
  name: 'webhook-dispatcher',
  async start({ config, database, logger }) {
    const fetch = outboundFetchFromConfig(config, { timeoutMs: config.webhookTimeoutMs });
    const dispatcher = new WebhookDispatcher({
      db: database.db, fetch, logger: logger.child({ worker: 'webhook-dispatcher' }),
      timeoutMs: config.webhookTimeoutMs, concurrency: config.webhookConcurrency,
    });
    dispatcher.start();
    return {
      async stop() {
        await dispatcher.stop();
        await fetch.close();
      },
    };
  },
};
