/**
 * Analysis use cases: a creator (or an admin) asks for a URL to be analysed, which makes
 * a video it owns in `queued` and asks the analyser for the work; asking again for the
 * same URL while that analysis runs answers the same video. The transcript is read by
 * whoever may see the video.
 */
import { DomainError } from '../../platform/errors.js';
import { appendEvents } from '../../platform/events/event-log.js';
import type { Actor } from '../../platform/events/command-context.js';
import { EventTypes, forbidden, getVideo, isAdmin, isCreator, transact, upsertUser, type CatalogCommand, type CatalogDeps, type Video } from '../catalog/index.js';
import { AnalysisEventTypes } from './analysis-events.js';
import { findRunningAnalysis, findTranscript, insertQueuedVideo } from './analysis-repository.js';
import { urlProblem } from './analysis-rules.js';
import type { Segment, Transcript } from './transcript-model.js';
import { transcriptText } from './transcript-rules.js';

/** A title until someone gives a better one: the last part of the URL's path, or its host. */
function titleOf(url: URL): string {
  const last = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '').trim();
  return (last || url.hostname).slice(0, 255);
}

export async function requestAnalysis({ db, context }: CatalogCommand, input: { url: string }): Promise<{ video: Video; created: boolean }> {
  const { actor } = context;
  if (!isAdmin(actor) && !isCreator(actor)) throw forbidden('analyse videos');
  const problem = urlProblem(input.url);
  if (problem) throw new DomainError('invalid', 'ANALYSIS.INVALID_URL', `the URL ${problem}`, [{ path: '/url', message: problem }]);
  const url = new URL(input.url).href;
  const id = await transact(db, async (tx) => {
    const running = await findRunningAnalysis(tx, actor.userId, url);
    if (running) return { id: running.id, created: false };
    await upsertUser(tx, actor.userId);
    const row = await insertQueuedVideo(tx, { ownerId: actor.userId, url, title: titleOf(new URL(url)) });
    if (!row) {
      // A concurrent request of the same caller won the unique index: its video is the answer.
      const winner = await findRunningAnalysis(tx, actor.userId, url);
      if (!winner) throw new DomainError('conflict', 'CONCURRENT_UPDATE', 'a concurrent change won; retry the request');
      return { id: winner.id, created: false };
    }
    await appendEvents(tx, context, [
      { type: EventTypes.videoCreated, subject: row.id, data: { video_id: row.id, owner_id: actor.userId, title: titleOf(new URL(url)) } },
      { type: AnalysisEventTypes.videoAnalysisRequested, subject: row.id, data: { video_id: row.id, url, requested_by: actor.userId } },
    ]);
    return { id: row.id, created: true };
  });
  return { video: await getVideo({ db }, actor, id.id), created: id.created };
}

export async function getTranscript(deps: CatalogDeps, actor: Actor, videoId: string): Promise<Transcript> {
  const video = await getVideo(deps, actor, videoId);
  const row = await findTranscript(deps.db, videoId);
  if (!row) {
    const state = video.analysis_status === null ? 'it was never analysed' : `its analysis is ${video.analysis_status}`;
    throw new DomainError('not_found', 'TRANSCRIPT.NOT_FOUND', `video ${videoId} has no transcript: ${state}`);
  }
  const segments = row.segments as Segment[];
  return { video_id: row.video_id, language: row.language, text: row.content || transcriptText(segments), segments, created_at: row.created_at };
}
