/** Placements over HTTP: CRUD, validation (times, duration, position, timecodes), ETags, events. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { eventOf, isProblem, openHarness, requestId, seedCatalog, type Harness } from './support.js';

let h: Harness;
let seed: Awaited<ReturnType<typeof seedCatalog>>;
beforeAll(async () => {
  h = await openHarness();
  seed = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
});
afterAll(async () => {
  await h.close();
});

const create = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  h.call('creator', { method: 'POST', url: '/v1/placements', body: { video_id: seed.videoId, product_id: seed.productId, ...body }, headers });

describe(`placements on ${engine}`, () => {
  it('creates, reads, lists, patches and deletes, with ETags and events', async () => {
    const createId = requestId();
    const created = await create({ start_time: 1.5, end_time: 3.25, description: 'On the table' }, { 'x-request-id': createId });
    expect(created.statusCode, created.body).toBe(201);
    const p = created.json();
    expect(p).toMatchObject({ video_id: seed.videoId, product_id: seed.productId, start_time: 1.5, end_time: 3.25, status: 'active', file_url: null, version: 1 });
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers.location).toBe(`/v1/placements/${p.id}`);
    const createdEvent = await eventOf(h, 'placement.created', p.id, createId);
    expect(createdEvent.actor).toBe(h.ids.creator);
    expect(createdEvent.data).toMatchObject({ placement_id: p.id, video_id: seed.videoId, time_range: { start_time: 1.5, end_time: 3.25 } });

    const read = await h.call('creator', { url: `/v1/placements/${p.id}` });
    expect(read.statusCode).toBe(200);
    expect(read.headers.etag).toBe('"1"');
    expect(read.json()).toEqual(p);

    const noIfMatch = await h.call('creator', { method: 'PATCH', url: `/v1/placements/${p.id}`, body: { end_time: 4 } });
    expect(noIfMatch.statusCode).toBe(428);
    expect(isProblem(noIfMatch)).toBe(true);

    const patchId = requestId();
    const patched = await h.call('creator', {
      method: 'PATCH', url: `/v1/placements/${p.id}`, body: { end_time: 4, status: 'draft' }, headers: { 'if-match': '"1"', 'x-request-id': patchId },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ start_time: 1.5, end_time: 4, status: 'draft', version: 2 });
    expect(patched.headers.etag).toBe('"2"');
    const updated = await eventOf(h, 'placement.updated', p.id, patchId);
    expect(updated.schemaversion).toBe(2);
    expect(updated.actor).toBe(h.ids.creator);
    expect(updated.data).toMatchObject({ video_id: seed.videoId, changes: { end_time: 4, status: 'draft' }, previous_version: 1, new_version: 2, time_range: { start_time: 1.5, end_time: 4 } });

    const stale = await h.call('creator', { method: 'PATCH', url: `/v1/placements/${p.id}`, body: { end_time: 5 }, headers: { 'if-match': '"1"' } });
    expect(stale.statusCode).toBe(412);
    expect((await h.call('creator', { url: `/v1/placements/${p.id}` })).json().end_time).toBe(4);

    const listed = await h.call('creator', { url: `/v1/placements?video_id=${seed.videoId}&status=draft` });
    expect(listed.json().items.map((i: { id: string }) => i.id)).toEqual([p.id]);

    const staleDelete = await h.call('creator', { method: 'DELETE', url: `/v1/placements/${p.id}`, headers: { 'if-match': '"1"' } });
    expect(staleDelete.statusCode).toBe(412);
    const deleteId = requestId();
    const deleted = await h.call('creator', { method: 'DELETE', url: `/v1/placements/${p.id}`, headers: { 'if-match': '"2"', 'x-request-id': deleteId } });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    const deletedEvent = await eventOf(h, 'placement.deleted', p.id, deleteId);
    expect(deletedEvent.actor).toBe(h.ids.creator);
    expect(deletedEvent.data).toMatchObject({ placement_id: p.id, video_id: seed.videoId, version: 3 });
    expect((await h.call('creator', { url: `/v1/placements/${p.id}` })).statusCode).toBe(404);
    const after = await h.call('creator', { url: `/v1/videos/${seed.videoId}/placements` });
    expect(after.json().items.map((i: { id: string }) => i.id)).not.toContain(p.id);
  });

  it('accepts editor-plugin timecodes with fps instead of seconds', async () => {
    const res = await create({ timecode_in: '00:00:10;00', timecode_out: '00:01:00;02', fps: 29.97 });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().start_time).toBeCloseTo(10.01, 2);
    expect(res.json().end_time).toBe(60.06);
    const bad = await create({ timecode_in: '00:01:00;00', timecode_out: '00:01:10;00' , fps: 29.97 });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toContainEqual(expect.objectContaining({ path: '/timecode_in' }));
    const mixed = await create({ start_time: 1, timecode_out: '00:00:02:00', fps: 25 });
    expect(mixed.statusCode).toBe(422);
    expect(mixed.json().errors.map((e: { path: string }) => e.path)).toContain('/start_time');
    const noFps = await create({ timecode_in: '00:00:01:00', timecode_out: '00:00:02:00' });
    expect(noFps.json().errors).toContainEqual(expect.objectContaining({ path: '/fps' }));
  });

  it('rejects invalid placements with field paths', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ start_time: 5, end_time: 5 }, '/end_time'],
      [{ start_time: 5, end_time: 121 }, '/end_time'], // past the video's 120.5 s
      [{ start_time: -1, end_time: 2 }, '/start_time'],
      [{ start_time: 1, end_time: 2, position: { x: 0.9, y: 0, width: 0.2, height: 0.1 } }, '/position/width'],
      [{ start_time: 1, end_time: 2, position: { x: 0, y: 0, width: 2, height: 0.1 } }, '/position/width'],
      [{ start_time: 1, end_time: 2, file_url: 'https://x' }, '/file_url'],
      [{ start_time: 1, end_time: 2, version: 7 }, '/version'],
      [{ start_time: 1 }, '/end_time'],
    ];
    for (const [body, path] of cases) {
      const res = await create(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(isProblem(res)).toBe(true);
      expect(res.json().errors.map((e: { path: string }) => e.path), JSON.stringify(body)).toContain(path);
    }
    const foreignVideo = await h.call('otherCreator', { method: 'POST', url: '/v1/placements', body: { video_id: seed.videoId, product_id: seed.productId, start_time: 1, end_time: 2 } });
    expect(foreignVideo.statusCode).toBe(422);
    expect(foreignVideo.json().errors).toEqual([{ path: '/video_id', message: 'does not exist' }]);
  });

  it('pages through a video with an opaque cursor', async () => {
    const video = (await h.call('creator', { method: 'POST', url: '/v1/videos', body: { title: 'Long', duration: 1000 } })).json();
    for (let i = 0; i < 5; i++) {
      const res = await h.call('creator', { method: 'POST', url: '/v1/placements', body: { video_id: video.id, product_id: seed.productId, start_time: i, end_time: i + 0.5 } });
      expect(res.statusCode).toBe(201);
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const res = await h.call('creator', { url: `/v1/videos/${video.id}/placements?limit=2${cursor ? `&cursor=${cursor}` : ''}` });
      expect(res.statusCode).toBe(200);
      seen.push(...res.json().items.map((i: { start_time: number }) => i.start_time));
      cursor = res.json().next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    const bad = await h.call('creator', { url: `/v1/videos/${video.id}/placements?cursor=bm9wZQ` });
    expect(bad.statusCode).toBe(422);
    const tooMany = await h.call('creator', { url: `/v1/placements?limit=201` });
    expect(tooMany.statusCode).toBe(422);
    expect(isProblem(tooMany)).toBe(true);
  });
});
