/**
 * Object storage port: bytes under a key, with a content type. Adapters live in
 * `local/` (a directory) and `s3/` (any S3-compatible service); both pass
 * `test/platform/storage/storage-contract.ts`.
 *
 * Every call is bounded by the adapter's timeout (`StorageTimeoutError`). For `get`
 * the bound covers opening the object; reading the returned stream is the caller's
 * to bound (e.g. `pipeline(body, sink, { signal })`).
 */
import type { Readable } from 'node:stream';

export type ObjectBody = Buffer | Uint8Array | string | Readable;

export interface ObjectInfo {
  contentType: string;
  /** Bytes stored. */
  size: number;
}

export interface StoredObject extends ObjectInfo {
  body: Readable;
}

export interface ObjectStorage {
  /** Stores `body` under `key`, replacing what was there; readers see the old or the new object, never a part. */
  put(key: string, body: ObjectBody, options: { contentType: string }): Promise<ObjectInfo>;
  /** The object, or undefined when there is none under `key`. */
  get(key: string): Promise<StoredObject | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Removes the object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every object whose key starts with `prefix` (which ends with `/`); answers how many. */
  deletePrefix(prefix: string): Promise<number>;
}
