/**
 * Object storage in an S3 bucket (AWS, or any S3-compatible service at `endpoint`).
 * Puts go through `@aws-sdk/lib-storage` (one PUT for small bodies, a multipart
 * upload otherwise, so a stream of unknown length works). Every command carries an
 * abort signal bounded by `timeoutMs`.
 */
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { boundedCall } from '../bounded-call.js';
import type { ObjectStorage } from '../object-storage.js';
import { assertContentType, assertObjectKey, assertObjectPrefix } from '../object-validation.js';

export interface S3StorageOptions {
  bucket: string;
  region?: string | undefined;
  endpoint?: string | undefined;
  /** `bucket` in the path rather than the host name (S3-compatible servers, local emulators). */
  forcePathStyle?: boolean;
  credentials?: S3ClientConfig['credentials'];
  timeoutMs: number;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export function createS3Storage(options: S3StorageOptions): ObjectStorage & { close(): void } {
  const client = new S3Client({
    region: options.region ?? 'us-east-1',
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials: options.credentials,
    // Without this, streamed uploads are sent (and kept by some servers) in aws-chunked encoding.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  const Bucket = options.bucket;
  const timeoutMs = options.timeoutMs;

  async function head(Key: string, abortSignal: AbortSignal) {
    try {
      const found = await client.send(new HeadObjectCommand({ Bucket, Key }), { abortSignal });
      return { contentType: found.ContentType ?? 'application/octet-stream', size: found.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  return {
    async put(key, body, { contentType }) {
      assertObjectKey(key);
      assertContentType(contentType);
      return boundedCall('put', key, timeoutMs, async (abortSignal) => {
        const upload = new Upload({ client, params: { Bucket, Key: key, Body: body, ContentType: contentType } });
        abortSignal.addEventListener('abort', () => void upload.abort().catch(() => undefined), { once: true });
        await upload.done();
        const stored = await head(key, abortSignal);
        if (!stored) throw new Error(`S3 put of ${JSON.stringify(key)} answered but the object is not there`);
        return stored;
      });
    },
    async get(key) {
      assertObjectKey(key);
      return boundedCall('get', key, timeoutMs, async (abortSignal) => {
        try {
          const found = await client.send(new GetObjectCommand({ Bucket, Key: key }), { abortSignal });
          const body = found.Body instanceof Readable ? found.Body : Readable.from([]);
          return { contentType: found.ContentType ?? 'application/octet-stream', size: found.ContentLength ?? 0, body };
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      });
    },
    async head(key) {
      assertObjectKey(key);
      return boundedCall('head', key, timeoutMs, (abortSignal) => head(key, abortSignal));
    },
    async delete(key) {
      assertObjectKey(key);
      return boundedCall('delete', key, timeoutMs, async (abortSignal) => {
        await client.send(new DeleteObjectCommand({ Bucket, Key: key }), { abortSignal });
      });
    },
    async deletePrefix(prefix) {
      assertObjectPrefix(prefix);
      return boundedCall('deletePrefix', prefix, timeoutMs, async (abortSignal) => {
        let deleted = 0;
        // Each page lists at most 1000 keys, which is also DeleteObjects' limit; deleted keys leave the listing.
        for (let page = 0; page < 1_000_000; page++) {
          const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, MaxKeys: 1000 }), { abortSignal });
          const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
          if (keys.length === 0) return deleted;
          const result = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }), { abortSignal });
          const failed = result.Errors ?? [];
          if (failed.length > 0) throw new Error(`S3 refused to delete ${failed.length} objects under ${JSON.stringify(prefix)}: ${failed[0]?.Code ?? ''} ${failed[0]?.Message ?? ''}`);
          deleted += keys.length;
        }
        return deleted;
      });
    },
    close() {
      client.destroy();
    },
  };
}
