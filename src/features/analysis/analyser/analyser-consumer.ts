/**
 * The analyser: `video.analysis_requested` → `video.analysis_completed`. The work runs
 * in `prepare`, outside the delivery's transaction (so no transaction stays open for
 * minutes, and on the embedded database nothing else waits), its tools as child
 * processes (the event loop and the lease heartbeat keep running); `handle` then
 * commits the outcome with the inbox record. A worker runs `ANALYSIS_CONCURRENCY`
 * analyses at once. A worker that dies mid-analysis loses its lease; the delivery comes
 * again and starts over (its temporary files are swept by the next start). When the
 * event is dead-lettered all the same (a worker that keeps dying, a commit that keeps
 * failing, an unreadable event), `onDeadLetter` ends the video `failed` with a reason
 * a person understands, so that it never stays `processing`.
 */
import type { Consumer } from '../../../platform/consumers/consumer.js';
import { AnalysisEventTypes } from '../analysis-events.js';
import { finishAnalysis, upsertTranscript } from '../analysis-repository.js';
import { deadLettered } from '../analysis-rules.js';
import { analyserConfig, analyserDeps } from './analyser-deps.js';
import { analyseVideo, type AnalysisOutcome } from './analyse-video.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Requested {
  video_id: string;
  url: string;
}

export const videoAnalyser: Consumer = {
  name: 'video-analyser',
  types: [AnalysisEventTypes.videoAnalysisRequested],
  maxAttempts: 3,
  get concurrency() {
    return analyserConfig().analysis.concurrency;
  },
  /** Renewed by the heartbeat while the analysis runs: the download and three tool runs, each bounded. */
  get leaseMs() {
    return 4 * analyserConfig().analysis.timeoutMs + 60_000;
  },
  async prepare(event, { db, logger, attempt, maxAttempts }) {
    const data = event.data as Requested;
    return analyseVideo({ db, deps: await analyserDeps(), videoId: data.video_id, url: data.url, attempt, maxAttempts, logger });
  },
  async handle(event, tx, { emit, prepared, logger }) {
    const videoId = (event.data as Requested).video_id;
    const outcome = prepared as AnalysisOutcome;
    if (outcome.kind === 'skipped') {
      logger.info({ video_id: videoId, why: outcome.why }, 'analysis skipped');
      return;
    }
    if (outcome.kind === 'failed') {
      if (await finishAnalysis(tx, videoId, { status: 'failed', reason: outcome.reason })) {
        await emit([{ type: AnalysisEventTypes.videoAnalysisCompleted, subject: videoId, data: { video_id: videoId, status: 'failed', failure_reason: outcome.reason } }]);
      }
      logger.warn({ video_id: videoId, reason: outcome.reason }, 'analysis failed');
      return;
    }
    if (!(await finishAnalysis(tx, videoId, { status: 'completed', duration: outcome.duration, mediaPath: outcome.mediaPath }))) return;
    await upsertTranscript(tx, { videoId, language: outcome.language, content: outcome.text, segments: outcome.segments, jsonPath: outcome.jsonPath, vttPath: outcome.vttPath });
    await emit([{ type: AnalysisEventTypes.videoAnalysisCompleted, subject: videoId, data: { video_id: videoId, status: 'completed', duration: outcome.duration } }]);
  },
  async onDeadLetter(event, { tx, cause, attempts, error, emit, logger }) {
    const data: unknown = event.data;
    const videoId = typeof data === 'object' && data !== null ? (data as { video_id?: unknown }).video_id : undefined;
    if (typeof videoId !== 'string' || !UUID.test(videoId)) {
      logger.error({ cause }, 'dead-lettered analysis names no video: nothing to end');
      return;
    }
    const reason = deadLettered(cause, attempts, error);
    if (await finishAnalysis(tx, videoId, { status: 'failed', reason })) {
      await emit([{ type: AnalysisEventTypes.videoAnalysisCompleted, subject: videoId, data: { video_id: videoId, status: 'failed', failure_reason: reason } }]);
      logger.warn({ video_id: videoId, cause, reason }, 'dead-lettered analysis ended as failed');
    }
  },
};
