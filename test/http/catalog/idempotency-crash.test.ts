/**
 * Idempotency-Key completion is atomic with the command: the command's writes and
 * the stored response commit in one transaction, so a command that does not commit
 * leaves no row and no completed key; an in-progress claim left by a dead process is
 * taken over after the lease, and the old claim can no longer store its response.
 *
 * The failures are real database failures, provoked by triggers these tests add to
 * their own database: an exception while the response is stored (the command's rows
 * are written, the transaction has not committed: exactly where a process that dies
 * stops), a deferred constraint that fails the COMMIT itself, and (on PostgreSQL,
 * with two sessions) a command held on an advisory lock while another request takes
 * its key over or while its client goes away.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/config.js';
import { createJwtVerifier } from '../../../src/platform/auth/jwt-verifier.js';
import { ClaimLostError, completeKey, releaseKey } from '../../../src/platform/http/idempotency-key-repository.js';
import { buildApp, type App } from '../../../src/entry/app.js';
import { IDEMPOTENCY_LEASE_MS } from '../../../src/platform/http/idempotency.js';
import { eventually, openPostgresDatabase } from '../../events/support.js';
import { engine, type TestDatabase } from '../../support/engine.js';
import { TEST_AUDIENCE, TEST_ISSUER, createTestIssuer } from '../../support/tokens.js';
import { isProblem, openHarness, requestId, seedCatalog, type Harness } from './support.js';

const LEASE_SECONDS = IDEMPOTENCY_LEASE_MS / 1000;

describe(`Idempotency-Key completion on ${engine}`, () => {
  let h: Harness;
  let seed: Awaited<ReturnType<typeof seedCatalog>>;
  beforeAll(async () => {
    h = await openHarness();
    seed = await seedCatalog(h, { advertiser: 'advertiser', creator: 'creator' });
    await sql`
      -- Keys listed here fail when their response is stored.
      CREATE TABLE test_fail_completion (key TEXT PRIMARY KEY);
      CREATE FUNCTION test_fail_completion() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status IS NOT NULL AND EXISTS (SELECT 1 FROM test_fail_completion WHERE key = NEW.key) THEN
          RAISE EXCEPTION 'storing the response of % failed', NEW.key;
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_fail_completion BEFORE UPDATE ON idempotency_keys
        FOR EACH ROW EXECUTE FUNCTION test_fail_completion();

      -- Placements with a description listed here fail their transaction at COMMIT.
      CREATE TABLE test_fail_commit (description TEXT PRIMARY KEY);
      CREATE FUNCTION test_fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM test_fail_commit WHERE description = NEW.description) THEN
          RAISE EXCEPTION 'commit of placement % refused', NEW.description;
        END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER test_fail_commit AFTER INSERT ON placements
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fail_commit();
    `.execute(h.database.db);
  });
  afterAll(async () => {
    await h?.close();
  });

  const body = (description: string) => ({ video_id: seed.videoId, product_id: seed.productId, start_time: 1, end_time: 2, description });
  const post = (who: 'creator' | 'admin', description: string, key: string, id = requestId()) =>
    h.call(who, { method: 'POST', url: '/v1/placements', headers: { 'idempotency-key': key, 'x-request-id': id }, body: body(description) });
  const placements = (description: string, createdBy?: string) => {
    let query = h.database.db.selectFrom('placements').select('id').where('description', '=', description);
    if (createdBy) query = query.where('created_by', '=', createdBy);
    return query.execute();
  };
  const eventsOf = async (correlationId: string) =>
    (await h.database.db.selectFrom('event_log').select(['metadata']).where('event_type', '=', 'com.nedlia.placement.created').execute()).filter(
      (r) => (r.metadata as { correlationid?: string } | null)?.correlationid === correlationId,
    );
  const keyRow = (caller: string, key: string) =>
    h.database.db.selectFrom('idempotency_keys').selectAll().where('caller', '=', caller).where('key', '=', key).executeTakeFirst();

  it('a command whose transaction fails after its writes leaves no row, no event and no completed key; the retry creates once', async () => {
    const key = randomUUID();
    await sql`INSERT INTO test_fail_completion VALUES (${key})`.execute(h.database.db);
    const failedId = requestId();
    const failed = await post('creator', 'fails-on-completion', key, failedId);
    // The command ran (its insert and its event are written), then storing the response failed: a 5xx, not the 201.
    expect(failed.statusCode, failed.body).toBe(500);
    expect(isProblem(failed)).toBe(true);
    expect(failed.headers.location).toBeUndefined();
    expect(await placements('fails-on-completion')).toHaveLength(0);
    expect(await eventsOf(failedId)).toHaveLength(0);
    // Freed, not left in progress: nothing was committed, so the retry may run at once.
    expect(await keyRow(h.ids.creator, key)).toBeUndefined();

    await sql`DELETE FROM test_fail_completion`.execute(h.database.db);
    const retry = await post('creator', 'fails-on-completion', key);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    const replay = await post('creator', 'fails-on-completion', key);
    expect([replay.statusCode, replay.body, replay.headers['idempotent-replayed']]).toEqual([201, retry.body, 'true']);
    expect(await placements('fails-on-completion')).toHaveLength(1);
    expect((await keyRow(h.ids.creator, key))?.status).toBe(201);
  });

  it('a COMMIT that fails leaves nothing, frees the key and the database (the next requests run)', async () => {
    const key = randomUUID();
    await sql`INSERT INTO test_fail_commit VALUES ('fails-at-commit')`.execute(h.database.db);
    const failed = await post('creator', 'fails-at-commit', key);
    expect(failed.statusCode, failed.body).toBe(500);
    expect(failed.headers.etag).toBeUndefined();
    expect(await placements('fails-at-commit')).toHaveLength(0);
    expect(await keyRow(h.ids.creator, key)).toBeUndefined();

    await sql`DELETE FROM test_fail_commit`.execute(h.database.db);
    const retry = await post('creator', 'fails-at-commit', key);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(await placements('fails-at-commit')).toHaveLength(1);
  });

  it('a claim left in progress by a dead process is taken over after the lease; the command runs once and the old claim cannot store', async () => {
    // The request hash of this body, as the service computes it: from another caller's identical request.
    const probeKey = randomUUID();
    expect((await post('admin', 'dead-claim', probeKey)).statusCode).toBe(201);
    const hash = (await keyRow(h.ids.admin, probeKey))!.request_hash;

    const deadClaim = randomUUID();
    const claimedAgo = (seconds: number) => sql<Date>`NOW() - make_interval(secs => ${seconds}::float8)`;
    const insertClaim = (key: string, requestHash: string, secondsAgo: number) =>
      h.database.db
        .insertInto('idempotency_keys')
        .values({
          caller: h.ids.creator, key, request_hash: requestHash, claim_id: deadClaim,
          created_at: claimedAgo(secondsAgo), expires_at: new Date(Date.now() + 23 * 3600_000),
        })
        .execute();

    // Within the lease the claim is still trusted: 409, nothing runs.
    const young = randomUUID();
    await insertClaim(young, hash, LEASE_SECONDS - 60);
    const during = await post('creator', 'dead-claim', young);
    expect([during.statusCode, during.json().code]).toEqual([409, 'IDEMPOTENCY.IN_PROGRESS']);
    // Past the lease but for another request: still the key of that request (422), never taken over.
    const other = randomUUID();
    await insertClaim(other, 'another request', LEASE_SECONDS + 60);
    expect((await post('creator', 'dead-claim', other)).json().code).toBe('IDEMPOTENCY.KEY_REUSED');
    expect(await placements('dead-claim', h.ids.creator)).toHaveLength(0);

    // Past the lease: taken over, and the command runs.
    const key = randomUUID();
    await insertClaim(key, hash, LEASE_SECONDS + 60);
    const first = await post('creator', 'dead-claim', key);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const row = (await keyRow(h.ids.creator, key))!;
    expect(row.status).toBe(201);
    expect(row.claim_id).not.toBe(deadClaim);

    // The dead process wakes up: its completion and its release change nothing.
    await expect(completeKey(h.database.db, h.ids.creator, key, deadClaim, { status: 500, headers: {}, body: 'late' })).rejects.toBeInstanceOf(ClaimLostError);
    await releaseKey(h.database.db, h.ids.creator, key, deadClaim);
    expect(await keyRow(h.ids.creator, key)).toEqual(row);

    const replay = await post('creator', 'dead-claim', key);
    expect([replay.statusCode, replay.body, replay.headers['idempotent-replayed']]).toEqual([201, first.body, 'true']);
    expect(await placements('dead-claim', h.ids.creator)).toHaveLength(1);
  });
});

/**
 * Two sessions at once (a command held inside its transaction while another request
 * runs), so PostgreSQL whatever DB says: PGlite is one session.
 */
