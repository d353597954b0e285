/**
 * Minimal rows for repository tests, inserted directly. Each call makes fresh ids,
 * so tests sharing a database never see each other's data.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../src/platform/db/schema.js';

export async function advertiser(db: Kysely<Database>): Promise<string> {
  const row = await db
    .insertInto('advertisers')
    .values({ name: 'Acme', contact_email: 'ads@acme.test' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function product(db: Kysely<Database>, advertiserId?: string): Promise<string> {
  const row = await db
    .insertInto('products')
    .values({ advertiser_id: advertiserId ?? (await advertiser(db)), name: 'Soda', description: null, category: 'drinks', assets: '[]' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function video(db: Kysely<Database>, duration = 120): Promise<string> {
  const row = await db
    .insertInto('videos')
    .values({ title: 'Trailer', duration, owner_id: null, source_url: null, metadata: '{}', analysis_status: null, failure_reason: null, media_path: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
