/**
 * Writing and reading the archive object of one table (archive-manifest.ts says what it
 * is). The rows are read in keyset batches by primary key and streamed through gzip into
 * storage, so neither the table nor the object is ever held in memory; reading back
 * streams the object the same way.
 */
import { createHash, type Hash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import type { ObjectStorage } from '../storage/object-storage.js';
import { ArchiveError, assertIdentifier, type ArchiveColumn } from './archive-manifest.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema
type AnyKysely = Kysely<any>;

/** Rows per keyset batch. */
export const EXPORT_BATCH_ROWS = 2_000;

export interface TableShape {
  columns: ArchiveColumn[];
  /** The primary key's columns, in key order, with their types. */
  primaryKey: ArchiveColumn[];
}

/** The columns of `table` (in order) and its primary key. */
export async function tableShape(db: AnyKysely, table: string): Promise<TableShape> {
  assertIdentifier(table, 'table');
  const { rows: columns } = await sql<{ name: string; type: string; not_null: boolean }>`
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
    FROM pg_attribute a
    WHERE a.attrelid = to_regclass(${table}) AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum`.execute(db);
  if (columns.length === 0) throw new ArchiveError(`table ${table} does not exist`);
  const { rows: key } = await sql<{ name: string }>`
    SELECT a.attname AS name
    FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = to_regclass(${table}) AND i.indisprimary
    ORDER BY k.ord`.execute(db);
  if (key.length === 0) throw new ArchiveError(`table ${table} has no primary key: the archiver reads a partition in primary-key order`);
  const shaped = columns.map((c) => ({ name: c.name, type: c.type, notNull: c.not_null }));
  return { columns: shaped, primaryKey: key.map((k) => shaped.find((c) => c.name === k.name) as ArchiveColumn) };
}

export interface WrittenArchive {
  rowCount: number;
  compressed: { bytes: number; sha256: string };
  ndjson: { bytes: number; sha256: string };
}

function hashing(hash: Hash, counted: { bytes: number }, onChunk?: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      counted.bytes += chunk.length;
      onChunk?.(chunk);
      done(null, chunk);
    },
  });
}

/** The rows of `table` as NDJSON, one batch of lines per chunk, in primary-key order. */
async function* ndjsonBatches(db: AnyKysely, table: string, primaryKey: ArchiveColumn[], batchRows: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const keyList = sql.raw(primaryKey.map((c) => `"${c.name}"`).join(', '));
  const keyTexts = sql.raw(primaryKey.map((c, i) => `"${c.name}"::text AS "__k${i}"`).join(', '));
  let after: string[] | undefined;
  for (;;) {
    if (signal?.aborted) throw new ArchiveError(`export of ${table} stopped: ${String(signal.reason ?? 'aborted')}`);
    const from = after
      ? sql`WHERE (${keyList}) > (${sql.join(after.map((v, i) => sql`${v}::${sql.raw((primaryKey[i] as ArchiveColumn).type)}`))})`
      : sql``;
    const { rows } = await sql<Record<string, string>>`
      SELECT to_jsonb(t)::text AS "__line", ${keyTexts}
      FROM ${sql.raw(`"${table}"`)} t ${from}
      ORDER BY ${keyList} LIMIT ${batchRows}`.execute(db);
    if (rows.length === 0) return;
    yield Buffer.from(rows.map((r) => `${r.__line}\n`).join(''), 'utf8');
    const last = rows[rows.length - 1] as Record<string, string>;
    after = primaryKey.map((_, i) => last[`__k${i}`] as string);
    if (rows.length < batchRows) return;
  }
}

