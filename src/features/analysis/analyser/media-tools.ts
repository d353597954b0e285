/**
 * ffprobe and ffmpeg, each run as a child process with the analysis's time and memory
 * limits (platform/child-process/run-tool.ts): what a file holds, its audio as 16 kHz
 * mono WAV (what the transcribers read), its first subtitle track as WebVTT, and where
 * its silences are.
 */
import { runTool, type ToolRun } from '../../../platform/child-process/run-tool.js';
import { failures } from '../analysis-rules.js';

export interface ToolLimits {
  timeoutMs: number;
  memoryLimitBytes: number;
}

export interface MediaInfo {
  /** Seconds. */
  duration: number;
  hasAudio: boolean;
  hasSubtitles: boolean;
}

const lastLines = (run: ToolRun, n = 3): string => run.stderr.toString('utf8').trim().split('\n').slice(-n).join(' | ');

export class ToolFailedError extends Error {
  constructor(tool: string, run: ToolRun) {
    super(`${tool} failed (exit ${run.exitCode ?? run.signal}): ${lastLines(run)}`);
    this.name = 'ToolFailedError';
  }
}

export async function probe(file: string, limits: ToolLimits): Promise<MediaInfo> {
  const run = await runTool({
    command: 'ffprobe',
    args: ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
    timeoutMs: limits.timeoutMs, maxOutputBytes: 4 * 1024 * 1024, memoryLimitBytes: limits.memoryLimitBytes,
  });
  if (run.exitCode !== 0) throw failures.notMedia(lastLines(run, 1) || `ffprobe exit ${run.exitCode}`);
  const info = JSON.parse(run.stdout.toString('utf8')) as { format?: { duration?: string; format_name?: string }; streams?: { codec_type?: string; duration?: string }[] };
  const streams = info.streams ?? [];
  const media = streams.filter((s) => s.codec_type === 'audio' || s.codec_type === 'video');
  if (media.length === 0) throw failures.notMedia(`no audio or video stream in ${info.format?.format_name ?? 'the file'}`);
  const duration = Number(info.format?.duration ?? streams.find((s) => s.duration)?.duration);
  if (!Number.isFinite(duration) || duration <= 0) throw failures.unknownDuration();
  return { duration: Math.round(duration * 1000) / 1000, hasAudio: streams.some((s) => s.codec_type === 'audio'), hasSubtitles: streams.some((s) => s.codec_type === 'subtitle') };
}

async function ffmpeg(args: string[], limits: ToolLimits): Promise<ToolRun> {
  const run = await runTool({
    command: 'ffmpeg', args: ['-nostdin', '-nostats', '-hide_banner', '-y', ...args],
    timeoutMs: limits.timeoutMs, maxOutputBytes: 4 * 1024 * 1024, memoryLimitBytes: limits.memoryLimitBytes,
  });
  if (run.exitCode !== 0) throw new ToolFailedError('ffmpeg', run);
  return run;
}

/** The first audio stream as 16 kHz mono 16-bit WAV. */
export async function extractAudio(input: string, output: string, limits: ToolLimits): Promise<void> {
  await ffmpeg(['-v', 'error', '-i', input, '-map', '0:a:0', '-vn', '-ac', '1', '-ar', '16000', '-c:a', 'pcm_s16le', output], limits);
}

/** The first subtitle track as WebVTT text. */
export async function extractSubtitles(input: string, output: string, limits: ToolLimits): Promise<void> {
  await ffmpeg(['-v', 'error', '-i', input, '-map', '0:s:0', '-c:s', 'webvtt', output], limits);
}

/** A part of a WAV file, `from` to `to` seconds, as its own WAV file. */
export async function cutAudio(input: string, output: string, from: number, to: number, limits: ToolLimits): Promise<void> {
  await ffmpeg(['-v', 'error', '-i', input, '-ss', from.toFixed(3), '-to', to.toFixed(3), '-c:a', 'pcm_s16le', output], limits);
}

/** The silences of an audio file (quieter than -35 dB for at least `minSeconds`), as [start, end] pairs. */
export async function findSilences(input: string, minSeconds: number, limits: ToolLimits): Promise<[number, number][]> {
  const run = await ffmpeg(['-v', 'info', '-i', input, '-af', `silencedetect=noise=-35dB:d=${minSeconds}`, '-f', 'null', '-'], limits);
  const silences: [number, number][] = [];
  let start: number | undefined;
  for (const line of run.stderr.toString('utf8').split('\n')) {
    const s = /silence_start: (-?[\d.]+)/.exec(line);
    if (s) start = Math.max(0, Number(s[1]));
    const e = /silence_end: ([\d.]+)/.exec(line);
    if (e && start !== undefined) {
      silences.push([start, Number(e[1])]);
      start = undefined;
    }
  }
  return silences;
}
