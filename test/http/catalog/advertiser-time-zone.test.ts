/** `advertisers.time_zone` over HTTP: the default, set on create and by PATCH, canonical names, unknown zones refused. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { isProblem, openHarness, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});

const create = (body: Record<string, unknown>) =>
  h.call('admin', { method: 'POST', url: '/v1/advertisers', body: { name: 'Zoned', contact_email: 'tz@example.test', ...body } });

describe(`advertiser time zone (${engine})`, () => {
  it('defaults to UTC, is kept as its canonical IANA name and changes by PATCH', async () => {
    const plain = await create({});
    expect(plain.statusCode, plain.body).toBe(201);
    expect(plain.json().time_zone).toBe('UTC');

    const created = await create({ time_zone: 'europe/paris' });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    expect(created.json().time_zone).toBe('Europe/Paris');
    expect((await h.call('admin', { url: `/v1/advertisers/${id}` })).json().time_zone).toBe('Europe/Paris');

    const patched = await h.call('admin', { method: 'PATCH', url: `/v1/advertisers/${id}`, body: { time_zone: 'America/New_York' }, headers: { 'if-match': '"1"' } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ time_zone: 'America/New_York', version: 2 });
    const row = await h.database.db.selectFrom('advertisers').select('time_zone').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.time_zone).toBe('America/New_York');
  });

  it('refuses names Intl does not know, offsets and wrong types with a problem on /time_zone, changing nothing', async () => {
    for (const zone of ['Mars/Olympus', '+02:00', ' UTC', '']) {
      const res = await create({ time_zone: zone });
      expect(res.statusCode, `${JSON.stringify(zone)}: ${res.body}`).toBe(422);
      expect(isProblem(res)).toBe(true);
      expect(JSON.stringify(res.json())).toContain('/time_zone');
    }
    expect((await create({ time_zone: 2 })).statusCode).toBe(422);

    const id = (await create({ time_zone: 'Asia/Tokyo' })).json().id as string;
    const refused = await h.call('admin', { method: 'PATCH', url: `/v1/advertisers/${id}`, body: { time_zone: 'Nowhere/Town' }, headers: { 'if-match': '"1"' } });
    expect(refused.statusCode).toBe(422);
    expect(isProblem(refused)).toBe(true);
    const after = (await h.call('admin', { url: `/v1/advertisers/${id}` })).json();
    expect(after).toMatchObject({ time_zone: 'Asia/Tokyo', version: 1 });
  });
});
