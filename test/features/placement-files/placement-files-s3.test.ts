/**
 * Placement files with `STORAGE=s3`, against a local S3 server (s3rver, in-process on
 * loopback): written under versioned keys, served from there, removed with the video.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine } from '../../support/engine.js';
import { fileWhen, openFilesHarness, seedServing, type FilesHarness } from './support.js';

const BUCKET = 'nedlia-placement-files';
let server: S3rver;
let directory = '';
let f: FilesHarness;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'nedlia-s3rver-files-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = await server.run();
  // The SDK's credential chain reads these (s3rver accepts its own pair).
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  f = await openFilesHarness({ STORAGE: 's3', S3_BUCKET: BUCKET, S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_REGION: 'us-east-1' });
});
afterAll(async () => {
  await f?.close();
  await server?.close();
  await rm(directory, { recursive: true, force: true });
  for (const [key, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe(`placement files on S3 (${engine})`, () => {
  it('writes versioned keys to the bucket, serves them, and removes them with the video', async () => {
    const { h, storage } = f;
    const { videoId, placementId } = await seedServing(h);
    await fileWhen(f, videoId, (file) => file?.placements[0]?.id === placementId, 'the first file');
    expect(await storage.head(`placement-files/${videoId}/v00000001.json`)).toMatchObject({ contentType: expect.stringMatching(/^application\/json/) });
    expect(await storage.head(`placement-files/${videoId}/v00000001.vtt`)).toMatchObject({ contentType: expect.stringMatching(/^text\/vtt/) });
    await h.call('creator', { method: 'PATCH', url: `/v1/placements/${placementId}`, headers: { 'if-match': '*' }, body: { end_time: 25 } });
    const second = await fileWhen(f, videoId, (file) => file?.placements[0]?.end_time === 25, 'the changed file');
    expect(second?.version).toBe(2);
    expect(await storage.head(`placement-files/${videoId}/v00000002.json`)).toBeDefined();
    const vtt = await f.files.inject({ url: `/v1/videos/${videoId}/placement-file?format=vtt` });
    expect(vtt.body).toContain('00:00:10.000 --> 00:00:25.000');
    expect((await h.call('creator', { method: 'DELETE', url: `/v1/videos/${videoId}`, headers: { 'if-match': '*' } })).statusCode).toBe(204);
    await fileWhen(f, videoId, (_file, status) => status === 404, 'the file to be gone');
    expect(await storage.head(`placement-files/${videoId}/v00000002.json`)).toBeUndefined();
  });
});
