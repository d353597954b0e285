/**
 * A placement-file harness: the catalog harness (its app writes the catalog), a second
 * app over the same database whose object storage is a directory of its own, and the
 * event side running the requester and generator on that storage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { buildApp, type App } from '../../../src/entry/app.js';
import { startEventSide, type EventSide } from '../../../src/entry/process/event-side.js';
import { placementFileConsumersWith } from '../../../src/features/placement-files/index.js';
import { loadConfig, type Config } from '../../../src/platform/config/config.js';
import { createObjectStorage } from '../../../src/platform/storage/create-storage.js';
import type { ObjectStorage } from '../../../src/platform/storage/object-storage.js';
import { eventually, silentLogger } from '../../events/support.js';
import { openHarness, type Harness } from '../../http/catalog/support.js';

export interface FilesHarness {
  h: Harness;
  /** Serves the placement files from `storage`. */
  files: App;
  storage: ObjectStorage;
  config: Config;
  sides: EventSide[];
  /** Starts one more worker running the placement-file consumers (two race on one video). */
  addWorker(): Promise<EventSide>;
  close(): Promise<void>;
}

/** `env` adds settings (e.g. `STORAGE=s3`) to the files app's and the generator's configuration. */
export async function openFilesHarness(env: Record<string, string> = {}): Promise<FilesHarness> {
  const h = await openHarness();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'nedlia-files-'));
  const config = loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0', DATA_DIR: dataDir, ...env });
  const storage = createObjectStorage(config);
  const files = await buildApp({ config, database: h.database, logger: pino({ level: 'silent' }), verifyToken: h.verifyToken });
  const sides: EventSide[] = [];
  const addWorker = async () => {
    const side = await startEventSide(config, h.database, silentLogger(), { relay: sides.length === 0, consumers: placementFileConsumersWith(() => storage) });
    sides.push(side);
    return side;
  };
  await addWorker();
  return {
    h, files, storage, config, sides, addWorker,
    async close() {
      for (const side of sides.splice(0)) await side.stop();
      await files.close();
      storage.close();
      await h.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A product with an active campaign that serves today, a video and one placement, made through the API. */
export async function seedServing(h: Harness, who: { advertiser: 'advertiser' | 'otherAdvertiser'; creator: 'creator' | 'otherCreator' } = { advertiser: 'advertiser', creator: 'creator' }) {
  const ok = (res: { statusCode: number; body: string }, what: string, status = 201) => {
    if (res.statusCode !== status) throw new Error(`${what}: ${res.statusCode} ${res.body}`);
    return JSON.parse(res.body) as { id: string; version: number };
  };
  const product = ok(await h.call(who.advertiser, { method: 'POST', url: '/v1/products', body: { name: 'Cola', category: 'drinks', assets: [] } }), 'product');
  const campaign = ok(await h.call(who.advertiser, {
    method: 'POST', url: '/v1/campaigns',
    body: { name: 'Always', budget: '1000.00', start_date: '2020-01-01', end_date: '2099-12-31', status: 'active', product_ids: [product.id], pricing: { model: 'cpm', rate: '1.00' } },
  }), 'campaign');
  const video = ok(await h.call(who.creator, { method: 'POST', url: '/v1/videos', body: { title: 'Trailer', duration: 120, status: 'ready' } }), 'video');
  const placement = ok(await h.call(who.creator, {
    method: 'POST', url: '/v1/placements',
    body: { video_id: video.id, product_id: product.id, start_time: 10, end_time: 20, position: { x: 0.1, y: 0.2, width: 0.3, height: 0.2 } },
  }), 'placement');
  return { productId: product.id, campaignId: campaign.id, videoId: video.id, placementId: placement.id };
}

export interface FileJson {
  video_id: string;
  version: number;
  placements: { id: string; start_time: number; end_time: number; campaign_id: string; product: { name: string } }[];
}

/** The served file once `until` holds for it. */
export async function fileWhen(f: FilesHarness, videoId: string, until: (file: FileJson | undefined, status: number) => boolean, what: string): Promise<FileJson | undefined> {
  let last: FileJson | undefined;
  await eventually(async () => {
    const res = await f.files.inject({ url: `/v1/videos/${videoId}/placement-file` });
    last = res.statusCode === 200 ? res.json<FileJson>() : undefined;
    return until(last, res.statusCode);
  }, 20_000, what);
  return last;
}