describe('Idempotency-Key with a command held mid-transaction (PostgreSQL)', () => {
  let database: TestDatabase;
  let app: App;
  let admin: string;
  let lock: pg.Client;
  let target: { video_id: string; product_id: string };
  beforeAll(async () => {
    database = await openPostgresDatabase();
    const issuer = await createTestIssuer();
    app = await buildApp({
      config: loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0' }),
      database,
      logger: pino({ level: 'silent' }),
      verifyToken: createJwtVerifier({ jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE }),
    });
    admin = await issuer.mint({ userId: `admin-${randomUUID()}`, roles: ['admin'] });
    const advertiser = await database.db.insertInto('advertisers').values({ name: 'Acme', contact_email: 'ads@acme.test' }).returning('id').executeTakeFirstOrThrow();
    const product = await call({ url: '/v1/products', body: { advertiser_id: advertiser.id, name: 'Cola' } });
    const video = await call({ url: '/v1/videos', body: { title: 'Trailer', duration: 60, status: 'ready' } });
    expect([product.statusCode, video.statusCode]).toEqual([201, 201]);
    target = { video_id: video.json().id, product_id: product.json().id };
    // The first insert of a placement described 'held' (the one that gets advisory lock 7, kept to the end of
    // its transaction) waits for advisory lock 42, which the test's own session holds.
    await sql`
      CREATE FUNCTION test_hold_first() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.description LIKE 'held%' AND pg_try_advisory_xact_lock(7) THEN
          PERFORM pg_advisory_xact_lock(42);
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_hold_first BEFORE INSERT ON placements FOR EACH ROW EXECUTE FUNCTION test_hold_first();
    `.execute(database.db);
    lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
  });
  afterAll(async () => {
    await lock?.end();
    await app?.close();
    await database?.close();
  });

  function call({ url, body, key }: { url: string; body: unknown; key?: string }) {
    return app.inject({
      method: 'POST', url, payload: JSON.stringify(body),
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    });
  }
  const placement = (description: string, key: string) => call({ url: '/v1/placements', key, body: { ...target, start_time: 1, end_time: 2, description } });
  const count = async (description: string) => (await database.db.selectFrom('placements').select('id').where('description', '=', description).execute()).length;
  const keyRow = (key: string) => database.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirst();
  const waitUntilHeld = () =>
    eventually(async () => {
      const { rows } = await lock.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 42 AND NOT granted`);
      return rows.length > 0;
    }, 10_000, 'the command to wait on advisory lock 42');

  it('a claimant taken over after its lease cannot commit: its command rolls back (409), the new claimant runs once', async () => {
    const key = randomUUID();
    await lock.query('SELECT pg_advisory_lock(42)');
    const held = placement('held-takeover', key);
    await waitUntilHeld();
    const first = (await keyRow(key))!;
    expect(first.status).toBeNull();

    // The held request outlives its lease; the client retries and takes the key over.
    await database.db.updateTable('idempotency_keys').set({ created_at: sql`NOW() - make_interval(secs => ${LEASE_SECONDS + 60}::float8)` }).where('key', '=', key).execute();
    const retry = await placement('held-takeover', key);
    expect(retry.statusCode, retry.body).toBe(201);

    await lock.query('SELECT pg_advisory_unlock(42)');
    const late = await held;
    expect(late.statusCode, late.body).toBe(409);
    expect(late.json().code).toBe('IDEMPOTENCY.IN_PROGRESS');
    expect(late.headers.location).toBeUndefined();

    expect(await count('held-takeover')).toBe(1);
    const row = (await keyRow(key))!;
    expect([row.status, row.response_body]).toEqual([201, retry.body]);
    expect(row.claim_id).not.toBe(first.claim_id);
    const replay = await placement('held-takeover', key);
    expect([replay.statusCode, replay.body]).toEqual([201, retry.body]);
  });

  it('a client that goes away mid-command gets its transaction rolled back and its key freed', async () => {
    const key = randomUUID();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    await lock.query('SELECT pg_advisory_lock(42)');
    const payload = JSON.stringify({ ...target, start_time: 1, end_time: 2, description: 'held-abort' });
    const req = httpRequest({
      host: '127.0.0.1', port, method: 'POST', path: '/v1/placements',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', 'idempotency-key': key, 'content-length': Buffer.byteLength(payload) },
    });
    req.on('error', () => undefined);
    req.end(payload);
    await waitUntilHeld();
    req.destroy();
    // Once the server has closed the connection its abort hook has run; only then let the held insert go.
    await eventually(async () => (await new Promise<number>((resolve) => app.server.getConnections((_e, n) => resolve(n)))) === 0, 10_000, 'the server to see the client go');
    await lock.query('SELECT pg_advisory_unlock(42)');

    await eventually(async () => (await keyRow(key)) === undefined, 10_000, 'the key to be freed');
    expect(await count('held-abort')).toBe(0);
    // The key is free: the retry runs the command.
    const retry = await placement('held-abort', key);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(await count('held-abort')).toBe(1);
  });
});
