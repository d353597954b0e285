import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/config.js';
import { createS3Storage } from '../../../src/platform/storage/s3/s3-storage.js';
import { storageContract } from './storage-contract.js';
import { configErrorOf } from '../../support/config-error.js';

let server: S3rver;
let endpoint = '';
let directory = '';
let buckets = 0;
let currentBucket = '';

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'nedlia-s3rver-'));
  const names = Array.from({ length: 12 }, (_, i) => `nedlia-test-${i}`);
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: names.map((name) => ({ name, configs: [] })) });
  const address = await server.run();
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await server?.close();
  await rm(directory, { recursive: true, force: true });
});

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

// One bucket per test; the short-timeout store of a test shares its bucket.
storageContract('s3', async (timeoutMs) => {
  if (timeoutMs >= 1000) currentBucket = `nedlia-test-${buckets++}`;
  const storage = createS3Storage({ bucket: currentBucket, endpoint, forcePathStyle: true, region: 'us-east-1', credentials, timeoutMs });
  return { storage, close: async () => storage.close() };
});

describe('S3 object storage settings', () => {
  it('needs a bucket for STORAGE=s3, and puts it in the path behind an endpoint', () => {
    expect(configErrorOf({ STORAGE: 's3' }).variable).toBe('S3_BUCKET');
    expect(configErrorOf({ STORAGE: 's3', S3_BUCKET: 'Bad_Bucket' }).variable).toBe('S3_BUCKET');
    expect(configErrorOf({ STORAGE: 's3', S3_BUCKET: 'media', S3_ENDPOINT: 'ftp://x' }).variable).toBe('S3_ENDPOINT');
    expect(configErrorOf({ STORAGE_TIMEOUT_MS: '5' }).variable).toBe('STORAGE_TIMEOUT_MS');
    const config = loadConfig({ STORAGE: 's3', S3_BUCKET: 'media', S3_ENDPOINT: 'http://127.0.0.1:9000', AWS_REGION: 'eu-west-1' });
    expect(config.objectStorage).toEqual({ timeoutMs: 60_000, s3: { bucket: 'media', region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true } });
    expect(loadConfig({ STORAGE: 's3', S3_BUCKET: 'media' }).objectStorage.s3.forcePathStyle).toBe(false);
  });
});
