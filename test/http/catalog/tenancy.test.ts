/**
 * Tenancy, walked from the route table itself: every /v1 route × every caller
 * (admin, advertiser, other advertiser, creator, other creator, no token) × a row
 * of each tenant. Checks the status, that nothing of the other tenant appears in
 * the response, and that refused writes changed nothing. A /v1 route without an
 * expectation here fails the test, so a new route cannot slip through unchecked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { isProblem, openHarness, seedCatalog, type ActorName, type Harness } from './support.js';

type Role = 'admin' | 'advertiser' | 'creator';
type Expect = (role: Role, own: boolean) => number;
type Tenant = Awaited<ReturnType<typeof seedCatalog>> & { advertiserId: string };

let h: Harness;
let tenants: { A: Tenant; B: Tenant };
beforeAll(async () => {
  h = await openHarness();
  tenants = {
    A: { ...(await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' })), advertiserId: h.ids.advertiser },
    B: { ...(await seedCatalog(h, { advertiser: 'otherAdvertiser', creator: 'otherCreator' })), advertiserId: h.ids.otherAdvertiser },
  };
});
afterAll(async () => {
  await h.close();
});

const by = (table: Partial<Record<Role, number | [own: number, foreign: number]>>): Expect => (role, own) => {
  const e = table[role] ?? 403;
  return typeof e === 'number' ? e : own ? e[0] : e[1];
};

/** PATCH and DELETE are sent with a stale `If-Match`: allowed callers get 412 and nothing changes. */
const EXPECTED: Record<string, Expect> = {
  'GET /v1/advertisers': by({ admin: 200, advertiser: 200 }),
  'GET /v1/advertisers/:id': by({ admin: 200, advertiser: [200, 404], creator: 404 }),
  'POST /v1/advertisers': by({ admin: 201 }),
  'PATCH /v1/advertisers/:id': by({ admin: 412, advertiser: [403, 404], creator: 404 }),
  'DELETE /v1/advertisers/:id': by({ admin: 412, advertiser: [403, 404], creator: 404 }),
  'GET /v1/campaigns': by({ admin: 200, advertiser: 200 }),
  'GET /v1/campaigns/:id': by({ admin: 200, advertiser: [200, 404], creator: 404 }),
  'POST /v1/campaigns': by({ admin: 201, advertiser: [201, 422] }),
  'PATCH /v1/campaigns/:id': by({ admin: 412, advertiser: [412, 404], creator: 404 }),
  'DELETE /v1/campaigns/:id': by({ admin: 412, advertiser: [412, 404], creator: 404 }),
  'GET /v1/products': by({ admin: 200, advertiser: 200, creator: 200 }),
  'GET /v1/products/:id': by({ admin: 200, advertiser: [200, 404], creator: 200 }),
  'POST /v1/products': by({ admin: 201, advertiser: [201, 422] }),
  'PATCH /v1/products/:id': by({ admin: 412, advertiser: [412, 404], creator: 403 }),
  'DELETE /v1/products/:id': by({ admin: 412, advertiser: [412, 404], creator: 403 }),
  'GET /v1/videos': by({ admin: 200, creator: 200 }),
  'GET /v1/videos/:id': by({ admin: 200, advertiser: 404, creator: [200, 404] }),
  'GET /v1/videos/:id/placements': by({ admin: 200, advertiser: 404, creator: [200, 404] }),
  'POST /v1/videos': by({ admin: 201, creator: 201 }),
  'PATCH /v1/videos/:id': by({ admin: 412, advertiser: 404, creator: [412, 404] }),
  'DELETE /v1/videos/:id': by({ admin: 412, advertiser: 404, creator: [412, 404] }),
  'GET /v1/placements': by({ admin: 200, advertiser: 200, creator: 200 }),
  'GET /v1/placements/:id': by({ admin: 200, advertiser: [200, 404], creator: [200, 404] }),
  'POST /v1/placements': by({ admin: 201, creator: [201, 422] }),
  'PATCH /v1/placements/:id': by({ admin: 412, advertiser: [403, 404], creator: [412, 404] }),
  'DELETE /v1/placements/:id': by({ admin: 412, advertiser: [403, 404], creator: [412, 404] }),
  // Validation (features/validation): the seeded ids name no validation run.
  'POST /v1/videos/:id/validations': by({ admin: 202, advertiser: 404, creator: [202, 404] }),
  'GET /v1/videos/:id/validations': by({ admin: 200, advertiser: 404, creator: [200, 404] }),
  'GET /v1/validation-runs/:id': by({ admin: 404, advertiser: 404, creator: 404 }),
  // Placement files (features/placement-files): public; this app writes no file, so there is none to read.
  'GET /v1/videos/:id/placement-file': by({ admin: 404, advertiser: 404, creator: 404 }),
  'OPTIONS /v1/videos/:id/placement-file': by({ admin: 204, advertiser: 204, creator: 204 }),
  'GET /v1/schemas/placement-file.json': by({ admin: 200, advertiser: 200, creator: 200 }),
  // Analysis: no seeded video was analysed, so no transcript exists for anyone.
  'POST /v1/analyze': by({ admin: 202, creator: 202 }),
  'GET /v1/videos/:id/transcript': by({ admin: 404, advertiser: 404, creator: 404 }),
  'GET /v1/me': by({ admin: 200, advertiser: 200, creator: 200 }),
  // Notifications and webhooks: advertisers' own (ids here name none of them).
  'GET /v1/notifications': by({ admin: 200, advertiser: 200 }),
  'GET /v1/notifications/:id': by({ admin: 404, advertiser: 404 }),
  'POST /v1/notifications/:id/read': by({ admin: 404, advertiser: 404 }),
  'POST /v1/notifications/read': by({ admin: 422, advertiser: 200 }),
  'GET /v1/webhooks': by({ admin: 200, advertiser: 200 }),
  'POST /v1/webhooks': by({ admin: 201, advertiser: [201, 422] }),
  'GET /v1/webhooks/:id': by({ admin: 404, advertiser: 404 }),
  'PATCH /v1/webhooks/:id': by({ admin: 404, advertiser: 404 }),
  'DELETE /v1/webhooks/:id': by({ admin: 404, advertiser: 404 }),
  'POST /v1/webhooks/:id/rotate-secret': by({ admin: 404, advertiser: 404 }),
  'GET /v1/webhooks/:id/deliveries': by({ admin: 404, advertiser: 404 }),
  'POST /v1/webhook-deliveries/:id/replay': by({ admin: 404, advertiser: 404 }),
  // Plugin sync: creators' (and admins'); a sync request id here names none.
  'GET /v1/sync': by({ admin: 200, creator: 200 }),
  'POST /v1/sync-requests': by({ admin: 202, creator: 202 }),
  'GET /v1/sync-requests/:id': by({ admin: 404, creator: 404 }),
  'GET /v1/sync-requests/:id/snapshot': by({ admin: 404, creator: 404 }),
  // Operations on the event side and the schema: admins only (ids here name no dead letter).
  'GET /v1/admin/dead-letters': by({ admin: 200 }),
  'GET /v1/admin/dead-letters/:id': by({ admin: 404 }),
  // This app runs without a bus: a replay is refused before the dead letter is looked up.
  'POST /v1/admin/dead-letters/:id/replay': by({ admin: 503 }),
  'POST /v1/admin/dead-letters/:id/discard': by({ admin: 404 }),
  'GET /v1/admin/events': by({ admin: 200 }),
  'GET /v1/admin/migrations': by({ admin: 200 }),
  // Ingestion: events take an ingest key or an admin token (an empty body is an invalid event).
  'POST /v1/events': by({ admin: 422 }),
  'POST /v1/ingest-keys': by({ admin: 422, creator: 201 }),
  'GET /v1/ingest-keys': by({ admin: 200, creator: 200 }),
  'DELETE /v1/ingest-keys/:id': by({ admin: 404, creator: 404 }),
  'GET /v1/campaigns/:id/stats': by({ admin: 200, advertiser: [200, 404], creator: 404 }),
  'GET /v1/admin/ingestion': by({ admin: 200 }),
  // A backup of the embedded database; a PostgreSQL server is backed up by the server.
  // (409 on PostgreSQL: the server is backed up by the server, not by this route.)
  'POST /v1/admin/backups': by({ admin: engine === 'postgres' ? 409 : [201, 409] }),
};

