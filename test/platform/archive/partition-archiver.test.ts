/**
 * The archiver on a real engine (DB=pglite|postgres) with partitions of past months made
 * by the test: detach, export, verify, drop; manifests; restore gives back every row; a
 * storage that hands back another object or fails drops nothing; a run after a crash
 * between detach and drop finishes the job.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveError, archiveKeys, parseManifest, type ArchiveManifest } from '../../../src/platform/archive/archive-manifest.js';
import { restoreArchive } from '../../../src/platform/archive/archive-restore.js';
import { eventLogArchivePolicy } from '../../../src/platform/archive/event-log-policy.js';
import { archivePartitions, detachPartition, type ArchivePolicy, type ArchiverDeps } from '../../../src/platform/archive/partition-archiver.js';
import { createLocalStorage } from '../../../src/platform/storage/local/local-storage.js';
import type { ObjectStorage } from '../../../src/platform/storage/object-storage.js';
import { ingestionArchivePolicies } from '../../../src/features/ingestion/index.js';
import { createArchiveWorker } from '../../../src/platform/archive/archive-worker.js';
import { loadConfig } from '../../../src/platform/config/config.js';
import { archivePolicies } from '../../../src/entry/archive-policies.js';
import { allWorkers } from '../../../src/entry/workers.js';
import { pino } from 'pino';
import { engine, openTestDatabase, type TestDatabase } from '../../support/engine.js';
import { fillPastMonth, relayPastEverything as relayPast } from '../../support/past-partitions.js';

let dir: string;
let database: TestDatabase;
let storage: ObjectStorage;
let deps: ArchiverDeps;
const policies: ArchivePolicy[] = [eventLogArchivePolicy(365), ...ingestionArchivePolicies(90)];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-archive-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  database = await openTestDatabase();
  storage = createLocalStorage({ root: await mkdtemp(path.join(dir, 'objects-')), timeoutMs: 60_000 });
  deps = { db: database.db, engine: database.engine, storage };
}, 60_000);
afterEach(async () => {
  await database?.close();
});

const EVENTS = 4_321; // more than two export batches of 2,000

const pastMonth = (month = '2025-01', events = EVENTS) => fillPastMonth(database.db, month, events);
const relayPastEverything = () => relayPast(database.db);

/** Every row of `table`, as PostgreSQL prints it (jsonb text), in primary-key order. */
async function rowsOf(table: string, orderBy: string): Promise<string[]> {
  const { rows } = await sql<{ row: string }>`SELECT to_jsonb(t)::text AS row FROM ${sql.raw(table)} t ORDER BY ${sql.raw(orderBy)}`.execute(database.db);
  return rows.map((r) => r.row);
}

async function exists(table: string): Promise<boolean> {
  const { rows: [row] } = await sql<{ oid: string | null }>`SELECT to_regclass(${table})::text AS oid`.execute(database.db);
  return Boolean(row?.oid);
}