/** Streams `table`'s rows as gzipped NDJSON to `objectKey`; answers the count, sizes and checksums of what was sent. */
export async function writeArchive(
  db: AnyKysely,
  storage: ObjectStorage,
  table: string,
  objectKey: string,
  options: { primaryKey: ArchiveColumn[]; batchRows?: number; signal?: AbortSignal },
): Promise<WrittenArchive> {
  const rawHash = createHash('sha256');
  const gzHash = createHash('sha256');
  const raw = { bytes: 0 };
  const gz = { bytes: 0 };
  let rowCount = 0;
  const body = new PassThrough();
  const source = Readable.from(ndjsonBatches(db, table, options.primaryKey, options.batchRows ?? EXPORT_BATCH_ROWS, options.signal));
  const countLines = (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rowCount++;
  };
  const piping = pipeline(source, hashing(rawHash, raw, countLines), createGzip(), hashing(gzHash, gz), body);
  const stored = storage.put(objectKey, body, { contentType: 'application/gzip' }).catch((error: unknown) => {
    // The storage stopped reading: end the pipeline too, or it would wait on a full buffer.
    body.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  });
  const [info] = await Promise.all([stored, piping]);
  if (info.size !== gz.bytes) {
    throw new ArchiveError(`storage kept ${info.size} bytes of ${objectKey}, ${gz.bytes} were sent`);
  }
  return { rowCount, compressed: { bytes: gz.bytes, sha256: gzHash.digest('hex') }, ndjson: { bytes: raw.bytes, sha256: rawHash.digest('hex') } };
}

/**
 * Reads the object back and compares it with what was written (or what a manifest says):
 * byte count and SHA-256 of the compressed object, SHA-256 of the NDJSON, number of lines.
 * Throws an `ArchiveError` naming each difference; nothing is kept in memory.
 */
export async function verifyArchive(storage: ObjectStorage, objectKey: string, expected: WrittenArchive, signal?: AbortSignal): Promise<void> {
  const object = await storage.get(objectKey);
  if (!object) throw new ArchiveError(`archive ${objectKey} is not in storage`);
  const gzHash = createHash('sha256');
  const rawHash = createHash('sha256');
  const gz = { bytes: 0 };
  const raw = { bytes: 0 };
  let lines = 0;
  const countLines = (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  };
  try {
    await pipeline(object.body, hashing(gzHash, gz), createGunzip(), hashing(rawHash, raw, countLines), new PassThrough().resume(), signal ? { signal } : {});
  } catch (error) {
    throw new ArchiveError(`archive ${objectKey} cannot be read back: ${(error as Error).message}`, { cause: error });
  }
  const problems: string[] = [];
  const gzSha = gzHash.digest('hex');
  const rawSha = rawHash.digest('hex');
  if (gz.bytes !== expected.compressed.bytes) problems.push(`${gz.bytes} bytes instead of ${expected.compressed.bytes}`);
  if (gzSha !== expected.compressed.sha256) problems.push(`compressed SHA-256 ${gzSha} instead of ${expected.compressed.sha256}`);
  if (rawSha !== expected.ndjson.sha256) problems.push(`NDJSON SHA-256 ${rawSha} instead of ${expected.ndjson.sha256}`);
  if (lines !== expected.rowCount) problems.push(`${lines} rows instead of ${expected.rowCount}`);
  if (problems.length > 0) throw new ArchiveError(`archive ${objectKey} does not match what was written: ${problems.join('; ')}`);
}

/**
 * The archive's lines, `batchLines` at a time (each a JSON object's text), with the
 * NDJSON's running SHA-256 available once the iteration ends (`digest()`).
 */
export async function* archiveLineBatches(
  storage: ObjectStorage,
  objectKey: string,
  batchLines: number,
  hash: Hash,
): AsyncGenerator<string[]> {
  const object = await storage.get(objectKey);
  if (!object) throw new ArchiveError(`archive ${objectKey} is not in storage`);
  const lines = object.body.pipe(createGunzip());
  object.body.on('error', (error) => lines.destroy(error));
  let rest = Buffer.alloc(0);
  let batch: string[] = [];
  for await (const chunk of lines as AsyncIterable<Buffer>) {
    hash.update(chunk);
    let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, start)) {
      batch.push(data.toString('utf8', start, i));
      start = i + 1;
      if (batch.length >= batchLines) {
        yield batch;
        batch = [];
      }
    }
    rest = Buffer.from(data.subarray(start));
    data = Buffer.alloc(0);
  }
  if (rest.length > 0) throw new ArchiveError(`archive ${objectKey} ends in the middle of a line`);
  if (batch.length > 0) yield batch;
}
