/**
 * Placement files: which videos a change touches, writing a video's file (JSON +
 * WebVTT, versioned keys) when what it may show changed, removing a deleted video's
 * file, and reading a file to serve it.
 *
 * Why the newest state always wins, with any number of workers. A change's event is
 * handled after the change committed. The handler first counts a request in the
 * video's `placement_file_requests` row, which locks that row until it commits: one
 * writer per video at a time. Only then does it read the catalog, so it sees every
 * change committed so far, its own included. A handler waiting for the lock reads
 * after the holder committed. So every change is in a file written after it, and
 * versions (taken under the lock) only grow.
 *
 * Coalescing: a file is written only when its content (what the video shows) differs
 * from the current one. The events of a burst queue behind the lock and, once the
 * burst is committed, each finds the content it would write already written: a burst
 * of edits writes few files. `generated_seq` records the last request a file reflects.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { CloudEvent } from '../../platform/events/cloud-event.js';
import { appendEvents, type NewEvent } from '../../platform/events/event-log.js';
import type { Executor } from '../../platform/db/schema.js';
import type { ObjectStorage } from '../../platform/storage/object-storage.js';
import { EventTypes } from '../catalog/index.js';
import { PlacementFileEventTypes } from './placement-file-events.js';
import type { ServedFile } from './placement-file-model.js';
import {
  bumpRequest, claimExpired, deleteFile, findFile, loadFileSnapshot, markGenerated, saveFile, setExpiry, setFileUrl, videosOfAdvertiser,
  videosOfCampaign, videosOfProduct,
} from './placement-file-repository.js';
import { fileExpiry, filePlacements, placementFileDocument, placementFileVtt } from './placement-file-rules.js';

type Emit = (events: readonly NewEvent[]) => Promise<unknown>;

/** Every catalog change that can alter what a video's file shows. */
export const CHANGE_TYPES = [
  EventTypes.placementCreated, EventTypes.placementUpdated, EventTypes.placementDeleted,
  EventTypes.videoUpdated, EventTypes.videoDeleted,
  EventTypes.productUpdated, EventTypes.productDeleted,
  EventTypes.advertiserUpdated, EventTypes.advertiserDeleted,
  EventTypes.campaignCreated, EventTypes.campaignUpdated, EventTypes.campaignDeleted, EventTypes.campaignBudgetExhausted,
] as const;

export const fileUrlOf = (videoId: string): string => `/v1/videos/${videoId}/placement-file`;
export const storagePrefixOf = (videoId: string): string => `placement-files/${videoId}/`;

/** The videos whose file a change may alter. */
export async function affectedVideos(tx: Executor, event: CloudEvent): Promise<string[]> {
  const data = event.data as Record<string, string>;
  switch (event.type) {
    case EventTypes.placementCreated:
    case EventTypes.placementUpdated:
    case EventTypes.placementDeleted:
    case EventTypes.videoUpdated:
    case EventTypes.videoDeleted:
      return [data.video_id!];
    case EventTypes.productUpdated:
    case EventTypes.productDeleted:
      return videosOfProduct(tx, data.product_id!);
    case EventTypes.advertiserUpdated:
    case EventTypes.advertiserDeleted:
      return videosOfAdvertiser(tx, data.advertiser_id!);
    default:
      return videosOfCampaign(tx, data.campaign_id!);
  }
}

/** Videos a change touches: one is handled at once; several (a product's, a campaign's) are fanned out as one request event each. */
export async function fanOut(videoIds: readonly string[], emit: Emit): Promise<void> {
  const asked = [...new Set(videoIds)].sort().map((videoId) => ({ type: PlacementFileEventTypes.placementFileRequested, subject: videoId, data: { video_id: videoId } }));
  if (asked.length > 0) await emit(asked);
}

const sha = (body: string): string => createHash('sha256').update(body).digest('base64url').slice(0, 27);

export type GenerateOutcome = 'written' | 'unchanged' | 'removed';