/** What a caller without a token gets from the public routes (every other /v1 route answers 401). */
const ANONYMOUS: Record<string, number> = {
  'GET /v1/videos/:id/placement-file': 404,
  'OPTIONS /v1/videos/:id/placement-file': 204,
  'GET /v1/schemas/placement-file.json': 200,
};

/** Query strings a route needs to reach its handler. */
const QUERY: Record<string, (t: Tenant) => string> = {
  '/v1/admin/events': (t) => `?aggregate_id=${t.videoId}`,
};

const ACTORS: { name: ActorName; role: Role | undefined; side: 'A' | 'B' | undefined }[] = [
  { name: 'admin', role: 'admin', side: undefined },
  { name: 'advertiser', role: 'advertiser', side: 'A' },
  { name: 'otherAdvertiser', role: 'advertiser', side: 'B' },
  { name: 'creator', role: 'creator', side: 'A' },
  { name: 'otherCreator', role: 'creator', side: 'B' },
  { name: 'anonymous', role: undefined, side: undefined },
];

/** The row of `tenant` a route's `:id` means. */
function idFor(url: string, t: Tenant): string {
  const resource = url.split('/')[2];
  return { advertisers: t.advertiserId, campaigns: t.campaignId, products: t.productId, videos: t.videoId, placements: t.placementId }[resource as 'videos'] ?? t.videoId;
}