async function attachedTo(parent: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = ${parent} ORDER BY 1`.execute(database.db);
  return rows.map((r) => r.name);
}

async function readObject(store: ObjectStorage, key: string): Promise<Buffer | undefined> {
  const object = await store.get(key);
  if (!object) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of object.body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function manifestOf(table: string, partition: string): Promise<ArchiveManifest> {
  const { manifestKey } = archiveKeys(table, partition);
  return parseManifest((await readObject(storage, manifestKey) as Buffer).toString('utf8'), manifestKey);
}

/** The storage, except that reading `key` answers `replacement` (a well-formed gzip of other rows). */
function substituting(inner: ObjectStorage, key: string, replacement: Buffer): ObjectStorage {
  return {
    ...inner,
    async get(k) {
      const real = await inner.get(k);
      if (k !== key || !real) return real;
      real.body.destroy();
      return { contentType: real.contentType, size: replacement.length, body: Readable.from([replacement]) };
    },
  };
}

const archivedRows = async () => database.db.selectFrom('archived_partitions').selectAll().orderBy('partition_name').execute();

describe(`partition archiver (${engine})`, () => {
  it('dry run lists the months past retention and changes nothing', async () => {
    await pastMonth();
    const result = await archivePartitions(deps, policies, { dryRun: true });
    expect(result.planned.map((p) => p.partition).sort()).toEqual(['event_log_2025_01', 'playback_charges_2025_01', 'playback_events_2025_01']);
    expect(result.planned.every((p) => p.state === 'attached')).toBe(true);
    expect(result.archived).toEqual([]);
    expect(await attachedTo('event_log')).toContain('event_log_2025_01');
    expect(await archivedRows()).toEqual([]);
    expect(await storage.head(archiveKeys('event_log', 'event_log_2025_01').objectKey)).toBeUndefined();
  });

  it('exports, verifies and drops every partition past retention; the manifest counts the rows; restore gives every row back', async () => {
    await pastMonth();
    const before = {
      event_log: await rowsOf('event_log_2025_01', 'created_at, id'),
      playback_events: await rowsOf('playback_events_2025_01', 'received_at, event_id'),
      playback_charges: await rowsOf('playback_charges_2025_01', 'applied_at, event_id'),
    };
    const current = await attachedTo('event_log');

    const result = await archivePartitions(deps, policies, { batchRows: 1_000 });
    expect(result.failed).toEqual([]);
    expect(result.held).toEqual([]);
    expect(result.archived.map((a) => [a.partition, a.rowCount]).sort()).toEqual([
      ['event_log_2025_01', EVENTS], ['playback_charges_2025_01', 250], ['playback_events_2025_01', 300],
    ]);
    // Dropped, and only those: this month and the months ahead are still attached.
    for (const t of ['event_log_2025_01', 'playback_events_2025_01', 'playback_charges_2025_01']) expect(await exists(t)).toBe(false);
    expect(await attachedTo('event_log')).toEqual(current.filter((n) => n !== 'event_log_2025_01'));
    const recorded = await archivedRows();
    expect(recorded.map((r) => [r.partition_name, r.status, Number(r.row_count)])).toEqual([
      ['event_log_2025_01', 'archived', EVENTS], ['playback_charges_2025_01', 'archived', 250], ['playback_events_2025_01', 'archived', 300],
    ]);

    // The manifest describes the object as stored.
    const manifest = await manifestOf('event_log', 'event_log_2025_01');
    expect(manifest).toMatchObject({
      table: 'event_log', partition: 'event_log_2025_01', rowCount: EVENTS, primaryKey: ['created_at', 'id'],
      range: { from: '2025-01-01T00:00:00.000Z', to: '2025-02-01T00:00:00.000Z' }, objectKey: 'archives/event_log/event_log_2025_01.ndjson.gz',
    });
    expect(manifest.columns.map((c) => c.name)).toEqual(['id', 'position', 'tx_id', 'event_type', 'aggregate_type', 'aggregate_id', 'data', 'metadata', 'created_at', 'created_by']);
    const object = await readObject(storage, manifest.objectKey) as Buffer;
    expect(object.length).toBe(manifest.compressed.bytes);
    expect(createHash('sha256').update(object).digest('hex')).toBe(manifest.compressed.sha256);
    const ndjson = gunzipSync(object);
    expect(createHash('sha256').update(ndjson).digest('hex')).toBe(manifest.ndjson.sha256);
    expect(ndjson.toString('utf8').split('\n').filter(Boolean)).toEqual(before.event_log);
    expect(recorded[0]?.compressed_sha256).toBe(manifest.compressed.sha256);

    // Restore: every row back, byte for byte as PostgreSQL prints it (NUMERIC, xid8, jsonb, NULLs, microseconds).
    const restored = await restoreArchive({ db: database.db, storage }, { table: 'event_log', partition: 'event_log_2025_01' });
    expect(restored).toMatchObject({ table: 'event_log_2025_01_restored', rowCount: EVENTS });
    expect(await rowsOf('event_log_2025_01_restored', 'created_at, id')).toEqual(before.event_log);
    const charges = await restoreArchive({ db: database.db, storage }, { manifestKey: archiveKeys('playback_charges', 'playback_charges_2025_01').manifestKey, into: 'audit_charges' });
    expect(charges.rowCount).toBe(250);
    expect(await rowsOf('audit_charges', 'applied_at, event_id')).toEqual(before.playback_charges);
    await restoreArchive({ db: database.db, storage }, { table: 'playback_events', partition: 'playback_events_2025_01' });
    expect(await rowsOf('playback_events_2025_01_restored', 'received_at, event_id')).toEqual(before.playback_events);
    // The restored tables stand apart: not partitions, so not archived again.
    expect(await attachedTo('event_log')).not.toContain('event_log_2025_01_restored');
    expect((await archivePartitions(deps, policies)).planned).toEqual([]);

    // A restore never overwrites.
    await expect(restoreArchive({ db: database.db, storage }, { table: 'event_log', partition: 'event_log_2025_01' })).rejects.toThrow(/exists already/);
  }, 120_000);

  it('drops nothing when storage hands back another object, and a later run with honest storage finishes', async () => {
    await pastMonth();
    const before = await rowsOf('event_log_2025_01', 'created_at, id');
    const { objectKey, manifestKey } = archiveKeys('event_log', 'event_log_2025_01');
    const other = gzipSync(Buffer.from(`${before.slice(1).join('\n')}\n`));
    const lying = substituting(storage, objectKey, other);

    const result = await archivePartitions({ ...deps, storage: lying }, [eventLogArchivePolicy(365)]);
    expect(result.archived).toEqual([]);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]).toMatchObject({ partition: 'event_log_2025_01' });
    expect(result.failed[0]?.error).toMatch(/does not match what was written: .*rows instead of/);
    // Detached, every row still there, no manifest, the failure recorded.
    expect(await attachedTo('event_log')).not.toContain('event_log_2025_01');
    expect(await rowsOf('event_log_2025_01', 'created_at, id')).toEqual(before);
    expect(await storage.head(manifestKey)).toBeUndefined();
    const [row] = await archivedRows();
    expect(row).toMatchObject({ partition_name: 'event_log_2025_01', status: 'detached' });
    expect(row?.last_error).toMatch(/does not match/);
    // Listed for the next run, which finishes it.
    expect((await archivePartitions(deps, policies, { dryRun: true })).planned).toContainEqual(expect.objectContaining({ partition: 'event_log_2025_01', state: 'detached' }));
    const again = await archivePartitions(deps, [eventLogArchivePolicy(365)]);
    expect(again.failed).toEqual([]);
    expect(again.archived).toEqual([expect.objectContaining({ partition: 'event_log_2025_01', rowCount: EVENTS, resumed: true })]);
    expect(await exists('event_log_2025_01')).toBe(false);
    expect((await manifestOf('event_log', 'event_log_2025_01')).rowCount).toBe(EVENTS);
  }, 120_000);

  it('drops nothing when the upload fails or the manifest cannot be written', async () => {
    await pastMonth('2025-03', 2_500);
    const failingPut: ObjectStorage = { ...storage, put: async () => { throw new Error('storage refused the upload'); } };
    const first = await archivePartitions({ ...deps, storage: failingPut }, [eventLogArchivePolicy(365)]);
    expect(first.failed.map((f) => f.error)).toEqual([expect.stringMatching(/refused the upload/)]);
    expect(await rowsOf('event_log_2025_03', 'created_at, id')).toHaveLength(2_500);

    // The object is written and verifies, but the manifest's put fails: still nothing dropped.
    const { manifestKey } = archiveKeys('event_log', 'event_log_2025_03');
    const noManifest: ObjectStorage = { ...storage, put: async (key, body, options) => {
      if (key === manifestKey) throw new Error('manifest write failed');
      return storage.put(key, body, options);
    } };
    const second = await archivePartitions({ ...deps, storage: noManifest }, [eventLogArchivePolicy(365)]);
    expect(second.failed.map((f) => f.error)).toEqual([expect.stringMatching(/manifest write failed/)]);
    expect(await rowsOf('event_log_2025_03', 'created_at, id')).toHaveLength(2_500);
    expect((await archivedRows())[0]).toMatchObject({ status: 'detached' });

    const third = await archivePartitions(deps, [eventLogArchivePolicy(365)]);
    expect(third.archived).toEqual([expect.objectContaining({ partition: 'event_log_2025_03', rowCount: 2_500, resumed: true })]);
  }, 120_000);

  it('after a crash between detach and drop, the next run finds the detached partition and finishes it', async () => {
    await pastMonth('2025-02', 3_000);
    const before = await rowsOf('playback_charges_2025_02', 'applied_at, event_id');
    // The crash: the detach committed, nothing after it ran.
    expect(await detachPartition(database.db, ingestionArchivePolicies(90)[1] as ArchivePolicy, 'playback_charges_2025_02')).toEqual({});
    expect(await attachedTo('playback_charges')).not.toContain('playback_charges_2025_02');
    expect(await exists('playback_charges_2025_02')).toBe(true);

    const result = await archivePartitions(deps, policies);
    expect(result.failed).toEqual([]);
    expect(result.archived).toContainEqual(expect.objectContaining({ partition: 'playback_charges_2025_02', rowCount: 250, resumed: true }));
    expect(result.archived).toContainEqual(expect.objectContaining({ partition: 'event_log_2025_02', rowCount: 3_000, resumed: false }));
    expect(await exists('playback_charges_2025_02')).toBe(false);
    await restoreArchive({ db: database.db, storage }, { table: 'playback_charges', partition: 'playback_charges_2025_02' });
    expect(await rowsOf('playback_charges_2025_02_restored', 'applied_at, event_id')).toEqual(before);
  }, 120_000);

  it('keeps an event_log month whose events the relay has not published', async () => {
    await pastMonth('2025-04', 10);
    await sql`UPDATE outbox_relay_checkpoints SET tx_id = '1', position = 0 WHERE name = 'archive-test'`.execute(database.db);
    const result = await archivePartitions(deps, [eventLogArchivePolicy(365)]);
    expect(result.archived).toEqual([]);
    expect(result.held).toEqual([expect.objectContaining({ partition: 'event_log_2025_04', reason: expect.stringMatching(/not published/) })]);
    expect(await attachedTo('event_log')).toContain('event_log_2025_04');
    expect(await archivedRows()).toEqual([]);
    // No relay ever ran: nothing of the log is known to be published.
    await sql`DELETE FROM outbox_relay_checkpoints`.execute(database.db);
    expect((await archivePartitions(deps, [eventLogArchivePolicy(365)])).held).toEqual([expect.objectContaining({ reason: expect.stringMatching(/no relay has published/) })]);
    await relayPastEverything();
    expect((await archivePartitions(deps, [eventLogArchivePolicy(365)])).archived).toHaveLength(1);
  }, 120_000);

  it('restore refuses an archive whose object does not match its manifest, and creates nothing', async () => {
    await pastMonth('2025-05', 50);
    await archivePartitions(deps, [eventLogArchivePolicy(365)]);
    const { objectKey } = archiveKeys('event_log', 'event_log_2025_05');
    const original = await readObject(storage, objectKey) as Buffer;
    const tampered = gunzipSync(original).toString('utf8').replace('"tester"', '"someone"');
    await storage.put(objectKey, gzipSync(Buffer.from(tampered)), { contentType: 'application/gzip' });
    await expect(restoreArchive({ db: database.db, storage }, { table: 'event_log', partition: 'event_log_2025_05' })).rejects.toThrow(ArchiveError);
    await expect(restoreArchive({ db: database.db, storage }, { table: 'event_log', partition: 'event_log_2025_05' })).rejects.toThrow(/SHA-256/);
    expect(await exists('event_log_2025_05_restored')).toBe(false);
    await expect(restoreArchive({ db: database.db, storage }, { table: 'event_log', partition: 'event_log_2099_01' })).rejects.toThrow(/no archive manifest/);
    await expect(restoreArchive({ db: database.db, storage }, { table: 'event_log; DROP TABLE x', partition: 'p' })).rejects.toThrow(/not a table name/);
  }, 120_000);

  it('runs on schedule as the partition-archiver background worker', async () => {
    await pastMonth('2025-07', 100);
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: '', STORAGE: 'local' });
    const worker = createArchiveWorker(archivePolicies, { firstRunMs: 10, everyMs: 3_600_000 });
    expect(allWorkers.map((w) => w.name)).toContain(worker.name);
    const running = await worker.start({ config, database, logger: pino({ level: 'silent' }) });
    try {
      const deadline = Date.now() + 60_000;
      while ((await archivedRows()).filter((r) => r.status === 'archived').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await running.stop();
    }
    expect((await archivedRows()).map((r) => [r.partition_name, r.status])).toEqual([
      ['event_log_2025_07', 'archived'], ['playback_charges_2025_07', 'archived'], ['playback_events_2025_07', 'archived'],
    ]);
    const local = createLocalStorage({ root: path.join(dataDir, 'objects'), timeoutMs: 60_000 });
    expect(await local.head(archiveKeys('event_log', 'event_log_2025_07').manifestKey)).toBeDefined();
  }, 120_000);

  it.runIf(engine === 'postgres')('lets one process archive at a time', async () => {
    await pastMonth('2025-06', 2_000);
    const [a, b] = await Promise.all([archivePartitions(deps, policies), archivePartitions(deps, policies)]);
    expect([a.busy, b.busy].filter(Boolean).length).toBeLessThanOrEqual(1);
    expect([...a.failed, ...b.failed]).toEqual([]);
    expect([...a.archived, ...b.archived].map((x) => x.partition).sort()).toEqual(['event_log_2025_06', 'playback_charges_2025_06', 'playback_events_2025_06']);
  }, 120_000);
});
