/** The object storage `STORAGE` selects. */
import path from 'node:path';
import type { Config } from '../config/config.js';
import { createLocalStorage } from './local/local-storage.js';
import type { ObjectStorage } from './object-storage.js';
import { createS3Storage } from './s3/s3-storage.js';

export function createObjectStorage(config: Pick<Config, 'storage' | 'objectStorage' | 'dataDir'>): ObjectStorage & { close(): void } {
  const { timeoutMs, s3 } = config.objectStorage;
  if (config.storage === 's3') {
    if (!s3.bucket) throw new Error('STORAGE=s3 needs S3_BUCKET');
    return createS3Storage({ bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle, timeoutMs });
  }
  return { ...createLocalStorage({ root: path.join(config.dataDir, 'objects'), timeoutMs }), close() {} };
}
