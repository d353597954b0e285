/**
 * Video use cases. A creator manages the videos it owns (owner = its `sub`);
 * admins do everything. Registering a video records its owner as a user.
 */
import { mayManageVideo } from '../shared/tenancy-rules.js';
import { EventTypes } from '../catalog-events.js';
import { appendEvents } from '../../../platform/events/event-log.js';
import type { Page, PageRequest } from '../../../platform/db/keyset-page.js';
import { upsertUser } from './user-repository.js';
import { findLive, softDeleteVersioned, updateVersioned } from '../shared/versioned-rows.js';
import { insertVideo, listVideos as listRows } from './video-repository.js';
import type { Actor } from '../../../platform/events/command-context.js';
import { assertAccess, forbidden, isAdmin, isCreator, type CatalogCommand, type CatalogDeps } from '../shared/access.js';
import { assertSomethingToChange, matchVersion, sentFields, transact, type ExpectedVersion } from '../shared/transact.js';

export type { VideoStatus } from './video-model.js';
import type { Video, VideoStatus } from './video-model.js';

export interface NewVideoInput {
  title: string;
  duration: number;
  source_url?: string | null;
  status?: VideoStatus;
  metadata?: Record<string, unknown>;
}
export type VideoPatch = Partial<NewVideoInput>;

export const canSeeVideo = (actor: Actor, row: Pick<Video, 'owner_id'>): boolean => mayManageVideo(actor, row.owner_id);

export async function listVideos(deps: CatalogDeps, actor: Actor, filter: { status?: VideoStatus }, page: PageRequest): Promise<Page<Video>> {
  if (isAdmin(actor)) return listRows(deps.db, filter, page);
  if (!isCreator(actor)) throw forbidden('list videos');
  return listRows(deps.db, { ...filter, ownerId: actor.userId }, page);
}

/** The video if the actor may see it; NOT_FOUND otherwise. */
export async function getVideo(deps: CatalogDeps, actor: Actor, id: string): Promise<Video> {
  const row = await findLive(deps.db, 'videos', id);
  assertAccess(row !== undefined && canSeeVideo(actor, row), true, 'video', id, 'read');
  return row as Video;
}

export async function createVideo({ db, context }: CatalogCommand, input: NewVideoInput): Promise<Video> {
  const { actor } = context;
  if (!isAdmin(actor) && !isCreator(actor)) throw forbidden('create videos');
  return transact(db, async (tx) => {
    await upsertUser(tx, actor.userId);
    const row = await insertVideo(tx, {
      owner_id: actor.userId,
      title: input.title,
      duration: input.duration,
      source_url: input.source_url ?? null,
      ...(input.status ? { status: input.status } : {}),
      metadata: JSON.stringify(input.metadata ?? {}),
      analysis_status: null,
      failure_reason: null,
      media_path: null,
      created_by: actor.userId,
    });
    await appendEvents(tx, context, [
      { type: EventTypes.videoCreated, subject: row.id, data: { video_id: row.id, owner_id: row.owner_id, title: row.title } },
    ]);
    return row;
  });
}

export async function updateVideo({ db, context }: CatalogCommand, id: string, expectedVersion: ExpectedVersion, patch: VideoPatch): Promise<Video> {
  return transact(db, async (tx) => {
    const current = await findLive(tx, 'videos', id);
    assertAccess(current !== undefined && canSeeVideo(context.actor, current), true, 'video', id, 'change');
    const version = matchVersion('video', id, current!.version, expectedVersion);
    assertSomethingToChange(patch);
    const row = await updateVersioned(tx, 'videos', id, version, sentFields(patch));
    await appendEvents(tx, context, [
      {
        type: EventTypes.videoUpdated,
        subject: id,
        data: { video_id: id, changes: sentFields(patch), previous_version: version, new_version: row.version },
      },
    ]);
    return row;
  });
}

/** Its placements are hidden with it: the placement cache forgets them once the transaction is over (other processes by notification). */
export async function deleteVideo(command: CatalogCommand, id: string, expectedVersion: ExpectedVersion): Promise<void> {
  try {
    await removeVideo(command, id, expectedVersion);
  } finally {
    command.placementCache?.clear();
  }
}

async function removeVideo({ db, context }: CatalogCommand, id: string, expectedVersion: ExpectedVersion): Promise<void> {
  await transact(db, async (tx) => {
    const current = await findLive(tx, 'videos', id);
    assertAccess(current !== undefined && canSeeVideo(context.actor, current), true, 'video', id, 'delete');
    const version = matchVersion('video', id, current!.version, expectedVersion);
    const row = await softDeleteVersioned(tx, 'videos', id, version);
    await appendEvents(tx, context, [{ type: EventTypes.videoDeleted, subject: id, data: { video_id: id, version: row.version } }]);
  });
}
