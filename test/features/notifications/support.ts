/**
 * For the notifications tests: the catalog harness plus the event side of a process on
 * its database (outbox relay, postgres bus, the notifier) and a webhook dispatcher with
 * fast retries, and a local receiver whose answer each test chooses per path.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PostgresBus } from '../../../src/platform/bus/postgres/postgres-bus.js';
import { ConsumerRuntime } from '../../../src/platform/consumers/consumer-runtime.js';
import { OutboxRelay } from '../../../src/platform/outbox/outbox-relay.js';
import { createOutboundFetch } from '../../../src/platform/outbound-fetch/guarded-fetch.js';
import { notificationConsumers, WebhookDispatcher, type DispatcherOptions } from '../../../src/features/notifications/index.js';
import { openHarness, type Harness } from '../../http/catalog/support.js';
import { silentLogger } from '../../events/support.js';

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export type Answer = (req: IncomingMessage, res: ServerResponse, count: number) => void;

/** A receiver on loopback: `answers[path]` decides each answer (200 by default); every request is kept. */
export async function openReceiver(): Promise<{ url: (path: string) => string; received: Received[]; answers: Record<string, Answer>; close(): Promise<void> }> {
  const received: Received[] = [];
  const answers: Record<string, Answer> = {};
  const counts = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const count = (counts.get(path) ?? 0) + 1;
      counts.set(path, count);
      received.push({ path, headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks).toString(), at: Date.now() });
      const answer = answers[path];
      if (answer) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        answer(req, res, count);
      } else res.writeHead(200).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    answers,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface NotifyHarness extends Harness {
  dispatcher: WebhookDispatcher;
  stopEvents(): Promise<void>;
}

/** The harness with the notifier and a dispatcher (loopback allowed as 127.0.0.1; `localhost` is not, so it stays refused). */
export async function openNotifyHarness(dispatcher: Partial<DispatcherOptions> = {}): Promise<NotifyHarness> {
  const h = await openHarness();
  const db = h.database.db;
  const logger = silentLogger();
  const bus = new PostgresBus(db, { pollMaxMs: 20 });
  const relay = new OutboxRelay(db, bus, { pollMaxMs: 20 });
  const runtime = new ConsumerRuntime({ db, bus, logger, retry: { baseDelayMs: 20, maxDelayMs: 100 } });
  await runtime.start(notificationConsumers);
  relay.start();
  const fetch = createOutboundFetch({ allowHosts: ['127.0.0.1'], httpsOnly: false });
  const d = new WebhookDispatcher({ db, fetch, logger, pollMaxMs: 20, retryDelaysMs: [100, 100, 100, 100], ...dispatcher });
  d.start();
  let stopped = false;
  const stopEvents = async () => {
    if (stopped) return;
    stopped = true;
    await d.stop();
    await fetch.close();
    await relay.stop();
    await runtime.stop();
    await bus.close();
  };
  return {
    ...h,
    dispatcher: d,
    stopEvents,
    async close() {
      await stopEvents();
      await h.close();
    },
  };
}

/** A campaign of the harness's `advertiser` (the event that makes a `campaign.created` notification); its id. */
export async function newCampaign(h: Harness, who: 'advertiser' | 'otherAdvertiser' = 'advertiser', name = 'Spring'): Promise<string> {
  const product = await h.call(who, { method: 'POST', url: '/v1/products', body: { name: 'Tea' } });
  if (product.statusCode !== 201) throw new Error(`product: ${product.statusCode} ${product.body}`);
  const campaign = await h.call(who, {
    method: 'POST', url: '/v1/campaigns',
    body: { name, budget: '100.00', start_date: '2026-03-01', end_date: '2026-04-01', product_ids: [product.json().id] },
  });
  if (campaign.statusCode !== 201) throw new Error(`campaign: ${campaign.statusCode} ${campaign.body}`);
  return campaign.json().id as string;
}

export async function newWebhook(h: Harness, url: string, extra: Record<string, unknown> = {}, who: 'advertiser' | 'otherAdvertiser' = 'advertiser'): Promise<{ id: string; secret: string; version: number }> {
  const res = await h.call(who, { method: 'POST', url: '/v1/webhooks', body: { url, event_types: ['campaign.created'], ...extra } });
  if (res.statusCode !== 201) throw new Error(`webhook: ${res.statusCode} ${res.body}`);
  return res.json();
}
