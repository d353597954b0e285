/**
 * Bad input never breaks the API: random and malformed bodies, params, query
 * strings and headers against every /v1 route of the route table. Never a 5xx;
 * every error is problem+json.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { isProblem, openHarness, seedCatalog, type ActorName, type Harness } from './support.js';

let h: Harness;
let seed: Awaited<ReturnType<typeof seedCatalog>>;
beforeAll(async () => {
  h = await openHarness();
  seed = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
});
afterAll(async () => {
  await h.close();
});

/** Field names the routes know, so that mutations often get past the first check. */
const FIELDS = [
  'name', 'contact_email', 'status', 'advertiser_id', 'budget', 'currency', 'start_date', 'end_date', 'pricing', 'rules', 'product_ids',
  'description', 'category', 'assets', 'title', 'duration', 'source_url', 'metadata', 'video_id', 'product_id', 'start_time', 'end_time',
  'position', 'timecode_in', 'timecode_out', 'fps', 'spent', 'version', 'limit', 'cursor',
];

const validBody = () => ({
  name: 'N', contact_email: 'a@b.test', budget: '10.00', start_date: '2026-01-01', end_date: '2026-02-01', title: 'T', duration: 30,
  video_id: seed.videoId, product_id: seed.productId, start_time: 1, end_time: 2, product_ids: [seed.productId],
});

const idArb = () => fc.oneof(fc.uuid(), fc.constantFrom(seed.videoId, seed.placementId, seed.productId, seed.campaignId), fc.string({ maxLength: 40 }), fc.constant('%00'), fc.constant('..%2F..'));
const valueArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('\u0000', '1e309', '-0', 'NaN', '9999999999999999999', '2026-02-30', '00:00:00;00', '"1"', ''),
  fc.double(),
  fc.integer(),
);
const bodyArb = fc.oneof(
  fc.record({ key: fc.constantFrom(...FIELDS), value: valueArb, drop: fc.constantFrom(...FIELDS) }).map(({ key, value, drop }) => {
    const body: Record<string, unknown> = { ...validBody(), [key]: value };
    delete body[drop];
    return JSON.stringify(body);
  }),
  fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 8 })), valueArb, { maxKeys: 6 }).map((d) => JSON.stringify(d)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('{', '{"a":', '[]', 'null', '""', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'),
);
const queryArb = fc.dictionary(
  fc.oneof(fc.constantFrom('limit', 'cursor', 'status', 'advertiser_id', 'video_id', 'product_id'), fc.string({ maxLength: 6 })),
  fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String), fc.uuid(), fc.base64String({ maxLength: 40 })),
  { maxKeys: 4 },
);
const headersArb = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/problem+json'),
    'if-match': fc.oneof(fc.constantFrom('"1"', '"2"', 'W/"1"', '*', '"99999999999"', '"-1"'), fc.string({ maxLength: 12 })),
    'idempotency-key': fc.oneof(fc.uuid(), fc.string({ maxLength: 300 })),
    'x-request-id': fc.string({ maxLength: 140 }),
  },
  { requiredKeys: [] },
);
const who = fc.constantFrom<ActorName>('admin', 'advertiser', 'creator', 'otherCreator', 'anonymous');

describe(`fuzzing every route on ${engine}`, () => {
  it('never answers 5xx, and every error is problem+json', async () => {
    // A backup copies the whole database to DATA_DIR each time (test/serverless/backup.test.ts covers it).
    const routes = h.app.routeTable.filter((r) => r.url.startsWith('/v1/') && r.url !== '/v1/admin/dead-letters/:id/replay' && r.url !== '/v1/admin/backups');
    const seen = new Set<string>();
    const statuses = new Map<string, Set<number>>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), who, idArb(), queryArb, headersArb, bodyArb, async (route, actor, id, query, headers, body) => {
        seen.add(`${route.method} ${route.url}`);
        const url = route.url.replace(':id', encodeURIComponent(id).replace(/%25/g, '%'));
        const sendsBody = route.method === 'POST' || route.method === 'PATCH' || route.method === 'DELETE';
        const res = await h.call(actor, {
          method: route.method as 'GET',
          url,
          query,
          headers: Object.fromEntries(Object.entries(headers).filter(([k]) => sendsBody || k !== 'content-type')),
          ...(sendsBody ? { payload: body } : {}),
        });
        const key = `${route.method} ${route.url}`;
        statuses.set(key, (statuses.get(key) ?? new Set()).add(res.statusCode));
        if (res.statusCode >= 500) throw new Error(`${route.method} ${url} → ${res.statusCode}: ${res.body.slice(0, 300)}`);
        if (res.statusCode >= 400 && !isProblem(res)) throw new Error(`${route.method} ${url} → ${res.statusCode} without problem+json`);
        if (res.statusCode >= 400) expect(res.json().status).toBe(res.statusCode);
      }),
      { numRuns: 1500 },
    );
    expect(seen.size).toBe(routes.length);

    // Every status a catalog route was seen sending is documented in the OpenAPI document.
    const paths = (await h.app.inject({ url: '/openapi.json' })).json().paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    const undocumented: string[] = [];
    for (const [key, sent] of statuses) {
      const [method, url] = key.split(' ') as [string, string];
      if (!/^\/v1\/(advertisers|campaigns|products|videos|placements)/.test(url)) continue;
      const documented = Object.keys(paths[url.replace(':id', '{id}')]?.[method.toLowerCase()]?.responses ?? {});
      for (const status of sent) if (!documented.includes(String(status))) undocumented.push(`${key} → ${status}`);
    }
    expect(undocumented).toEqual([]);
  });
});
