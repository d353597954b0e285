/**
 * `POST /v1/analyze` with `Idempotency-Key` (API.md): the request and its stored
 * response commit together; a retry with the same key replays the first 202 with the
 * same `Location` (also once that analysis has ended, when a request without a key would
 * start a new one), the same key with another body is 422, and nothing is created or
 * requested twice. No worker runs here: the analysis stays queued.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openHarness, type Harness } from '../../http/catalog/support.js';
import { AnalysisEventTypes } from '../../../src/features/analysis/index.js';

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const analyze = (who: 'creator' | 'otherCreator', url: string, key?: string) =>
  h.call(who, { method: 'POST', url: '/v1/analyze', body: { url }, headers: key ? { 'idempotency-key': key } : {} });

const videosOf = (url: string) => h.database.db.selectFrom('videos').select(['id', 'owner_id']).where('source_url', '=', url).execute();
const requestsFor = (videoId: string) =>
  h.database.db.selectFrom('event_log').select('id').where('event_type', '=', AnalysisEventTypes.videoAnalysisRequested).where('aggregate_id', '=', videoId).execute();

it('a retry with the same key replays the same 202 and Location, even after the analysis ended', async () => {
  const url = `http://127.0.0.1:9/${randomUUID()}.mp4`;
  const key = `analyze-${randomUUID()}`;
  const first = await analyze('creator', url, key);
  expect(first.statusCode, first.body).toBe(202);
  const id = first.json().id as string;
  expect(first.headers.location).toBe(`/v1/videos/${id}`);
  expect(first.headers['idempotent-replayed']).toBeUndefined();

  const replay = await analyze('creator', url, key);
  expect(replay.statusCode).toBe(202);
  expect(replay.headers.location).toBe(first.headers.location);
  expect(replay.headers['idempotent-replayed']).toBe('true');
  expect(replay.body).toBe(first.body);

  // The analysis ends; without a key the same URL would now start a new one, with the key it is the same answer.
  await h.database.db.updateTable('videos').set({ analysis_status: 'failed', failure_reason: 'ended for the test' }).where('id', '=', id).execute();
  const later = await analyze('creator', url, key);
  expect(later.statusCode).toBe(202);
  expect(later.headers.location).toBe(`/v1/videos/${id}`);
  expect(later.body).toBe(first.body);
  expect(await videosOf(url)).toHaveLength(1);
  expect(await requestsFor(id)).toHaveLength(1);

  const fresh = await analyze('creator', url);
  expect(fresh.statusCode).toBe(202);
  expect(fresh.json().id).not.toBe(id);
});

it('the same key with another body answers 422 IDEMPOTENCY.KEY_REUSED and creates nothing', async () => {
  const key = `analyze-${randomUUID()}`;
  const url = `http://127.0.0.1:9/${randomUUID()}.mp4`;
  const other = `http://127.0.0.1:9/${randomUUID()}.mp4`;
  expect((await analyze('creator', url, key)).statusCode).toBe(202);
  const reused = await analyze('creator', other, key);
  expect(reused.statusCode).toBe(422);
  expect(reused.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(reused.json()).toMatchObject({ code: 'IDEMPOTENCY.KEY_REUSED', errors: [{ path: '/headers/idempotency-key' }] });
  expect(reused.headers.location).toBeUndefined();
  expect(await videosOf(other)).toEqual([]);
});

it('a key belongs to its caller; an invalid key is 422; a refused URL is replayed as refused', async () => {
  const key = `analyze-${randomUUID()}`;
  const url = `http://127.0.0.1:9/${randomUUID()}.mp4`;
  const mine = await analyze('creator', url, key);
  const theirs = await analyze('otherCreator', url, key);
  expect([mine.statusCode, theirs.statusCode]).toEqual([202, 202]);
  expect(theirs.json().id).not.toBe(mine.json().id);
  expect(theirs.headers['idempotent-replayed']).toBeUndefined();

  const invalid = await analyze('creator', url, 'has spaces in it');
  expect(invalid.statusCode).toBe(422);
  expect(invalid.json().code).toBe('IDEMPOTENCY.INVALID_KEY');

  const badKey = `analyze-${randomUUID()}`;
  const refused = await analyze('creator', 'ftp://127.0.0.1/clip.mp4', badKey);
  expect(refused.statusCode).toBe(422);
  const again = await analyze('creator', 'ftp://127.0.0.1/clip.mp4', badKey);
  expect(again.statusCode).toBe(422);
  expect(again.body).toBe(refused.body);
});

it('concurrent requests with one key make one video and one analysis request', async () => {
  const key = `analyze-${randomUUID()}`;
  const url = `http://127.0.0.1:9/${randomUUID()}.mp4`;
  const answers = await Promise.all([analyze('creator', url, key), analyze('creator', url, key), analyze('creator', url, key)]);
  for (const a of answers) expect([202, 409], a.body).toContain(a.statusCode);
  const accepted = answers.filter((a) => a.statusCode === 202);
  expect(accepted.length).toBeGreaterThanOrEqual(1);
  expect(new Set(accepted.map((a) => a.headers.location)).size).toBe(1);
  for (const a of answers.filter((x) => x.statusCode === 409)) expect(a.json().code).toBe('IDEMPOTENCY.IN_PROGRESS');
  const videos = await videosOf(url);
  expect(videos).toHaveLength(1);
  expect(await requestsFor(videos[0]!.id)).toHaveLength(1);
});

it('documents the Idempotency-Key header and the 409 on POST /v1/analyze', async () => {
  const doc = (await h.app.inject({ url: '/openapi.json' })).json();
  const op = doc.paths['/v1/analyze'].post;
  expect(op.parameters.map((p: { name: string }) => p.name)).toContain('idempotency-key');
  expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['202', '409', '422']));
});
