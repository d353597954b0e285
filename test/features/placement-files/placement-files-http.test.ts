/**
 * Placement files over HTTP on the selected engine: written within a bounded wait after
 * each change, holding only what may be shown now; served publicly with ETag,
 * Cache-Control, 304 and open CORS, as JSON (valid against its JSON Schema) and as
 * WebVTT; a burst coalesces into few files and the newest state wins with two workers.
 */
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTypes } from '../../../src/features/catalog/index.js';
import { PlacementFileSchema } from '../../../src/features/placement-files/index.js';
import { buildEvent, insertEvents } from '../../../src/platform/events/event-log.js';
import { engine } from '../../support/engine.js';
import { eventually } from '../../events/support.js';
import { isProblem } from '../../http/catalog/support.js';
import { fileWhen, openFilesHarness, seedServing, type FilesHarness } from './support.js';

let f: FilesHarness;
beforeAll(async () => {
  f = await openFilesHarness();
});
afterAll(async () => {
  await f?.close();
});

const ids = (file: { placements: { id: string }[] } | undefined) => file?.placements.map((p) => p.id) ?? [];

describe(`placement files (${engine})`, () => {
  it('writes the file after a placement is created, and serves it with ETag, Cache-Control, 304 and open CORS', async () => {
    const { h } = f;
    const { videoId, placementId, campaignId, productId } = await seedServing(h);
    const file = await fileWhen(f, videoId, (file) => ids(file).includes(placementId), 'the file to hold the placement');
    expect(file).toMatchObject({ video_id: videoId, version: 1, placements: [{ id: placementId, start_time: 10, end_time: 20, campaign_id: campaignId, product: { id: productId, name: 'Cola' } }] });
    expect(Compile(PlacementFileSchema).Check(file)).toBe(true);

    const res = await f.files.inject({ url: `/v1/videos/${videoId}/placement-file` });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toMatch(/public, max-age=\d+/);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    const etag = String(res.headers.etag);
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await f.files.inject({ url: `/v1/videos/${videoId}/placement-file`, headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect((await f.files.inject({ url: `/v1/videos/${videoId}/placement-file`, headers: { 'if-none-match': '"other", W/' + etag } })).statusCode).toBe(304);
    expect((await f.files.inject({ url: `/v1/videos/${videoId}/placement-file`, headers: { 'if-none-match': '"other"' } })).statusCode).toBe(200);

    const vtt = await f.files.inject({ url: `/v1/videos/${videoId}/placement-file?format=vtt` });
    expect(vtt.statusCode).toBe(200);
    expect(vtt.headers['content-type']).toMatch(/^text\/vtt/);
    expect(vtt.headers.etag).not.toBe(etag);
    const lines = vtt.body.split('\n');
    expect(lines[0]).toMatch(/^WEBVTT/);
    const cue = lines.indexOf(placementId);
    expect(lines[cue + 1]).toBe('00:00:10.000 --> 00:00:20.000');
    expect(JSON.parse(lines[cue + 2]!)).toMatchObject({ id: placementId, video_id: videoId, campaign_id: campaignId });

    const preflight = await f.files.inject({ method: 'OPTIONS', url: `/v1/videos/${videoId}/placement-file` });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    const schema = await f.files.inject({ url: '/v1/schemas/placement-file.json' });
    expect(schema.json().title).toBe('Nedlia placement file');

    // file_url is set on the placement.
    const placement = await h.call('creator', { url: `/v1/placements/${placementId}` });
    expect(placement.json().file_url).toBe(`/v1/videos/${videoId}/placement-file`);
    const events = await h.database.db.selectFrom('event_log').select('data').where('event_type', '=', 'com.nedlia.placement_file.generated').where('aggregate_id', '=', videoId).execute();
    expect(events[0]?.data).toMatchObject({ video_id: videoId, etag, placements_count: 1, version: 1 });
  });

  it('answers 404 as problem+json until the first file exists, and for a bad id 422', async () => {
    const video = await f.h.call('creator', { method: 'POST', url: '/v1/videos', body: { title: 'Empty', duration: 10 } });
    const res = await f.files.inject({ url: `/v1/videos/${video.json().id}/placement-file` });
    expect(res.statusCode).toBe(404);
    expect(isProblem(res)).toBe(true);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect((await f.files.inject({ url: '/v1/videos/not-a-uuid/placement-file' })).statusCode).toBe(422);
    expect((await f.files.inject({ url: `/v1/videos/${video.json().id}/placement-file?format=xml` })).statusCode).toBe(422);
  });

  it('follows updates and deletes of placements', async () => {
    const { h } = f;
    const { videoId, placementId, productId } = await seedServing(h);
    await fileWhen(f, videoId, (file) => ids(file).includes(placementId), 'the first file');
    const patched = await h.call('creator', { method: 'PATCH', url: `/v1/placements/${placementId}`, headers: { 'if-match': '*' }, body: { start_time: 12, end_time: 30 } });
    expect(patched.statusCode).toBe(200);
    await fileWhen(f, videoId, (file) => file?.placements[0]?.start_time === 12 && file.placements[0].end_time === 30, 'the file to show the new times');
    const second = await h.call('creator', { method: 'POST', url: '/v1/placements', body: { video_id: videoId, product_id: productId, start_time: 1, end_time: 5 } });
    await fileWhen(f, videoId, (file) => ids(file).join() === [second.json().id, placementId].join(), 'both placements in start order');
    expect((await h.call('creator', { method: 'DELETE', url: `/v1/placements/${placementId}`, headers: { 'if-match': '*' } })).statusCode).toBe(204);
    const file = await fileWhen(f, videoId, (file) => !ids(file).includes(placementId), 'the deleted placement to leave');
    expect(ids(file)).toEqual([second.json().id]);
    // A draft placement is not shown.
    const draft = await h.call('creator', { method: 'POST', url: '/v1/placements', body: { video_id: videoId, product_id: productId, start_time: 40, end_time: 45, status: 'draft' } });
    expect(draft.statusCode).toBe(201);
    const row = await h.database.db.selectFrom('placement_files').select('version').where('video_id', '=', videoId).executeTakeFirstOrThrow();
    await eventually(async () => (await h.database.db.selectFrom('placement_file_requests').select(['requested_seq', 'generated_seq']).where('video_id', '=', videoId).executeTakeFirstOrThrow()).generated_seq >= 5, 20_000, 'the draft to be handled');
    expect(ids(await fileWhen(f, videoId, () => true, 'the file'))).toEqual([second.json().id]);
    // Nothing the file shows changed: no new version was written.
    expect((await h.database.db.selectFrom('placement_files').select('version').where('video_id', '=', videoId).executeTakeFirstOrThrow()).version).toBe(row.version);
  });

  it('drops the placements of a paused or budget-exhausted campaign, and brings them back when it serves again', async () => {
    const { h } = f;
    const { videoId, placementId, campaignId } = await seedServing(h);
    await fileWhen(f, videoId, (file) => ids(file).includes(placementId), 'the first file');
    const paused = await h.call('advertiser', { method: 'PATCH', url: `/v1/campaigns/${campaignId}`, headers: { 'if-match': '*' }, body: { status: 'paused' } });
    expect(paused.statusCode).toBe(200);
    await fileWhen(f, videoId, (file) => file !== undefined && file.placements.length === 0, 'the paused campaign to leave the file');
    await h.call('advertiser', { method: 'PATCH', url: `/v1/campaigns/${campaignId}`, headers: { 'if-match': '*' }, body: { status: 'active' } });
    await fileWhen(f, videoId, (file) => ids(file).includes(placementId), 'the placement to come back');
    // Ingestion spends the budget and emits campaign.budget_exhausted (that emitter lives elsewhere: this writes its event).
    await h.database.db.transaction().execute(async (tx) => {
      const row = await tx.updateTable('campaigns').set({ spent: '1000.00' }).where('id', '=', campaignId).returning('advertiser_id').executeTakeFirstOrThrow();
      await insertEvents(tx, [buildEvent({ type: EventTypes.campaignBudgetExhausted, subject: campaignId, data: { campaign_id: campaignId, advertiser_id: row.advertiser_id, budget: '1000.00', spent: '1000.00' } }, { correlationId: 'test-exhausted' })]);
    });
    await fileWhen(f, videoId, (file) => file !== undefined && file.placements.length === 0, 'the exhausted campaign to leave the file');
  });

  it("renews the file once a campaign's end date has passed, at the first read after it", async () => {
    const { h } = f;
    const { videoId, placementId, campaignId } = await seedServing(h);
    await fileWhen(f, videoId, (file) => ids(file).includes(placementId), 'the first file');
    const row = await h.database.db.selectFrom('placement_files').select('expires_at').where('video_id', '=', videoId).executeTakeFirstOrThrow();
    expect(row.expires_at?.toISOString()).toBe('2100-01-01T00:00:00.000Z');
    // The calendar moves on: the campaign ended yesterday, and the file's expiry is behind us (no event says so).
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await h.database.db.updateTable('campaigns').set({ end_date: yesterday }).where('id', '=', campaignId).execute();
    await h.database.db.updateTable('placement_files').set({ expires_at: new Date(Date.now() - 1000) }).where('video_id', '=', videoId).execute();
    await fileWhen(f, videoId, (file) => file !== undefined && file.placements.length === 0, 'the ended campaign to leave the file');
    const requested = await h.database.db.selectFrom('event_log').select('id').where('event_type', '=', 'com.nedlia.placement_file.requested').where('aggregate_id', '=', videoId).execute();
    expect(requested).toHaveLength(1);
  });

  it('hides the placements of a deleted product from every read, list and the file', async () => {
    const { h } = f;
    const { videoId, placementId, productId } = await seedServing(h);
    await fileWhen(f, videoId, (file) => ids(file).includes(placementId), 'the first file');
    // Read once, so that the placement cache holds it.
    expect((await h.call('creator', { url: `/v1/placements/${placementId}` })).statusCode).toBe(200);
    expect((await h.call('advertiser', { method: 'DELETE', url: `/v1/products/${productId}`, headers: { 'if-match': '*' } })).statusCode).toBe(204);
    for (const who of ['creator', 'admin', 'advertiser'] as const) {
      expect((await h.call(who, { url: `/v1/placements/${placementId}` })).statusCode, who).toBe(404);
      expect((await h.call(who, { url: `/v1/placements?product_id=${productId}` })).json().items, who).toEqual([]);
    }
    expect((await h.call('creator', { url: `/v1/videos/${videoId}/placements` })).json().items).toEqual([]);
    expect((await h.call('creator', { method: 'PATCH', url: `/v1/placements/${placementId}`, headers: { 'if-match': '*' }, body: { description: 'x' } })).statusCode).toBe(404);
    await fileWhen(f, videoId, (file) => file !== undefined && file.placements.length === 0, 'the placement to leave the file');
  });

  it('removes the file of a deleted video and hides its placements', async () => {
    const { h } = f;
    const { videoId, placementId } = await seedServing(h);
    await fileWhen(f, videoId, (file) => ids(file).includes(placementId), 'the first file');
    expect((await h.call('creator', { url: `/v1/placements/${placementId}` })).statusCode).toBe(200);
    expect((await h.call('creator', { method: 'DELETE', url: `/v1/videos/${videoId}`, headers: { 'if-match': '*' } })).statusCode).toBe(204);
    expect((await h.call('creator', { url: `/v1/placements/${placementId}` })).statusCode).toBe(404);
    expect((await h.call('admin', { url: `/v1/placements?video_id=${videoId}` })).json().items).toEqual([]);
    await fileWhen(f, videoId, (_file, status) => status === 404, 'the file to be gone');
    expect(await f.storage.head(`placement-files/${videoId}/v00000001.json`)).toBeUndefined();
    const removed = await h.database.db.selectFrom('event_log').select('id').where('event_type', '=', 'com.nedlia.placement_file.removed').where('aggregate_id', '=', videoId).execute();
    expect(removed).toHaveLength(1);
  });

  it('coalesces a burst of 100 edits into far fewer files, and the newest state wins with two workers racing', async () => {
    const { h } = f;
    if (f.sides.length < 2) await f.addWorker();
    const { videoId, placementId, productId } = await seedServing(h);
    const others = await Promise.all(Array.from({ length: 9 }, (_, i) =>
      h.call('creator', { method: 'POST', url: '/v1/placements', body: { video_id: videoId, product_id: productId, start_time: 30 + i * 5, end_time: 32 + i * 5 } })));
    const placementIds = [placementId, ...others.map((r) => r.json().id as string)];
    await fileWhen(f, videoId, (file) => ids(file).length === 10, 'the first file with ten placements');
    const before = (await h.database.db.selectFrom('placement_files').select('version').where('video_id', '=', videoId).executeTakeFirstOrThrow()).version;
    // 100 edits in ten waves of ten at once (one per placement, so no wave waits on a row lock and the pool stays free).
    const results = [];
    for (let wave = 0; wave < 10; wave++) {
      results.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => {
        const i = wave * 10 + j;
        return h.call('creator', { method: 'PATCH', url: `/v1/placements/${placementIds[j]}`, headers: { 'if-match': '*' }, body: { description: `edit ${i}`, end_time: 100 + i * 0.1 } });
      }))));
    }
    // On PostgreSQL a concurrent edit of the same row may lose its version check (412: it changed nothing).
    const failed = results.filter((r) => r.statusCode !== 200 && r.statusCode !== 412).map((r) => `${r.statusCode} ${r.body.slice(0, 200)}`);
    expect(failed).toEqual([]);
    const applied = results.filter((r) => r.statusCode === 200).length;
    const newest = async () => {
      const rows = await h.database.db.selectFrom('placements').select(['id', 'end_time']).where('video_id', '=', videoId).where('deleted_at', 'is', null).execute();
      return new Map(rows.map((r) => [r.id, Number(r.end_time)]));
    };
    const want = await newest();
    // Settled: every request handled, and the file shows the newest state of every placement.
    await eventually(async () => {
      const row = await h.database.db.selectFrom('placement_file_requests').select(['requested_seq', 'generated_seq']).where('video_id', '=', videoId).executeTakeFirstOrThrow();
      return row.requested_seq === row.generated_seq && row.requested_seq >= 10 + applied;
    }, 30_000, 'every request to be handled');
    const file = await fileWhen(f, videoId, () => true, 'the file');
    expect(new Map(file!.placements.map((p) => [p.id, p.end_time]))).toEqual(want);
    const written = file!.version - before;
    expect(written).toBeGreaterThanOrEqual(1);
    expect(written).toBeLessThan(50);
  });
});
