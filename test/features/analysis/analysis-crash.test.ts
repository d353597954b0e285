/**
 * A worker killed with SIGKILL in the middle of an analysis: its temporary files stay
 * behind until the next worker starts an analysis and sweeps them, the delivery comes
 * again after the lease, and the video still completes. What remains is only the
 * running worker's cut pocketsphinx dictionary. Two processes share one
 * database, so this runs on the local PostgreSQL whatever DB says.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requestAnalysis } from '../../../src/features/analysis/analysis-use-cases.js';
import { eventually, openPostgresDatabase } from '../../events/support.js';
import { spawnService } from '../../support/processes.js';
import type { TestDatabase } from '../../support/engine.js';
import { speechClip, startMediaServer, type MediaServer } from './media.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'nedlia-analysis-crash-'));
const tempDir = path.join(root, 'tmp');
let database: TestDatabase;
let media: MediaServer;
const workers: ReturnType<typeof spawnService>[] = [];

beforeAll(async () => {
  mkdirSync(path.join(root, 'media'), { recursive: true });
  const clip = speechClip(path.join(root, 'media'), 'crash', ['the train leaves the station at noon']);
  media = await startMediaServer();
  // About 4 s to download: time enough to kill the worker in the middle.
  media.route('/slow.mp4', { file: clip.file, contentType: 'video/mp4', chunks: 20, chunkDelayMs: 200 });
  database = await openPostgresDatabase();
}, 60_000);

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await database?.close();
  await media?.close();
  rmSync(root, { recursive: true, force: true });
});

function startWorker() {
  const worker = spawnService('src/entry/main.ts', {
    DATABASE_URL: database.url!,
    EVENT_BUS: 'postgres',
    CONSUMERS: 'video-analyser',
    FETCH_ALLOW_HOSTS: '127.0.0.1',
    DATA_DIR: path.join(root, 'data'),
    ANALYSIS_TEMP_DIR: tempDir,
    NODE_ENV: 'test',
  }, ['worker']);
  workers.push(worker);
  return worker;
}

it('a worker killed mid-analysis leaves no temporary files after the restart, and the video completes', async () => {
  const first = startWorker();
  const { video } = await requestAnalysis(
    { db: database.db, context: { actor: { userId: `creator-${randomUUID()}`, roles: ['creator'] }, correlationId: randomUUID() } },
    { url: media.url('/slow.mp4') },
  );
  await eventually(
    async () => media.hits.get('/slow.mp4') === 1 && existsSync(tempDir) && readdirSync(tempDir).some((d) => d.startsWith(`analysis-${first.child.pid}-`)),
    30_000,
    'the first worker downloading',
  );
  first.child.kill('SIGKILL');
  await first.exit;
  expect(readdirSync(tempDir)).toHaveLength(1);

  const second = startWorker();
  const done = await eventually(
    async () => {
      const row = await database.db.selectFrom('videos').select(['analysis_status', 'failure_reason', 'duration']).where('id', '=', video.id).executeTakeFirst();
      return row?.analysis_status === 'completed' || row?.analysis_status === 'failed' ? row : undefined;
    },
    60_000,
    'the analysis to finish in the second worker',
  );
  expect(done.failure_reason).toBeNull();
  expect(done.analysis_status).toBe('completed');
  expect(Number(done.duration)).toBeGreaterThan(1);
  expect(media.hits.get('/slow.mp4')).toBe(2);
  // Only the second worker's own dictionary cache remains (pocketsphinx-dictionary.ts), swept once that process is gone.
  expect(readdirSync(tempDir)).toEqual([`analysis-${second.child.pid}-dictionary`]);
  const transcript = await database.db.selectFrom('transcripts').select('content').where('video_id', '=', video.id).executeTakeFirstOrThrow();
  expect(transcript.content).toContain('train');
  second.child.kill('SIGTERM');
  await second.exit;
}, 120_000);
