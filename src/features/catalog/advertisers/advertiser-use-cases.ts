/**
 * Advertiser use cases. Admins manage advertisers; an advertiser reads its own row.
 */
import type { Advertiser, AdvertiserStatus } from './advertiser-model.js';
import { mayManageAdvertiserRows } from '../shared/tenancy-rules.js';
import { DomainError } from '../../../platform/errors.js';
import { canonicalTimeZone } from './advertiser-rules.js';
import { EventTypes } from '../catalog-events.js';
import { appendEvents } from '../../../platform/events/event-log.js';
import {
  insertAdvertiser,
  listAdvertisers as listRows,
} from './advertiser-repository.js';
import type { Page, PageRequest } from '../../../platform/db/keyset-page.js';
import { findLive, softDeleteVersioned, updateVersioned } from '../shared/versioned-rows.js';
import type { Actor } from '../../../platform/events/command-context.js';
import { advertiserScope, assertAccess, forbidden, isAdmin, type CatalogCommand, type CatalogDeps } from '../shared/access.js';
import { assertSomethingToChange, matchVersion, sentFields, transact, type ExpectedVersion } from '../shared/transact.js';

export type { AdvertiserStatus } from './advertiser-model.js';

export interface NewAdvertiserInput {
  name: string;
  contact_email: string;
  status?: AdvertiserStatus;
  /** IANA zone name (checked with Intl). */
  time_zone?: string;
}
export type AdvertiserPatch = Partial<NewAdvertiserInput>;

const canSee = mayManageAdvertiserRows;

/** The canonical name of `zone` when Intl knows it as an IANA time zone; otherwise a 422 on `/time_zone`. */
function checkTimeZone(zone: string): string {
  const canonical = canonicalTimeZone(zone);
  if (canonical !== undefined) return canonical;
  throw new DomainError('invalid', 'ADVERTISER.TIME_ZONE_UNKNOWN', `"${zone}" is not an IANA time zone`, [
    { path: '/time_zone', message: 'must be an IANA time zone name such as "Europe/Paris" or "UTC"' },
  ]);
}

export async function listAdvertisers(
  deps: CatalogDeps,
  actor: Actor,
  filter: { status?: AdvertiserStatus },
  page: PageRequest,
): Promise<Page<Advertiser>> {
  if (isAdmin(actor)) return listRows(deps.db, filter, page);
  const own = advertiserScope(actor);
  if (own === undefined) throw forbidden('list advertisers');
  return listRows(deps.db, { ...filter, onlyId: own }, page);
}

export async function getAdvertiser(deps: CatalogDeps, actor: Actor, id: string): Promise<Advertiser> {
  const row = await findLive(deps.db, 'advertisers', id);
  assertAccess(row !== undefined && canSee(actor, id), true, 'advertiser', id, 'read');
  return row as Advertiser;
}

export async function createAdvertiser({ db, context }: CatalogCommand, input: NewAdvertiserInput): Promise<Advertiser> {
  if (!isAdmin(context.actor)) throw forbidden('create advertisers');
  return transact(db, async (tx) => {
    const row = await insertAdvertiser(tx, {
      name: input.name,
      contact_email: input.contact_email,
      ...(input.status ? { status: input.status } : {}),
      ...(input.time_zone !== undefined ? { time_zone: checkTimeZone(input.time_zone) } : {}),
      billing_info: null,
      created_by: context.actor.userId,
    });
    await appendEvents(tx, context, [
      { type: EventTypes.advertiserCreated, subject: row.id, data: { advertiser_id: row.id, name: row.name, status: row.status } },
    ]);
    return row;
  });
}

export async function updateAdvertiser(
  { db, context }: CatalogCommand,
  id: string,
  expectedVersion: ExpectedVersion,
  patch: AdvertiserPatch,
): Promise<Advertiser> {
  return transact(db, async (tx) => {
    const current = await findLive(tx, 'advertisers', id);
    assertAccess(current !== undefined && canSee(context.actor, id), isAdmin(context.actor), 'advertiser', id, 'change');
    const version = matchVersion('advertiser', id, current!.version, expectedVersion);
    assertSomethingToChange(patch);
    const changes = patch.time_zone !== undefined ? { ...patch, time_zone: checkTimeZone(patch.time_zone) } : patch;
    const row = await updateVersioned(tx, 'advertisers', id, version, sentFields(changes));
    await appendEvents(tx, context, [
      {
        type: EventTypes.advertiserUpdated,
        subject: id,
        data: { advertiser_id: id, changes: sentFields(changes), previous_version: version, new_version: row.version },
      },
    ]);
    return row;
  });
}

export async function deleteAdvertiser({ db, context }: CatalogCommand, id: string, expectedVersion: ExpectedVersion): Promise<void> {
  await transact(db, async (tx) => {
    const current = await findLive(tx, 'advertisers', id);
    assertAccess(current !== undefined && canSee(context.actor, id), isAdmin(context.actor), 'advertiser', id, 'delete');
    const version = matchVersion('advertiser', id, current!.version, expectedVersion);
    const row = await softDeleteVersioned(tx, 'advertisers', id, version);
    await appendEvents(tx, context, [{ type: EventTypes.advertiserDeleted, subject: id, data: { advertiser_id: id, version: row.version } }]);
  });
}
