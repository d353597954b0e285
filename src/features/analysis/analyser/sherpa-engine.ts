/**
 * A better engine than pocketsphinx, used only when `ANALYSIS_MODEL_DIR` names a
 * directory: sherpa-onnx (the `sherpa-onnx-node` package from npm, its native library
 * inside the package) with the offline model found there, a transducer (zipformer:
 * `encoder*.onnx`, `decoder*.onnx`, `joiner*.onnx`) or Whisper (`*encoder*.onnx`,
 * `*decoder*.onnx`), each with its `tokens.txt`; `.int8.onnx` files are preferred. No
 * weights are shipped or downloaded: whoever configures the directory puts a model in
 * it. A directory without a model, or a package that is not installed, fails the
 * analysis with a reason that says so (the configuration must be fixed; retrying would
 * not help).
 *
 * The recogniser runs in one child process per analysis (`runTool`, the analysis's time
 * and memory limits), which loads the model once and is fed every part of the audio
 * (parts of at most `MAX_PART_SECONDS`, cut at silences, as Whisper reads 30 s at most);
 * it prints one JSON line per part. Word times come from the model's token times when
 * it gives them (transducers), otherwise they are spread over the part.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from '../../../platform/child-process/run-tool.js';
import { ToolLimitError } from '../../../platform/child-process/tool-errors.js';
import { PermanentFailure } from '../analysis-rules.js';
import type { Segment, TimedWord } from '../transcript-model.js';
import { segmentsOf } from '../transcript-rules.js';
import { cutAudio, findSilences, ToolFailedError } from './media-tools.js';
import { cutPoints } from './pocketsphinx-engine.js';
import type { TranscriptionEngine } from './transcriber.js';

export const MAX_PART_SECONDS = 25;

export type SherpaModel =
  | { kind: 'transducer'; encoder: string; decoder: string; joiner: string; tokens: string }
  | { kind: 'whisper'; encoder: string; decoder: string; tokens: string };

/** The model among the file names of a directory, or why there is none (pure). */
export function modelOfFiles(dir: string, files: readonly string[]): SherpaModel | { problem: string } {
  const onnx = files.filter((f) => f.endsWith('.onnx')).sort((a, b) => Number(b.endsWith('.int8.onnx')) - Number(a.endsWith('.int8.onnx')) || a.localeCompare(b));
  const find = (part: string) => onnx.find((f) => f.includes(part));
  const tokens = files.find((f) => f === 'tokens.txt') ?? files.find((f) => f.endsWith('tokens.txt'));
  const [encoder, decoder, joiner] = [find('encoder'), find('decoder'), find('joiner')];
  const at = (f: string) => path.join(dir, f);
  const expected = 'expected tokens.txt with encoder*.onnx, decoder*.onnx and joiner*.onnx (a transducer) or *encoder*.onnx and *decoder*.onnx (Whisper)';
  if (!encoder || !decoder || !tokens) {
    const found = files.length === 0 ? 'it is empty' : `it holds ${files.slice(0, 8).join(', ')}${files.length > 8 ? ', …' : ''}`;
    return { problem: `ANALYSIS_MODEL_DIR ${dir} has no speech model (${expected}; ${found})` };
  }
  if (joiner) return { kind: 'transducer', encoder: at(encoder), decoder: at(decoder), joiner: at(joiner), tokens: at(tokens) };
  return { kind: 'whisper', encoder: at(encoder), decoder: at(decoder), tokens: at(tokens) };
}

