/**
 * `seed-demo`: a small, coherent data set to try the API with: an advertiser with two
 * products and an active campaign, a creator's video with three placements. Written
 * through the use cases (directly, or through the API of the service that holds
 * `DATA_DIR`), so every row has its events and the workers react as usual. The creator
 * and the advertiser are the development issuer's default subjects, so
 * `npm run cli -- token --role creator` acts as the video's owner.
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from '../../platform/events/command-context.js';
import {
  createAdvertiser,
  createCampaign,
  createPlacement,
  createProduct,
  createVideo,
  type NewAdvertiserInput,
  type NewCampaignInput,
  type NewPlacementInput,
  type NewProductInput,
  type NewVideoInput,
} from '../../features/catalog/index.js';
import type { Config } from '../../platform/config/config.js';
import type { DatabaseHandle } from '../../platform/db/connect.js';
import { openDatabase } from '../../platform/db/open-database.js';
import { createLogger } from '../../platform/logging/logger.js';
import { dataAccess, type RunningService } from './data-access.js';
import { DEFAULT_SUBJECT } from './token-command.js';

export const seedDemoUsage = 'seed-demo';

interface Created {
  id: string;
}

/** Creates catalog rows as an actor: through the use cases or through the API. */
interface CatalogWriter {
  advertiser(actor: Actor, input: NewAdvertiserInput): Promise<Created>;
  product(actor: Actor, input: NewProductInput): Promise<Created>;
  campaign(actor: Actor, input: NewCampaignInput): Promise<Created>;
  video(actor: Actor, input: NewVideoInput): Promise<Created>;
  placement(actor: Actor, input: NewPlacementInput): Promise<Created>;
}

function useCaseWriter(handle: DatabaseHandle): CatalogWriter {
  const command = (actor: Actor) => ({ db: handle.db, context: { actor, correlationId: `seed-demo-${randomUUID()}` } });
  return {
    advertiser: (actor, input) => createAdvertiser(command(actor), input),
    product: (actor, input) => createProduct(command(actor), input),
    campaign: async (actor, input) => (await createCampaign(command(actor), input)).row,
    video: (actor, input) => createVideo(command(actor), input),
    placement: (actor, input) => createPlacement(command(actor), input),
  };
}

function apiWriter(service: RunningService): CatalogWriter {
  const post = (path: string) => (actor: Actor, input: object) => service.request<Created>('POST', path, actor, input);
  return {
    advertiser: post('/v1/advertisers'),
    product: post('/v1/products'),
    campaign: post('/v1/campaigns'),
    video: post('/v1/videos'),
    placement: post('/v1/placements'),
  };
}

async function seed(write: CatalogWriter, out: (line: string) => void): Promise<void> {
  const admin: Actor = { userId: DEFAULT_SUBJECT.admin, roles: ['admin'] };
  const advertiser = await write.advertiser(admin, { name: 'Acme Drinks', contact_email: 'ads@acme.example' });
  const asAdvertiser: Actor = { userId: DEFAULT_SUBJECT.advertiser, roles: ['advertiser'], advertiserId: advertiser.id };
  const soda = await write.product(asAdvertiser, { name: 'Acme Cola', category: 'drinks', description: 'The red can' });
  const water = await write.product(asAdvertiser, { name: 'Acme Spring Water', category: 'drinks' });
  const year = new Date().getUTCFullYear();
  const campaign = await write.campaign(asAdvertiser, {
    name: 'Summer launch',
    budget: '5000.00',
    status: 'active',
    start_date: `${year}-01-01`,
    end_date: `${year + 1}-12-31`,
    pricing: { model: 'cpm', rate: '12.50' },
    product_ids: [soda.id, water.id],
  });
  const creator: Actor = { userId: DEFAULT_SUBJECT.creator, roles: ['creator'] };
  const video = await write.video(creator, { title: 'Road trip vlog', duration: 612.4, status: 'ready', source_url: 'https://videos.example/road-trip.mp4' });
  const placements = [
    await write.placement(creator, { video_id: video.id, product_id: soda.id, start_time: 12.5, end_time: 18, description: 'Can on the dashboard', position: { x: 0.62, y: 0.55, width: 0.12, height: 0.2 } }),
    await write.placement(creator, { video_id: video.id, product_id: water.id, start_time: 95, end_time: 104.25, description: 'Bottle at the viewpoint' }),
    await write.placement(creator, { video_id: video.id, product_id: soda.id, start_time: 420, end_time: 431.5, description: 'Cooler at the campsite' }),
  ];
  out(`advertiser ${advertiser.id}`);
  out(`products   ${soda.id} ${water.id}`);
  out(`campaign   ${campaign.id}`);
  out(`video      ${video.id}`);
  out(`placements ${placements.map((p) => p.id).join(' ')}`);
  out(`tokens: npm run -s cli -- token --role advertiser --advertiser ${advertiser.id}; npm run -s cli -- token --role creator`);
}

export async function seedDemoCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  if (args.length > 0) throw new Error(`usage: ${seedDemoUsage}`);
  const access = await dataAccess(config, 'npm run cli -- seed-demo', (c, options) => openDatabase(c, createLogger('warn'), options));
  if (access.kind === 'service') {
    out(`(through the service at ${access.service.holder.apiUrl}, which holds DATA_DIR)`);
    return seed(apiWriter(access.service), out);
  }
  try {
    await seed(useCaseWriter(access.handle), out);
  } finally {
    await access.handle.close();
  }
}
