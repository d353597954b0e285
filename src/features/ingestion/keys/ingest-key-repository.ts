/** The `ingest_keys` table. */
import type { Kysely, Selectable } from 'kysely';
import type { Database, IngestKeysTable } from '../../../platform/db/schema.js';
import { pageOf, toPage, type Page, type PageRequest } from '../../../platform/db/keyset-page.js';
import type { IngestKey } from './ingest-key-model.js';

type Row = Selectable<IngestKeysTable>;

export const toKey = (r: Row): IngestKey => ({
  id: r.id, creatorId: r.creator_id, name: r.name, prefix: r.key_prefix, createdAt: r.created_at, revokedAt: r.revoked_at,
});

export async function insertKey(db: Kysely<Database>, key: { creatorId: string; name: string | null; hash: string; prefix: string; createdBy: string }): Promise<IngestKey> {
  const row = await db
    .insertInto('ingest_keys')
    .values({ creator_id: key.creatorId, name: key.name, key_hash: key.hash, key_prefix: key.prefix, created_by: key.createdBy })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toKey(row);
}

export async function findByHash(db: Kysely<Database>, hash: string): Promise<Row | undefined> {
  return db.selectFrom('ingest_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
}

export async function findById(db: Kysely<Database>, id: string): Promise<Row | undefined> {
  return db.selectFrom('ingest_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function revokeKey(db: Kysely<Database>, id: string, by: string): Promise<Row | undefined> {
  return db
    .updateTable('ingest_keys')
    .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(new Date())), revoked_by: eb.fn.coalesce('revoked_by', eb.val(by)) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function listKeys(db: Kysely<Database>, creatorId: string | undefined, page: PageRequest): Promise<Page<IngestKey>> {
  let query = db.selectFrom('ingest_keys').selectAll();
  if (creatorId !== undefined) query = query.where('creator_id', '=', creatorId);
  const rows = await pageOf(query, 'ingest_keys', page).execute();
  return toPage(rows, page.limit, toKey);
}