function bodyFor(method: string, url: string, t: Tenant): unknown {
  if (method === 'PATCH') {
    return { '/v1/advertisers/:id': { name: 'x' }, '/v1/campaigns/:id': { name: 'x' }, '/v1/products/:id': { name: 'x' }, '/v1/videos/:id': { title: 'x' }, '/v1/placements/:id': { description: 'x' }, '/v1/webhooks/:id': { event_types: ['*'] } }[url];
  }
  if (method !== 'POST') return undefined;
  return {
    '/v1/advertisers': { name: 'New', contact_email: 'new@ads.test' },
    '/v1/campaigns': { advertiser_id: t.advertiserId, name: 'C', budget: '10.00', start_date: '2026-01-01', end_date: '2026-01-02', product_ids: [t.productId] },
    '/v1/products': { advertiser_id: t.advertiserId, name: 'P' },
    '/v1/videos': { title: 'V', duration: 10 },
    '/v1/placements': { video_id: t.videoId, product_id: t.productId, start_time: 1, end_time: 2 },
    '/v1/analyze': { url: 'https://videos.example.com/trailer.mp4' },
    '/v1/webhooks': { advertiser_id: t.advertiserId, url: 'https://hooks.example.com/nedlia', event_types: ['*'] },
  }[url] ?? {};
}

/** Ids of tenant `other` that a caller of `role` must never see. */
function hiddenFrom(role: Role, other: Tenant): string[] {
  if (role === 'advertiser') return [other.advertiserId, other.campaignId, other.productId, other.placementId, other.videoId];
  return [other.videoId, other.placementId, other.campaignId];
}

describe(`tenancy on ${engine}: every route × every caller × own and foreign rows`, () => {
  it('answers each with the expected status and never shows another tenant’s rows', async () => {
    const routes = h.app.routeTable.filter((r) => r.url.startsWith('/v1/'));
    expect(routes.map((r) => `${r.method} ${r.url}`).sort()).toEqual(Object.keys(EXPECTED).sort());
    const failures: string[] = [];
    let checked = 0;
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      const expectation = EXPECTED[key];
      if (!expectation) failures.push(`${key}: no expectation in the tenancy table`);
      for (const actor of ACTORS) {
        for (const side of ['A', 'B'] as const) {
          const target = tenants[side];
          const url = route.url.replace(':id', idFor(route.url, target)) + (QUERY[route.url]?.(target) ?? '');
          const res = await h.call(actor.name, {
            method: route.method as 'GET',
            url,
            body: bodyFor(route.method, route.url, target),
            headers: route.method === 'PATCH' || route.method === 'DELETE' ? { 'if-match': '"999"' } : {},
          });
          checked++;
          const own = actor.side === undefined || actor.side === side;
          const want = actor.role === undefined ? (ANONYMOUS[key] ?? 401) : expectation ? expectation(actor.role, own) : undefined;
          const label = `${actor.name} ${route.method} ${route.url} on ${own ? 'own' : 'foreign'} row`;
          if (res.statusCode >= 500 && res.statusCode !== want) failures.push(`${label}: ${res.statusCode}`);
          if (want !== undefined && res.statusCode !== want) failures.push(`${label}: ${res.statusCode}, expected ${want} (${res.body.slice(0, 120)})`);
          if (res.statusCode >= 400 && !isProblem(res)) failures.push(`${label}: error without problem+json`);
          if (actor.role && actor.role !== 'admin' && actor.side) {
            const other = tenants[actor.side === 'A' ? 'B' : 'A'];
            const sent = `${url} ${JSON.stringify(bodyFor(route.method, route.url, target) ?? '')}`;
            // An id the caller sent itself may come back (404 detail, instance); nothing else of the other tenant may.
            for (const hidden of hiddenFrom(actor.role, other).filter((id) => !sent.includes(id))) {
              if (res.body.includes(hidden)) failures.push(`${label}: response shows ${hidden} of the other tenant`);
            }
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(Object.keys(EXPECTED).length * ACTORS.length * 2);
    // Every refused or stale write left the seeded rows as they were.
    for (const table of ['campaigns', 'products', 'videos', 'placements'] as const) {
      const rows = await h.database.db.selectFrom(table).select(['id', 'version', 'deleted_at']).where('id', 'in', [tenants.A, tenants.B].map((t) => idFor(`/v1/${table}/:id`, t))).execute();
      expect(rows.map((r) => [r.version, r.deleted_at])).toEqual([[1, null], [1, null]]);
    }
  });
});
