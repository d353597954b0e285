/**
 * The better engine is chosen only when a model directory is configured: without
 * ANALYSIS_MODEL_DIR audio goes to pocketsphinx; with one, to sherpa-onnx, which needs a
 * model in it and fails with a reason naming what is missing (no weights exist here, so
 * decoding itself is not exercised). Which files make a model is read from the names.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { enginesOf } from '../../../src/features/analysis/analyser/analyse-video.js';
import { modelDirOf } from '../../../src/features/analysis/analyser/analyser-deps.js';
import { modelIn, modelOfFiles, wordsOfPart } from '../../../src/features/analysis/analyser/sherpa-engine.js';
import { chooseEngine, type TranscriptionInput } from '../../../src/features/analysis/analyser/transcriber.js';
import { PermanentFailure } from '../../../src/features/analysis/analysis-rules.js';
import { loadConfig } from '../../../src/platform/config/config.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'nedlia-sherpa-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const settings = loadConfig({ NODE_ENV: 'test', ANALYSIS_TEMP_DIR: path.join(root, 'tmp') }).analysis;
let audioAsked = 0;
const input = (info: Partial<TranscriptionInput['info']> = {}): TranscriptionInput => ({
  media: path.join(root, 'none.mp4'), info: { duration: 3, hasAudio: true, hasSubtitles: false, ...info }, workDir: root,
  limits: { timeoutMs: 10_000, memoryLimitBytes: 256 * 1024 * 1024 },
  audio: async () => {
    audioAsked++;
    return path.join(root, 'none.wav');
  },
});

describe('engine choice', () => {
  it('without a model directory: subtitles, then pocketsphinx; sherpa-onnx is not among the engines', () => {
    expect(modelDirOf({})).toBeUndefined();
    expect(modelDirOf({ ANALYSIS_MODEL_DIR: '  ' })).toBeUndefined();
    const engines = enginesOf({ settings, modelDir: modelDirOf({}) });
    expect(engines.map((e) => e.name)).toEqual(['subtitles', 'pocketsphinx']);
    expect(chooseEngine(engines, input())?.name).toBe('pocketsphinx');
    expect(chooseEngine(engines, input({ hasSubtitles: true }))?.name).toBe('subtitles');
  });

  it('with one: sherpa-onnx for audio (subtitles still first)', () => {
    const modelDir = modelDirOf({ ANALYSIS_MODEL_DIR: path.join(root, 'model') });
    const engines = enginesOf({ settings, modelDir });
    expect(engines.map((e) => e.name)).toEqual(['subtitles', 'sherpa-onnx', 'pocketsphinx']);
    expect(chooseEngine(engines, input())?.name).toBe('sherpa-onnx');
    expect(chooseEngine(engines, input({ hasSubtitles: true }))?.name).toBe('subtitles');
  });
});

describe('a configured directory without a model', () => {
  it('fails the transcription at once, naming the directory and what a model needs, before any audio is made', async () => {
    const empty = path.join(root, 'empty');
    mkdirSync(empty);
    const engine = enginesOf({ settings, modelDir: empty }).find((e) => e.name === 'sherpa-onnx')!;
    const failure = await engine.transcribe(input()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PermanentFailure);
    expect((failure as PermanentFailure).reason).toBe(
      `ANALYSIS_MODEL_DIR ${empty} has no speech model (expected tokens.txt with encoder*.onnx, decoder*.onnx and joiner*.onnx (a transducer) or *encoder*.onnx and *decoder*.onnx (Whisper); it is empty)`,
    );
    expect(audioAsked).toBe(0);

    const partial = path.join(root, 'partial');
    mkdirSync(partial);
    writeFileSync(path.join(partial, 'encoder.onnx'), '');
    writeFileSync(path.join(partial, 'README.md'), '');
    await expect(modelIn(partial)).rejects.toThrow(/has no speech model .*; it holds README\.md, encoder\.onnx\)$/);
    await expect(modelIn(path.join(root, 'missing'))).rejects.toThrow(`ANALYSIS_MODEL_DIR ${path.join(root, 'missing')} cannot be read (ENOENT)`);
    writeFileSync(path.join(root, 'a-file'), '');
    await expect(modelIn(path.join(root, 'a-file'))).rejects.toThrow('is not a directory');
  });
});

describe('a directory with model files', () => {
  it('runs the recogniser in a child process, which says when sherpa-onnx-node is not installed', async () => {
    const dir = path.join(root, 'fake-model');
    mkdirSync(dir);
    for (const f of ['tokens.txt', 'encoder.int8.onnx', 'decoder.int8.onnx', 'joiner.int8.onnx']) writeFileSync(path.join(dir, f), '');
    const engine = enginesOf({ settings, modelDir: dir }).find((e) => e.name === 'sherpa-onnx')!;
    const installed = await import('sherpa-onnx-node' as string).then(() => true, () => false);
    // Node reserves more address space than 256 MB: the analysis's default cap (1 GB) is what the child gets.
    const failure = await engine.transcribe({ ...input(), limits: { timeoutMs: 30_000, memoryLimitBytes: settings.memoryLimitBytes } }).catch((e: unknown) => e);
    if (installed) {
      // Empty files are no model: onnxruntime aborts, and the reason says the model could not be loaded.
      expect(failure).toBeInstanceOf(PermanentFailure);
      expect((failure as PermanentFailure).reason).toMatch(new RegExp(`^the speech model in ANALYSIS_MODEL_DIR ${dir} could not be loaded: Load model from ${dir}/encoder\\.int8\\.onnx failed`));
    } else {
      expect(failure).toBeInstanceOf(PermanentFailure);
      expect((failure as PermanentFailure).reason).toBe('ANALYSIS_MODEL_DIR is set but the sherpa-onnx-node package is not installed (npm install sherpa-onnx-node)');
    }
  }, 60_000);
});

describe('model files and word times (pure)', () => {
  it('finds a transducer or Whisper, int8 first', () => {
    expect(modelOfFiles('/m', ['tokens.txt', 'encoder-epoch-99.onnx', 'encoder-epoch-99.int8.onnx', 'decoder-epoch-99.onnx', 'joiner-epoch-99.onnx'])).toEqual({
      kind: 'transducer', encoder: '/m/encoder-epoch-99.int8.onnx', decoder: '/m/decoder-epoch-99.onnx', joiner: '/m/joiner-epoch-99.onnx', tokens: '/m/tokens.txt',
    });
    expect(modelOfFiles('/w', ['tiny.en-encoder.onnx', 'tiny.en-decoder.onnx', 'tiny.en-tokens.txt'])).toEqual({
      kind: 'whisper', encoder: '/w/tiny.en-encoder.onnx', decoder: '/w/tiny.en-decoder.onnx', tokens: '/w/tiny.en-tokens.txt',
    });
  });

  it('joins tokens into words with their times, or spreads the words over the part', () => {
    expect(wordsOfPart({ text: 'HELLO WORLD', tokens: ['▁HE', 'LLO', '▁WORLD'], timestamps: [0.2, 0.4, 0.9] }, 10, 11.5)).toEqual([
      { word: 'hello', start: 10.2, end: 10.9 },
      { word: 'world', start: 10.9, end: 11.5 },
    ]);
    expect(wordsOfPart({ text: ' Hello world', tokens: [], timestamps: [] }, 2, 4)).toEqual([
      { word: 'hello', start: 2, end: 3 },
      { word: 'world', start: 3, end: 4 },
    ]);
  });
});
