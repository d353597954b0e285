/**
 * pocketsphinx (Debian's `pocketsphinx_continuous` with the `pocketsphinx-en-us` model),
 * the default engine. Long audio is split at silences into parts transcribed side by
 * side (`parallel` child processes at once, each with the analysis's time and memory
 * limits); each part's word times are shifted by where the part starts.
 */
import path from 'node:path';
import { runTool } from '../../../platform/child-process/run-tool.js';
import type { Segment } from '../transcript-model.js';
import { parsePocketsphinx } from '../transcript-rules.js';
import { cutAudio, findSilences, ToolFailedError, type ToolLimits } from './media-tools.js';
import type { TranscriptionEngine } from './transcriber.js';

export interface PocketsphinxOptions {
  modelDir: string;
  /** Parts transcribed at once. */
  parallel: number;
  /** Audio shorter than this is transcribed in one run (a run costs a model load, ~1 s). */
  minPartSeconds?: number;
}

async function runPocketsphinx(wav: string, modelDir: string, limits: ToolLimits, offset: number): Promise<Segment[]> {
  const run = await runTool({
    command: 'pocketsphinx_continuous',
    args: [
      '-infile', wav, '-time', 'yes', '-logfn', '/dev/null',
      '-hmm', path.join(modelDir, 'en-us'), '-lm', path.join(modelDir, 'en-us.lm.bin'), '-dict', path.join(modelDir, 'cmudict-en-us.dict'),
    ],
    timeoutMs: limits.timeoutMs, maxOutputBytes: 64 * 1024 * 1024, memoryLimitBytes: limits.memoryLimitBytes,
  });
  if (run.exitCode !== 0) throw new ToolFailedError('pocketsphinx_continuous', run);
  return parsePocketsphinx(run.stdout.toString('utf8'), offset);
}

/**
 * Where to cut `duration` seconds into about `parts` parts: at the middle of the
 * silence nearest each even cut, never making a part shorter than `minPart`.
 */
export function cutPoints(duration: number, silences: readonly [number, number][], parts: number, minPart: number): number[] {
  const cuts: number[] = [];
  const middles = silences.map(([s, e]) => (s + e) / 2).filter((m) => m > 0 && m < duration);
  for (let i = 1; i < parts; i++) {
    const target = (duration * i) / parts;
    const best = middles.reduce<number | undefined>((b, m) => (b === undefined || Math.abs(m - target) < Math.abs(b - target) ? m : b), undefined);
    const previous = cuts[cuts.length - 1] ?? 0;
    if (best !== undefined && best - previous >= minPart && duration - best >= minPart && !cuts.includes(best)) cuts.push(best);
  }
  return cuts;
}

async function inParallel<T, R>(items: readonly T[], parallel: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!);
      }
    }),
  );
  return results;
}

export function pocketsphinxEngine(options: PocketsphinxOptions): TranscriptionEngine {
  const minPart = options.minPartSeconds ?? 12;
  return {
    name: 'pocketsphinx',
    accepts: (input) => input.info.hasAudio,
    async transcribe(input) {
      const wav = await input.audio();
      const duration = input.info.duration;
      // One part per core: each part costs a model load (~1 s), so more parts than cores only add loads.
      const parts = Math.max(1, Math.min(options.parallel, Math.floor(duration / minPart)));
      const cuts = parts > 1 ? cutPoints(duration, await findSilences(wav, 0.3, input.limits), parts, minPart) : [];
      if (cuts.length === 0) return { language: 'en', segments: await runPocketsphinx(wav, options.modelDir, input.limits, 0) };
      const bounds = [0, ...cuts, duration].slice(0, -1).map((from, i, all) => ({ from, to: [...cuts, duration][i]!, index: i, count: all.length }));
      const results = await inParallel(bounds, options.parallel, async ({ from, to, index }) => {
        const part = path.join(input.workDir, `part-${index}.wav`);
        await cutAudio(wav, part, from, to, input.limits);
        return runPocketsphinx(part, options.modelDir, input.limits, from);
      });
      return { language: 'en', segments: results.flat() };
    },
  };
}
