/**
 * The poll of a validation run (GET /v1/validation-runs/{id}) is served from the API's
 * read cache, and the validator's moves of the run reach it: its completion (the commit
 * that emits video.validation_completed) drops the cached run, so the next poll says
 * `completed` at once, not when the cached row would have expired.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/config.js';
import { startEventSide, type EventSide } from '../../../src/entry/process/event-side.js';
import { validationConsumers } from '../../../src/features/validation/index.js';
import { engine } from '../../support/engine.js';
import { eventually, silentLogger } from '../../events/support.js';
import { openHarness, seedCatalog, type Harness } from '../../http/catalog/support.js';

let h: Harness;
let side: EventSide | undefined;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await side?.stop();
  await h?.close();
});

interface RunJson {
  id: string;
  status: string;
  created_at: string;
  summary: { is_valid: boolean } | null;
}

describe(`the read cache of validation runs (${engine})`, () => {
  it('serves the poll from memory and drops the run when the validator completes it', async () => {
    const { videoId } = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
    const res = await h.call('creator', { method: 'POST', url: `/v1/videos/${videoId}/validations` });
    expect(res.statusCode).toBe(202);
    const location = String(res.headers.location);
    const poll = async () => {
      const answer = await h.call('creator', { url: location });
      expect(answer.statusCode).toBe(200);
      return answer.json<RunJson>();
    };
    // No validator runs yet: the run stays pending, and the first poll caches it.
    const pending = await poll();
    expect(pending.status).toBe('pending');

    // A change nobody announces (triggers off for this transaction) is not seen: the poll is served from the cache.
    const moved = new Date(Date.parse(pending.created_at) - 3_600_000);
    await h.database.db.transaction().execute(async (tx) => {
      await sql`SET LOCAL session_replication_role = replica`.execute(tx);
      await tx.updateTable('validation_runs').set({ created_at: moved }).where('id', '=', pending.id).execute();
    });
    expect(await poll()).toEqual(pending);

    // The validator moves the run to running and then to completed; each commit announces it.
    side = await startEventSide(loadConfig({ NODE_ENV: 'test' }), h.database, silentLogger(), { relay: true, consumers: validationConsumers });
    // Well inside the cache's 60 s bound on a row's age: only the invalidation can make this pass.
    const completed = await eventually(async () => {
      const run = await poll();
      return run.status === 'completed' ? run : undefined;
    }, 20_000, 'the poll to say completed');
    expect(completed.summary).not.toBeNull();
    // Read again from the database: it also carries the change made behind the cache's back.
    expect(completed.created_at).toBe(moved.toISOString());
    const emitted = await h.database.db.selectFrom('event_log').select('id').where('event_type', '=', 'com.nedlia.video.validation_completed').where('aggregate_id', '=', videoId).execute();
    expect(emitted).toHaveLength(1);
  });
});
