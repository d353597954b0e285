/**
 * Validation over HTTP on the selected engine: 202 + Location, the validator moves the
 * run to completed with the issues of the rules, tenancy, and clear problems for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/config.js';
import { startEventSide, type EventSide } from '../../../src/entry/process/event-side.js';
import { validationConsumers } from '../../../src/features/validation/index.js';
import { engine } from '../../support/engine.js';
import { eventually, silentLogger } from '../../events/support.js';
import { isProblem, openHarness, seedCatalog, type Harness } from '../../http/catalog/support.js';

let h: Harness;
let side: EventSide;
beforeAll(async () => {
  h = await openHarness();
  side = await startEventSide(loadConfig({ NODE_ENV: 'test' }), h.database, silentLogger(), { relay: true, consumers: validationConsumers });
});
afterAll(async () => {
  await side?.stop();
  await h?.close();
});

interface RunJson {
  id: string;
  status: string;
  issues: { code: string; severity: string; placement_ids: string[] }[];
  summary: { total_placements: number; valid_placements: number; issues_count: number; is_valid: boolean } | null;
}

async function finished(runUrl: string): Promise<RunJson> {
  return eventually(async () => {
    const run = (await h.call('creator', { url: runUrl })).json<RunJson>();
    return run.status === 'completed' || run.status === 'failed' ? run : undefined;
  }, 15_000, `run ${runUrl} to finish`);
}

describe(`POST /v1/videos/{id}/validations (${engine})`, () => {
  it('answers 202 with Location, and the run completes with the issues found', async () => {
    const { videoId, productId, placementId } = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
    // A second placement of the same product overlapping the first: timing_conflict.
    const second = await h.call('creator', { method: 'POST', url: '/v1/placements', body: { video_id: videoId, product_id: productId, start_time: 15, end_time: 25 } });
    expect(second.statusCode).toBe(201);
    const res = await h.call('creator', { method: 'POST', url: `/v1/videos/${videoId}/validations` });
    expect(res.statusCode).toBe(202);
    const location = String(res.headers.location);
    expect(location).toMatch(/^\/v1\/validation-runs\/[0-9a-f-]{36}$/);
    expect(res.json()).toMatchObject({ status: 'pending', video_id: videoId });

    const run = await finished(location);
    expect(run.status).toBe('completed');
    const conflict = run.issues.find((i) => i.code === 'timing_conflict');
    expect(conflict?.severity).toBe('error');
    expect(conflict?.placement_ids.sort()).toEqual([placementId, second.json().id].sort());
    expect(run.summary).toMatchObject({ total_placements: 2, is_valid: false });
    // The seeded campaign runs in the summer of 2026; the run checks against today.
    const completed = await h.database.db.selectFrom('event_log').select(['data']).where('event_type', '=', 'com.nedlia.video.validation_completed').where('aggregate_id', '=', videoId).execute();
    expect(completed).toHaveLength(1);
    expect(completed[0]!.data).toMatchObject({ validation_run_id: run.id, is_valid: false, issues_count: run.summary!.issues_count });
    const started = await h.database.db.selectFrom('event_log').select('id').where('event_type', '=', 'com.nedlia.video.validation_started').where('aggregate_id', '=', videoId).execute();
    expect(started).toHaveLength(1);
  });

  it('passes a clean video and takes limits from the body', async () => {
    const { videoId } = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
    // Campaign dates in the seed may be past: make the product's campaign serve today.
    await h.database.db.updateTable('campaigns').set({ start_date: '2020-01-01', end_date: '2099-12-31' }).execute();
    const loose = await finished(String((await h.call('creator', { method: 'POST', url: `/v1/videos/${videoId}/validations`, body: {} })).headers.location));
    expect(loose.issues).toEqual([]);
    expect(loose.summary).toEqual({ total_placements: 1, valid_placements: 1, issues_count: 0, is_valid: true });
    const strict = await finished(String((await h.call('creator', { method: 'POST', url: `/v1/videos/${videoId}/validations`, body: { min_duration: 30 } })).headers.location));
    expect(strict.issues.map((i) => i.code)).toEqual(['too_short']);
    expect(strict.summary?.is_valid).toBe(true);
    const list = await h.call('creator', { url: `/v1/videos/${videoId}/validations` });
    expect(list.json().items.map((r: RunJson) => r.id)).toEqual([strict.id, loose.id]);
  });

  it('keeps runs to whoever manages the video, and explains bad input', async () => {
    const { videoId } = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
    expect((await h.call('otherCreator', { method: 'POST', url: `/v1/videos/${videoId}/validations` })).statusCode).toBe(404);
    expect((await h.call('anonymous', { method: 'POST', url: `/v1/videos/${videoId}/validations` })).statusCode).toBe(401);
    const res = await h.call('creator', { method: 'POST', url: `/v1/videos/${videoId}/validations` });
    const runUrl = String(res.headers.location);
    expect((await h.call('otherCreator', { url: runUrl })).statusCode).toBe(404);
    expect((await h.call('advertiser', { url: runUrl })).statusCode).toBe(404);
    expect((await h.call('admin', { url: runUrl })).statusCode).toBe(200);
    const bad = await h.call('creator', { method: 'POST', url: `/v1/videos/${videoId}/validations`, body: { min_duration: -1, extra: true } });
    expect(bad.statusCode).toBe(422);
    expect(isProblem(bad)).toBe(true);
    const missing = await h.call('creator', { url: '/v1/validation-runs/00000000-0000-4000-8000-000000000000' });
    expect(missing.statusCode).toBe(404);
    expect(isProblem(missing)).toBe(true);
  });
});
