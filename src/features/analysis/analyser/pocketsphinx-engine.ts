/**
 * pocketsphinx (Debian's `pocketsphinx_continuous` with the `pocketsphinx-en-us` model),
 * the default engine. Long audio is split at silences into parts transcribed side by
 * side (`parallel` child processes at once, each with the analysis's time and memory
 * limits); each part's word times are shifted by where the part starts.
 *
 * Each decoder costs about 90 MB and one part per core at most is made (a part costs
 * a model load, ~0.35 s of CPU, so more parts than cores only add loads). Two settings
 * keep a decoder smaller and faster than pocketsphinx's defaults: the dictionary cut
 * to the language model's words (pocketsphinx-dictionary.ts, ~14 MB less each, the
 * same words recognised) and a bound on the active HMMs and word exits per frame
 * (`-maxhmmpf 5000 -maxwpf 20`, against 30000 and none): ~20% less CPU, the same word
 * error rate on pocketsphinx-testdata's LibriVox recordings (tighter bounds, 3000 and
 * 10, cost a third more errors there).
 */
import path from 'node:path';
import { runTool } from '../../../platform/child-process/run-tool.js';
import type { Segment } from '../transcript-model.js';
import { parsePocketsphinx } from '../transcript-rules.js';
import { cutAudio, findSilences, ToolFailedError, type ToolLimits } from './media-tools.js';
import { dictionaryFor } from './pocketsphinx-dictionary.js';
import type { TranscriptionEngine } from './transcriber.js';

/** Search bounds per frame (see above). */
export const SEARCH_BOUNDS = ['-maxhmmpf', '5000', '-maxwpf', '20'] as const;

export interface PocketsphinxOptions {
  modelDir: string;
  /** Where the cut dictionary is kept (the analysis temp directory). */
  tempDir: string;
  /** Parts transcribed at once. */
  parallel: number;
  /** Audio shorter than this is transcribed in one run (a run costs a model load, ~0.35 s of CPU). */
  minPartSeconds?: number;
}

async function runPocketsphinx(wav: string, model: { dir: string; dictionary: string }, limits: ToolLimits, offset: number): Promise<Segment[]> {
  const run = await runTool({
    command: 'pocketsphinx_continuous',
    args: [
      '-infile', wav, '-time', 'yes', '-logfn', '/dev/null',
      '-hmm', path.join(model.dir, 'en-us'), '-lm', path.join(model.dir, 'en-us.lm.bin'), '-dict', model.dictionary,
      ...SEARCH_BOUNDS,
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
      const lm = path.join(options.modelDir, 'en-us.lm.bin');
      const { file: dictionary } = await dictionaryFor(lm, path.join(options.modelDir, 'cmudict-en-us.dict'), options.tempDir, input.limits);
      const model = { dir: options.modelDir, dictionary };
      const duration = input.info.duration;
      // At most one part per core: each part costs a decoder and a model load, so more parts than cores only add loads.
      const parts = Math.max(1, Math.min(options.parallel, Math.floor(duration / minPart)));
      const cuts = parts > 1 ? cutPoints(duration, await findSilences(wav, 0.3, input.limits), parts, minPart) : [];
      if (cuts.length === 0) return { language: 'en', segments: await runPocketsphinx(wav, model, input.limits, 0) };
      const bounds = [0, ...cuts, duration].slice(0, -1).map((from, i, all) => ({ from, to: [...cuts, duration][i]!, index: i, count: all.length }));
      const results = await inParallel(bounds, options.parallel, async ({ from, to, index }) => {
        const part = path.join(input.workDir, `part-${index}.wav`);
        await cutAudio(wav, part, from, to, input.limits);
        return runPocketsphinx(part, model, input.limits, from);
      });
      return { language: 'en', segments: results.flat() };
    },
  };
}
