/**
 * `seed-demo`: a small, coherent data set to try the API with: an advertiser with two
 * products and an active campaign, a creator's video with three placements. Written
 * through the use cases, so every row has its events and the workers react as usual.
 * The creator and the advertiser are the development issuer's default subjects, so
 * `npm run cli -- token --role creator` acts as the video's owner.
 */
import { randomUUID } from 'node:crypto';
import type { Actor, CommandContext } from '../../application/actor.js';
import { createAdvertiser } from '../../application/catalog/advertisers.js';
import { createCampaign } from '../../application/catalog/campaigns.js';
import { createPlacement } from '../../application/catalog/placements.js';
import { createProduct } from '../../application/catalog/products.js';
import { createVideo } from '../../application/catalog/videos.js';
import type { Config } from '../../config.js';
import { openDatabase } from '../../infrastructure/db/open-database.js';
import { createLogger } from '../../infrastructure/logger.js';
import { DEFAULT_SUBJECT } from './token-command.js';

export const seedDemoUsage = 'seed-demo';

const context = (actor: Actor): CommandContext => ({ actor, correlationId: `seed-demo-${randomUUID()}` });

export async function seedDemoCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  if (args.length > 0) throw new Error(`usage: ${seedDemoUsage}`);
  const handle = await openDatabase(config, createLogger('warn'));
  try {
    const db = handle.db;
    const admin: Actor = { userId: DEFAULT_SUBJECT.admin, roles: ['admin'] };
    const advertiser = await createAdvertiser({ db, context: context(admin) }, { name: 'Acme Drinks', contact_email: 'ads@acme.example' });
    const asAdvertiser = { db, context: context({ userId: DEFAULT_SUBJECT.advertiser, roles: ['advertiser'], advertiserId: advertiser.id }) };
    const soda = await createProduct(asAdvertiser, { name: 'Acme Cola', category: 'drinks', description: 'The red can' });
    const water = await createProduct(asAdvertiser, { name: 'Acme Spring Water', category: 'drinks' });
    const year = new Date().getUTCFullYear();
    const campaign = await createCampaign(asAdvertiser, {
      name: 'Summer launch',
      budget: '5000.00',
      status: 'active',
      start_date: `${year}-01-01`,
      end_date: `${year + 1}-12-31`,
      pricing: { model: 'cpm', rate: '12.50' },
      product_ids: [soda.id, water.id],
    });
    const asCreator = { db, context: context({ userId: DEFAULT_SUBJECT.creator, roles: ['creator'] }) };
    const video = await createVideo(asCreator, { title: 'Road trip vlog', duration: 612.4, status: 'ready', source_url: 'https://videos.example/road-trip.mp4' });
    const placements = [
      await createPlacement(asCreator, { video_id: video.id, product_id: soda.id, start_time: 12.5, end_time: 18, description: 'Can on the dashboard', position: { x: 0.62, y: 0.55, width: 0.12, height: 0.2 } }),
      await createPlacement(asCreator, { video_id: video.id, product_id: water.id, start_time: 95, end_time: 104.25, description: 'Bottle at the viewpoint' }),
      await createPlacement(asCreator, { video_id: video.id, product_id: soda.id, start_time: 420, end_time: 431.5, description: 'Cooler at the campsite' }),
    ];
    out(`advertiser ${advertiser.id}`);
    out(`products   ${soda.id} ${water.id}`);
    out(`campaign   ${campaign.row.id}`);
    out(`video      ${video.id}`);
    out(`placements ${placements.map((p) => p.id).join(' ')}`);
    out(`tokens: npm run -s cli -- token --role advertiser --advertiser ${advertiser.id}; npm run -s cli -- token --role creator`);
  } finally {
    await handle.close();
  }
}