/** Writes the video's file if what it may show changed since the last one (see the top of this file). */
export async function generateFile(tx: Executor, storage: ObjectStorage, videoId: string, emit: Emit, now: Date = new Date()): Promise<GenerateOutcome> {
  const counters = await bumpRequest(tx, videoId);
  const snapshot = await loadFileSnapshot(tx, videoId, now.toISOString().slice(0, 10));
  const current = await findFile(tx, videoId);
  if (!snapshot) {
    await storage.deletePrefix(storagePrefixOf(videoId));
    await markGenerated(tx, videoId, counters.requested);
    if (await deleteFile(tx, videoId)) {
      await emit([{ type: PlacementFileEventTypes.placementFileRemoved, subject: videoId, data: { video_id: videoId } }]);
      return 'removed';
    }
    return 'unchanged';
  }
  const placements = filePlacements(snapshot);
  const expiresAt = fileExpiry(snapshot) ?? null;
  const contentHash = sha(JSON.stringify({ duration: snapshot.duration, placements }));
  if (current?.content_hash === contentHash) {
    if ((current.expires_at?.toISOString() ?? null) !== expiresAt) await setExpiry(tx, videoId, expiresAt);
    await markGenerated(tx, videoId, counters.requested);
    return 'unchanged';
  }
  const version = (current?.version ?? 0) + 1;
  const document = placementFileDocument(snapshot, placements, version, now);
  const json = JSON.stringify(document);
  const vtt = placementFileVtt(document);
  const base = `${storagePrefixOf(videoId)}v${String(version).padStart(8, '0')}`;
  const [jsonKey, vttKey] = [`${base}.json`, `${base}.vtt`];
  // The keys are new (versions only grow under the lock): a reader of the old version is never disturbed.
  await storage.put(jsonKey, json, { contentType: 'application/json; charset=utf-8' });
  await storage.put(vttKey, vtt, { contentType: 'text/vtt; charset=utf-8' });
  const [jsonEtag, vttEtag] = [`"${sha(json)}"`, `"${sha(vtt)}"`];
  const fileUrl = fileUrlOf(videoId);
  await saveFile(tx, {
    video_id: videoId, version, content_hash: contentHash, json_key: jsonKey, vtt_key: vttKey, json_etag: jsonEtag, vtt_etag: vttEtag,
    file_url: fileUrl, placements_count: placements.length, expires_at: expiresAt === null ? null : new Date(expiresAt),
  });
  await setFileUrl(tx, videoId, fileUrl);
  await markGenerated(tx, videoId, counters.requested);
  await emit([
    {
      type: PlacementFileEventTypes.placementFileGenerated,
      subject: videoId,
      data: { video_id: videoId, file_url: fileUrl, etag: jsonEtag, placements_count: placements.length, version },
    },
  ]);
  // The previous version stays a moment for readers that looked it up just before; older ones go.
  if (current && current.version > 1) {
    const old = `${storagePrefixOf(videoId)}v${String(current.version - 1).padStart(8, '0')}`;
    await Promise.all([storage.delete(`${old}.json`), storage.delete(`${old}.vtt`)]);
  }
  return 'written';
}

const readBody = async (body: Readable): Promise<Buffer> => Buffer.from(await text(body), 'utf8');

/** The current file of the video, both forms, read from storage; undefined until one exists (and after the video is deleted). */
export async function readServedFile(db: Executor, storage: ObjectStorage, videoId: string): Promise<ServedFile | undefined> {
  for (let attempt = 1; ; attempt++) {
    const row = await findFile(db, videoId);
    if (!row) return undefined;
    const [json, vtt] = await Promise.all([storage.get(row.json_key), storage.get(row.vtt_key)]);
    if (json && vtt) {
      return {
        videoId, version: row.version, json: await readBody(json.body), vtt: await readBody(vtt.body), jsonEtag: row.json_etag, vttEtag: row.vtt_etag,
        expiresAt: row.expires_at ? row.expires_at.getTime() : Infinity,
      };
    }
    json?.body.destroy();
    vtt?.body.destroy();
    // Two newer files were written since the row was read (the older objects are gone): read the row again.
    if (attempt === 3) throw new Error(`the placement file of video ${videoId} is missing from storage (${row.json_key})`);
  }
}

/**
 * A served file whose campaign dates passed: the first reader to notice asks for a new
 * one (in the same transaction as clearing the expiry, so only once); the others, and
 * this reader, are served the current file until it is written.
 */
export async function requestExpired(db: Executor, videoId: string, correlationId: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    if (!(await claimExpired(tx, videoId))) return false;
    await appendEvents(tx, { actor: { userId: 'system:placement-files', roles: [] }, correlationId }, [
      { type: PlacementFileEventTypes.placementFileRequested, subject: videoId, data: { video_id: videoId } },
    ]);
    return true;
  });
}
