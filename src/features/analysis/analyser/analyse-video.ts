/**
 * One analysis, start to end, outside any transaction: download, probe, transcribe
 * (the first engine that accepts the media), then store the media and the transcript
 * (JSON and WebVTT) in object storage. Progress is written as each stage finishes.
 * Answers what the consumer commits: completed with the duration and transcript, or
 * failed with the reason. Permanent failures are answered at once; transient ones are
 * thrown (the consumer runtime retries them) until the last attempt.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../../platform/db/schema.js';
import { ToolLimitError } from '../../../platform/child-process/tool-errors.js';
import { failures, gaveUp, PermanentFailure, PROGRESS } from '../analysis-rules.js';
import { findAnalysisVideo, setProgress } from '../analysis-repository.js';
import type { Segment } from '../transcript-model.js';
import { toWebVtt, transcriptText } from '../transcript-rules.js';
import { keys, type AnalyserDeps } from './analyser-deps.js';
import { downloadMedia } from './download.js';
import { extractAudio, probe, type ToolLimits } from './media-tools.js';
import { pocketsphinxEngine } from './pocketsphinx-engine.js';
import { sherpaEngine } from './sherpa-engine.js';
import { subtitleEngine } from './subtitle-engine.js';
import { chooseEngine, type TranscriptionEngine, type TranscriptionInput } from './transcriber.js';
import { withWorkspace } from './workspace.js';

export type AnalysisOutcome =
  | { kind: 'completed'; duration: number; mediaPath: string; engine: string; language: string; text: string; segments: Segment[]; jsonPath: string; vttPath: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'skipped'; why: string };

/** The engines in the order they are tried: the media's subtitles, sherpa-onnx only when a model directory is configured, pocketsphinx. */
export function enginesOf(deps: Pick<AnalyserDeps, 'settings' | 'modelDir'>): TranscriptionEngine[] {
  const better = deps.modelDir ? [sherpaEngine({ modelDir: deps.modelDir })] : [];
  return [subtitleEngine, ...better, pocketsphinxEngine({ modelDir: deps.settings.pocketsphinxModelDir, tempDir: deps.settings.tempDir, parallel: deps.settings.transcribeParallel })];
}

export interface AnalyseRequest {
  db: Kysely<Database>;
  deps: AnalyserDeps;
  videoId: string;
  url: string;
  attempt: number;
  maxAttempts: number;
  logger: Logger;
}

export async function analyseVideo(request: AnalyseRequest): Promise<AnalysisOutcome> {
  const { db, deps, videoId, url, logger } = request;
  const video = await findAnalysisVideo(db, videoId);
  if (!video || video.deleted_at !== null) return { kind: 'skipped', why: 'the video is gone' };
  if (video.analysis_status !== 'queued' && video.analysis_status !== 'processing') return { kind: 'skipped', why: `the analysis is ${video.analysis_status}` };
  const { settings, storage } = deps;
  const limits: ToolLimits = { timeoutMs: settings.timeoutMs, memoryLimitBytes: settings.memoryLimitBytes };
  try {
    return await withWorkspace(settings.tempDir, async (dir) => {
      const timings: Record<string, number> = {};
      let mark = performance.now();
      const lap = (stage: string) => {
        const now = performance.now();
        timings[`${stage}_ms`] = Math.round(now - mark);
        mark = now;
      };
      await setProgress(db, videoId, 5);
      const media = await downloadMedia(url, dir, {
        fetch: deps.fetch, allowHosts: deps.fetchAllowHosts, httpsOnly: deps.httpsOnly, maxBytes: settings.maxDownloadBytes, timeoutMs: settings.timeoutMs, limits,
      });
      lap('download');
      await setProgress(db, videoId, PROGRESS.downloaded);
      const info = await probe(media.file, limits);
      lap('probe');
      if (!info.hasAudio && !info.hasSubtitles) throw failures.noAudio();
      if (info.duration > settings.maxDurationSeconds) throw failures.tooLong(info.duration, settings.maxDurationSeconds);
      await setProgress(db, videoId, PROGRESS.probed);
      let audio: Promise<string> | undefined;
      const input: TranscriptionInput = {
        media: media.file, info, workDir: dir, limits,
        audio: () =>
          (audio ??= (async () => {
            const wav = path.join(dir, 'audio-16k.wav');
            await extractAudio(media.file, wav, limits);
            await setProgress(db, videoId, PROGRESS.audio);
            return wav;
          })()),
      };
      const engine = chooseEngine(enginesOf(deps), input);
      if (!engine) throw failures.noAudio();
      const { language, segments } = await engine.transcribe(input);
      lap('transcribe');
      await setProgress(db, videoId, PROGRESS.transcribed);
      const text = transcriptText(segments);
      const mediaPath = keys.media(videoId, media.extension);
      const jsonPath = keys.transcriptJson(videoId);
      const vttPath = keys.transcriptVtt(videoId);
      await storage.put(mediaPath, createReadStream(media.file), { contentType: 'application/octet-stream' });
      await storage.put(jsonPath, JSON.stringify({ video_id: videoId, language, engine: engine.name, text, segments }), { contentType: 'application/json' });
      await storage.put(vttPath, toWebVtt(segments), { contentType: 'text/vtt' });
      lap('store');
      logger.info({ video_id: videoId, engine: engine.name, via: media.via, duration: info.duration, ...timings }, 'video analysed');
      return { kind: 'completed', duration: info.duration, mediaPath, engine: engine.name, language, text, segments, jsonPath, vttPath };
    });
  } catch (error) {
    if (error instanceof PermanentFailure) return { kind: 'failed', reason: error.reason };
    if (error instanceof ToolLimitError) {
      const what = error.limit === 'time' ? `ran past the time limit of ${settings.timeoutMs} ms` : error.limit === 'memory' ? 'ran out of its memory limit' : 'wrote more output than allowed';
      return { kind: 'failed', reason: `${path.basename(error.command)} ${what} (ANALYSIS_TIMEOUT_MS, ANALYSIS_MEMORY_LIMIT_MB)` };
    }
    const message = error instanceof Error ? error.message : String(error);
    if (request.attempt >= request.maxAttempts) return { kind: 'failed', reason: gaveUp(request.attempt, message) };
    throw error;
  }
}
