import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config/config.js';
import { connectDatabase } from '../../src/platform/db/open-database.js';
import { seedDemoCommand } from '../../src/entry/cli/seed-demo-command.js';
import { engine } from '../support/engine.js';
import { useServiceEnvironment } from '../support/service-process.js';

const environment = useServiceEnvironment();

describe(`seed-demo on ${engine}`, () => {
  it('writes a coherent demo catalog through the use cases, with its events', async () => {
    const lines: string[] = [];
    await seedDemoCommand(loadConfig(environment.env()), [], (line) => lines.push(line));
    const ids = Object.fromEntries(lines.slice(0, 5).map((l) => [l.split(/\s+/)[0], l.split(/\s+/).slice(1)]));
    expect(ids.placements).toHaveLength(3);

    const handle = await connectDatabase(loadConfig(environment.env()));
    try {
      const db = handle.db;
      const campaign = await db.selectFrom('campaigns').selectAll().where('id', '=', ids.campaign?.[0] as string).executeTakeFirstOrThrow();
      expect(campaign).toMatchObject({ status: 'active', budget: '5000.00', spent: '0.00', pricing_model: 'cpm' });
      const links = await db.selectFrom('campaign_products').select('product_id').where('campaign_id', '=', campaign.id).execute();
      expect(links.map((l) => l.product_id).sort()).toEqual([...(ids.products ?? [])].sort());
      const video = await db.selectFrom('videos').selectAll().where('id', '=', ids.video?.[0] as string).executeTakeFirstOrThrow();
      expect(video.owner_id).toBe('00000000-0000-4000-8000-00000000c001');
      const events = await db.selectFrom('event_log').select('event_type').execute();
      expect(events.filter((e) => e.event_type === 'com.nedlia.placement.created')).toHaveLength(3);
      expect(events.map((e) => e.event_type)).toEqual(
        expect.arrayContaining(['com.nedlia.advertiser.created', 'com.nedlia.product.created', 'com.nedlia.campaign.created', 'com.nedlia.video.created']),
      );
    } finally {
      await handle.close();
    }
  });
});
