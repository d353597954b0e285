/**
 * A catalog test harness: one database and app per test file, a token issuer, and
 * the actors of the tenancy table (admin, two advertisers, two creators) with
 * functions to call the API as each of them.
 */
import { randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../../../src/platform/config/config.js';
import { createJwtVerifier, type TokenVerifier } from '../../../src/platform/auth/jwt-verifier.js';
import { buildApp, type App } from '../../../src/entry/app.js';
import { openTestDatabase, type TestDatabase } from '../../support/engine.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer } from '../../support/tokens.js';

export type ActorName = 'admin' | 'advertiser' | 'otherAdvertiser' | 'creator' | 'otherCreator' | 'anonymous';

export interface Harness {
  app: App;
  database: TestDatabase;
  tokens: Record<Exclude<ActorName, 'anonymous'>, string>;
  ids: { advertiser: string; otherAdvertiser: string; creator: string; otherCreator: string; admin: string };
  /** The token check of `app`, for another app over the same database. */
  verifyToken: TokenVerifier;
  /** Calls the API as `who`; `body` goes as JSON. */
  call(who: ActorName, options: Omit<InjectOptions, 'body'> & { body?: unknown }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** `env`: settings beside the defaults (e.g. a `DATA_DIR` of the test's own for object storage). */
export async function openHarness(env: Record<string, string> = {}): Promise<Harness> {
  const database = await openTestDatabase();
  const issuer = await createTestIssuer();
  const verifyToken = createJwtVerifier({ jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
  const app = await buildApp({ config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0', ...env }), database, logger: pino({ level: 'silent' }), verifyToken });
  // The two advertisers exist as rows: their users act for them.
  const [advertiser, otherAdvertiser] = await Promise.all(
    ['Acme', 'Globex'].map(async (name) =>
      (await database.db.insertInto('advertisers').values({ name, contact_email: `ads@${name.toLowerCase()}.test` }).returning('id').executeTakeFirstOrThrow()).id,
    ),
  ) as [string, string];
  const ids = { advertiser, otherAdvertiser, creator: `creator-${randomUUID()}`, otherCreator: `creator-${randomUUID()}`, admin: `admin-${randomUUID()}` };
  const tokens = {
    admin: await issuer.mint({ userId: ids.admin, roles: ['admin'] }),
    advertiser: await issuer.mint({ userId: `adv-${randomUUID()}`, roles: ['advertiser'], advertiserId: advertiser }),
    otherAdvertiser: await issuer.mint({ userId: `adv-${randomUUID()}`, roles: ['advertiser'], advertiserId: otherAdvertiser }),
    creator: await issuer.mint({ userId: ids.creator, roles: ['creator'] }),
    otherCreator: await issuer.mint({ userId: ids.otherCreator, roles: ['creator'] }),
  };
  return {
    app,
    database,
    verifyToken,
    tokens,
    ids,
    call(who, { body, headers, ...options }) {
      return app.inject({
        ...options,
        headers: {
          ...(who === 'anonymous' ? {} : { authorization: `Bearer ${tokens[who]}` }),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
    },
    async close() {
      await app.close();
      await database.close();
    },
  };
}

export const isProblem = (res: LightMyRequestResponse): boolean =>
  /^application\/problem\+json/.test(String(res.headers['content-type'] ?? ''));

/** A new product of the harness's `advertiser`, made through the API: its id and version. */
export async function newProduct(h: Harness): Promise<{ id: string; version: number }> {
  const res = await h.call('advertiser', { method: 'POST', url: '/v1/products', body: { name: 'Tea' } });
  if (res.statusCode !== 201) throw new Error(`creating a product answered ${res.statusCode}: ${res.body}`);
  return res.json();
}

/** A product of `advertiser` and a video of `creator`, made through the API. */
export async function seedCatalog(h: Harness, owner: { advertiser: 'advertiser' | 'otherAdvertiser'; creator: 'creator' | 'otherCreator' }) {
  const product = await h.call(owner.advertiser, { method: 'POST', url: '/v1/products', body: { name: 'Cola', category: 'drinks' } });
  if (product.statusCode !== 201) throw new Error(`seed product: ${product.statusCode} ${product.body}`);
  const productId = product.json().id as string;
  const campaign = await h.call(owner.advertiser, {
    method: 'POST', url: '/v1/campaigns',
    body: { name: 'Summer', budget: '1500.00', start_date: '2026-06-01', end_date: '2026-08-31', status: 'active', product_ids: [productId], pricing: { model: 'cpm', rate: '4.50' } },
  });
  if (campaign.statusCode !== 201) throw new Error(`seed campaign: ${campaign.statusCode} ${campaign.body}`);
  const video = await h.call(owner.creator, { method: 'POST', url: '/v1/videos', body: { title: 'Trailer', duration: 120.5, status: 'ready' } });
  if (video.statusCode !== 201) throw new Error(`seed video: ${video.statusCode} ${video.body}`);
  const videoId = video.json().id as string;
  const placement = await h.call(owner.creator, {
    method: 'POST', url: '/v1/placements',
    body: { video_id: videoId, product_id: productId, start_time: 10, end_time: 20.5, position: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 } },
  });
  if (placement.statusCode !== 201) throw new Error(`seed placement: ${placement.statusCode} ${placement.body}`);
  return { productId, campaignId: campaign.json().id as string, videoId, placementId: placement.json().id as string };
}

/** Asserts one event of `type` for `aggregateId` caused by request `requestId` of `actor`, and returns its data. */
export async function eventOf(h: Harness, type: string, aggregateId: string, requestId: string): Promise<{ data: Record<string, unknown>; actor: string | null; schemaversion: unknown }> {
  const rows = await h.database.db
    .selectFrom('event_log')
    .selectAll()
    .where('event_type', '=', `com.nedlia.${type}`)
    .where('aggregate_id', '=', aggregateId)
    .execute();
  const mine = rows.filter((r) => (r.metadata as { correlationid?: string } | null)?.correlationid === requestId);
  if (mine.length !== 1) throw new Error(`expected one ${type} event for ${aggregateId} from request ${requestId}, found ${mine.length} (of ${rows.length})`);
  const row = mine[0]!;
  return { data: row.data as Record<string, unknown>, actor: row.created_by, schemaversion: (row.metadata as { schemaversion?: unknown }).schemaversion };
}

/** A request id to send as `x-request-id` and find the events by. */
export const requestId = (): string => `req-${randomUUID()}`;
