/** Users: one row per identity-provider subject that owns something. */
import type { Executor } from '../../../platform/db/schema.js';

/** Creates the user row for `id` (a token's `sub`) if it is not there yet. */
export async function upsertUser(db: Executor, id: string, email: string | null = null): Promise<void> {
  await db
    .insertInto('users')
    .values({ id, email })
    .onConflict((oc) => oc.column('id').doUpdateSet({ updated_at: new Date() }))
    .execute();
}