/** The model in `dir`; a PermanentFailure naming what is missing otherwise. */
export async function modelIn(dir: string): Promise<SherpaModel> {
  let files: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new PermanentFailure(`ANALYSIS_MODEL_DIR ${dir} is not a directory`);
    files = await readdir(dir);
  } catch (error) {
    if (error instanceof PermanentFailure) throw error;
    throw new PermanentFailure(`ANALYSIS_MODEL_DIR ${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const model = modelOfFiles(dir, files);
  if ('problem' in model) throw new PermanentFailure(model.problem);
  return model;
}

/** Exit code of the child when the package is missing. */
const NOT_INSTALLED = 3;

/** The child: loads the recogniser once, decodes each WAV named in argv[1] (JSON), one JSON line per part. */
const CHILD = `
let sherpa;
try { sherpa = (await import('sherpa-onnx-node')).default; } catch (e) { console.error('sherpa-onnx-node is not installed: ' + e.message); process.exit(${NOT_INSTALLED}); }
const { model, parts } = JSON.parse(process.argv[1]);
const modelConfig = model.kind === 'transducer'
  ? { transducer: { encoder: model.encoder, decoder: model.decoder, joiner: model.joiner } }
  : { whisper: { encoder: model.encoder, decoder: model.decoder, language: 'en', task: 'transcribe' } };
const recognizer = new sherpa.OfflineRecognizer({ featConfig: { sampleRate: 16000, featureDim: 80 }, modelConfig: { ...modelConfig, tokens: model.tokens, numThreads: 1, provider: 'cpu', debug: 0 } });
for (const part of parts) {
  const wave = sherpa.readWave(part);
  const stream = recognizer.createStream();
  stream.acceptWaveform({ sampleRate: wave.sampleRate, samples: wave.samples });
  recognizer.decode(stream);
  const r = recognizer.getResult(stream);
  process.stdout.write(JSON.stringify({ text: r.text ?? '', tokens: r.tokens ?? [], timestamps: r.timestamps ?? [] }) + '\\n');
}
`;

/** onnxruntime's message when a file is no model it can load, from the child's stderr. */
function modelLoadFailure(stderr: string): string | undefined {
  const line = /Load model from .*$/m.exec(stderr)?.[0];
  return line?.replace(/\/shared\/onnxruntime\/\S+ onnxruntime::\S+\(.*?\) /, '').slice(0, 300);
}

interface PartResult {
  text: string;
  tokens: string[];
  timestamps: number[];
}

/** Words of one part with times from `from`: from token times when given, else spread evenly up to `to` (pure). */
export function wordsOfPart(result: PartResult, from: number, to: number): TimedWord[] {
  const ms = (s: number) => Math.round(s * 1000) / 1000;
  if (result.tokens.length > 0 && result.timestamps.length === result.tokens.length) {
    const words: TimedWord[] = [];
    result.tokens.forEach((token, i) => {
      const start = from + result.timestamps[i]!;
      const end = Math.min(to, from + (result.timestamps[i + 1] ?? to - from));
      const text = token.replace(/^[▁ ]/, '');
      const last = words[words.length - 1];
      if (last && !/^[▁ ]/.test(token)) {
        last.word += text.toLowerCase();
        last.end = ms(end);
      } else if (text !== '') words.push({ word: text.toLowerCase(), start: ms(start), end: ms(end) });
    });
    return words;
  }
  const texts = result.text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const step = (to - from) / Math.max(1, texts.length);
  return texts.map((word, i) => ({ word, start: ms(from + i * step), end: ms(from + (i + 1) * step) }));
}

export interface SherpaOptions {
  modelDir: string;
}

export function sherpaEngine(options: SherpaOptions): TranscriptionEngine {
  return {
    name: 'sherpa-onnx',
    accepts: (input) => input.info.hasAudio,
    async transcribe(input) {
      const model = await modelIn(options.modelDir);
      const wav = await input.audio();
      const duration = input.info.duration;
      const count = Math.ceil(duration / MAX_PART_SECONDS);
      const cuts = count > 1 ? cutPoints(duration, await findSilences(wav, 0.3, input.limits), count, 5) : [];
      const ends = [...cuts, duration];
      const bounds = ends.map((to, i) => ({ from: i === 0 ? 0 : ends[i - 1]!, to }));
      const parts: string[] = [];
      if (bounds.length === 1) parts.push(wav);
      else {
        // One ffmpeg at a time: a long file has many parts.
        for (const [i, { from, to }] of bounds.entries()) {
          const part = path.join(input.workDir, `sherpa-part-${i}.wav`);
          await cutAudio(wav, part, from, to, input.limits);
          parts.push(part);
        }
      }
      const run = await runTool({
        command: process.execPath,
        args: ['--input-type=module', '-e', CHILD, JSON.stringify({ model, parts })],
        cwd: process.cwd(),
        timeoutMs: input.limits.timeoutMs, maxOutputBytes: 64 * 1024 * 1024, memoryLimitBytes: input.limits.memoryLimitBytes,
      }).catch((error: unknown) => {
        // onnxruntime aborts (SIGABRT, which a capped run reads as out of memory) on files that are no model.
        const unloadable = error instanceof ToolLimitError ? modelLoadFailure(error.run.stderr.toString('utf8')) : undefined;
        throw unloadable ? new PermanentFailure(`the speech model in ANALYSIS_MODEL_DIR ${options.modelDir} could not be loaded: ${unloadable}`) : error;
      });
      if (run.exitCode === NOT_INSTALLED) throw new PermanentFailure('ANALYSIS_MODEL_DIR is set but the sherpa-onnx-node package is not installed (npm install sherpa-onnx-node)');
      const unloadable = run.exitCode !== 0 ? modelLoadFailure(run.stderr.toString('utf8')) : undefined;
      if (unloadable) throw new PermanentFailure(`the speech model in ANALYSIS_MODEL_DIR ${options.modelDir} could not be loaded: ${unloadable}`);
      if (run.exitCode !== 0) throw new ToolFailedError('sherpa-onnx', run);
      const results = run.stdout.toString('utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as PartResult);
      const words = results.flatMap((result, i) => wordsOfPart(result, bounds[i]!.from, bounds[i]!.to));
      const segments: Segment[] = segmentsOf(words);
      return { language: 'en', segments };
    },
  };
}
