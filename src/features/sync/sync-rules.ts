/**
 * Plugin sync rules (pure): who sees which changes, and how a row snapshot (as the
 * triggers of migration 0008 record it, `to_jsonb` of the row) becomes the `data` of a
 * change. The editor plugin is a creator's: a creator follows its own videos, the
 * placements on them and the products it may place (those of active advertisers); an
 * admin follows everything. Advertisers have no plugin (403).
 */

export type SyncScope = { kind: 'all' } | { kind: 'owner'; ownerId: string };
export type EntityType = 'video' | 'placement' | 'product';

export function syncScopeOf(actor: { userId: string; roles: readonly string[] }): SyncScope | undefined {
  if (actor.roles.includes('admin')) return { kind: 'all' };
  if (actor.roles.includes('creator')) return { kind: 'owner', ownerId: actor.userId };
  return undefined;
}

type Snapshot = Record<string, unknown>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const time = (v: unknown): string | null => (typeof v === 'string' ? new Date(v).toISOString() : null);
const pick = (row: Snapshot, keys: readonly string[]): Snapshot => Object.fromEntries(keys.map((k) => [k, row[k] ?? null]));

/** The API-shaped data of a row snapshot: the fields the resource's GET shows. */
export function changeData(type: EntityType, row: Snapshot): Snapshot {
  const common = { created_at: time(row.created_at), updated_at: time(row.updated_at), version: row.version };
  switch (type) {
    case 'video':
      return {
        ...pick(row, ['id', 'owner_id', 'title', 'source_url', 'status', 'analysis_status', 'failure_reason']),
        duration: num(row.duration), metadata: row.metadata ?? {}, ...common,
      };
    case 'placement':
      return {
        ...pick(row, ['id', 'video_id', 'product_id', 'description', 'position', 'status', 'file_url']),
        start_time: num(row.start_time), end_time: num(row.end_time), ...common,
      };
    case 'product':
      return { ...pick(row, ['id', 'advertiser_id', 'name', 'description', 'category']), assets: row.assets ?? [], ...common };
  }
}

/** A creator may place (and so follows) the products of active advertisers only; a product whose advertiser is not active reads as deleted. */
export const hiddenProduct = (scope: SyncScope, advertiserActive: boolean): boolean => scope.kind === 'owner' && !advertiserActive;
