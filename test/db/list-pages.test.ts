/**
 * Every list page is read from an index in page order: for each filter and tenancy
 * scope a list accepts, the plan of the query its repository runs has no Sort node.
 * The queries are captured as the repository builds them (a Kysely plugin sees each
 * one), then planned with sorts priced out (`enable_sort = off`): a plan that still
 * sorts has no index to read the page from. Same test on PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type KyselyPlugin, type RootOperationNode, type QueryId } from 'kysely';
import { engine, openTestDatabase, type TestDatabase } from '../support/engine.js';
import { advertiser, product, video } from '../support/fixtures.js';
import { listPlacements } from '../../src/features/catalog/placements/placement-repository.js';
import { listVideos } from '../../src/features/catalog/videos/video-repository.js';
import { listProducts } from '../../src/features/catalog/products/product-repository.js';
import { listCampaigns } from '../../src/features/catalog/campaigns/campaign-repository.js';
import { listAdvertisers } from '../../src/features/catalog/advertisers/advertiser-repository.js';
import { encodeCursor } from '../../src/platform/db/keyset-page.js';
import type { Executor } from '../../src/platform/db/schema.js';

let database: TestDatabase;
let ids: { advertiserId: string; productId: string; videoId: string };

beforeAll(async () => {
  database = await openTestDatabase();
  const advertiserId = await advertiser(database.db);
  const productId = await product(database.db, advertiserId);
  const videoId = await video(database.db);
  ids = { advertiserId, productId, videoId };
});
afterAll(async () => {
  await database.close();
});

/** The SELECTs `list` runs, compiled as the repository built them. */
async function capturedQueries(list: (db: Executor) => Promise<unknown>) {
  const nodes: { node: RootOperationNode; queryId: QueryId }[] = [];
  const capture: KyselyPlugin = {
    transformQuery: (args) => {
      nodes.push({ node: args.node, queryId: args.queryId });
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  await list(database.db.withPlugin(capture));
  const executor = database.db.getExecutor();
  return nodes.filter(({ node }) => node.kind === 'SelectQueryNode').map(({ node, queryId }) => executor.compileQuery(node, queryId));
}

/** The nodes of the plan of `query`, with sorts and full scans priced out. */
async function planNodes(query: { sql: string; parameters: readonly unknown[] }): Promise<PlanNode[]> {
  return database.db.transaction().execute(async (tx) => {
    await sql`SET LOCAL enable_sort = off`.execute(tx);
    await sql`SET LOCAL enable_seqscan = off`.execute(tx);
    const { rows } = await tx.executeQuery<{ 'QUERY PLAN': unknown }>({
      sql: `EXPLAIN (FORMAT JSON) ${query.sql}`,
      parameters: query.parameters,
      query: { kind: 'RawNode' } as never,
      queryId: { queryId: 'explain' },
    });
    const raw = rows[0]?.['QUERY PLAN'];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
    const nodes: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      nodes.push(node);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan[0]!.Plan);
    return nodes;
  });
}
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const page = { limit: 50 };
const after = { limit: 50, cursor: encodeCursor({ micros: '1700000000000000', id: '00000000-0000-4000-8000-000000000000' }) };

describe(`list pages come from an index in page order (${engine})`, () => {
  /** What is listed, how, and the index (one of) its page must come from. */
  const cases: [string, (db: Executor) => Promise<unknown>, string, string[]][] = [
    ['placements, admin', (db) => listPlacements(db, {}, page), 'placements', ['idx_placements_page']],
    ['placements, admin, next page', (db) => listPlacements(db, {}, after), 'placements', ['idx_placements_page']],
    ['placements of a video', (db) => listPlacements(db, { videoId: ids.videoId }, page), 'placements', ['idx_placements_video_page']],
    ['placements of a video, by status', (db) => listPlacements(db, { videoId: ids.videoId, status: 'active' }, page), 'placements', ['idx_placements_video_page']],
    ['placements of a product', (db) => listPlacements(db, { productId: ids.productId }, page), 'placements', ['idx_placements_product_page']],
    ['placements by status', (db) => listPlacements(db, { status: 'draft' }, page), 'placements', ['idx_placements_page']],
    ['placements, creator scope', (db) => listPlacements(db, { videoOwnerId: 'creator-1' }, page), 'placements', ['idx_placements_owner_page']],
    ['placements of a video, creator scope, next page', (db) => listPlacements(db, { videoId: ids.videoId, videoOwnerId: 'creator-1' }, after), 'placements', ['idx_placements_video_page', 'idx_placements_owner_page']],
    ['placements, advertiser scope', (db) => listPlacements(db, { productAdvertiserId: ids.advertiserId }, page), 'placements', ['idx_placements_advertiser_page']],
    ['placements, creator and advertiser scopes', (db) => listPlacements(db, { videoOwnerId: 'creator-1', productAdvertiserId: ids.advertiserId }, page), 'placements', ['idx_placements_owner_page', 'idx_placements_advertiser_page']],
    ['videos', (db) => listVideos(db, {}, page), 'videos', ['idx_videos_page']],
    ['videos by status', (db) => listVideos(db, { status: 'active' } as never, page), 'videos', ['idx_videos_status_page']],
    ['videos, creator scope', (db) => listVideos(db, { ownerId: 'creator-1' }, after), 'videos', ['idx_videos_owner_page']],
    ['products', (db) => listProducts(db, {}, page), 'products', ['idx_products_page']],
    ['products of an advertiser', (db) => listProducts(db, { advertiserId: ids.advertiserId }, page), 'products', ['idx_products_advertiser_page']],
    ['products, creator scope (active advertisers)', (db) => listProducts(db, { visibleTo: { activeAdvertisers: true } }, page), 'products', ['idx_products_page']],
    ['campaigns', (db) => listCampaigns(db, {}, page), 'campaigns', ['idx_campaigns_page']],
    ['campaigns by status', (db) => listCampaigns(db, { status: 'active' }, page), 'campaigns', ['idx_campaigns_status_page']],
    ['campaigns, advertiser scope', (db) => listCampaigns(db, { advertiserId: ids.advertiserId }, after), 'campaigns', ['idx_campaigns_advertiser_page']],
    ['campaigns of a product', (db) => listCampaigns(db, { productId: ids.productId }, page), 'campaigns', ['idx_campaigns_page']],
    ['advertisers', (db) => listAdvertisers(db, {}, page), 'advertisers', ['idx_advertisers_page']],
    ['advertisers by status', (db) => listAdvertisers(db, { status: 'active' }, page), 'advertisers', ['idx_advertisers_status_page']],
  ];

  it.each(cases)('%s', async (_name, list, table, indexes) => {
    const queries = await capturedQueries(list);
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) {
      const nodes = await planNodes(query);
      expect(nodes.filter((node) => node['Node Type'].includes('Sort')).map((node) => node['Node Type'])).toEqual([]);
      const scans = nodes.filter((node) => node['Relation Name'] === table);
      expect(scans).toHaveLength(1);
      expect(indexes).toContain(scans[0]!['Index Name']);
    }
  });
});
