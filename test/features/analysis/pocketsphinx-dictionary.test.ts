/**
 * The pocketsphinx dictionary cut to the language model's words: on Debian's
 * pocketsphinx-en-us model every kept entry is a word of the model and the dropped ones
 * are not; an unreadable model falls back to the full dictionary; it is made once per
 * process, in a directory the workspace sweep removes once the process is gone.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { dictionaryFor, vocabularyOfLmTail } from '../../../src/features/analysis/analyser/pocketsphinx-dictionary.js';

const MODEL = '/usr/share/pocketsphinx/model/en-us';
const LM = path.join(MODEL, 'en-us.lm.bin');
const DICT = path.join(MODEL, 'cmudict-en-us.dict');
const root = mkdtempSync(path.join(os.tmpdir(), 'nedlia-ps-dict-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const limits = { timeoutMs: 60_000, memoryLimitBytes: 512 * 1024 * 1024 };

const headword = (line: string) => line.split(/\s/)[0]!.replace(/\(\d+\)$/, '');

async function lmVocabulary(): Promise<Set<string>> {
  const handle = await open(LM, 'r');
  const { size } = await handle.stat();
  const tail = Buffer.alloc(4 * 1024 * 1024);
  await handle.read(tail, 0, tail.length, size - tail.length);
  await handle.close();
  return new Set(vocabularyOfLmTail(tail, false)!.toString('latin1').split('\n').filter(Boolean));
}

it("keeps exactly the entries of the language model's words, once per process", async () => {
  const vocabulary = await lmVocabulary();
  expect(vocabulary.size).toBeGreaterThan(70_000);
  for (const word of ['the', 'coffee', 'bicycle', "'cause", 'zyuganov']) expect(vocabulary.has(word)).toBe(true);

  const choice = await dictionaryFor(LM, DICT, root, limits);
  expect(choice.fullBecause).toBeUndefined();
  expect(path.dirname(choice.file)).toBe(path.join(root, `analysis-${process.pid}-dictionary`));
  const full = readFileSync(DICT, 'utf8').trim().split('\n');
  const kept = readFileSync(choice.file, 'utf8').trim().split('\n');
  expect(kept).toHaveLength(choice.entries!);
  expect(kept).toEqual(full.filter((line) => vocabulary.has(headword(line))));
  expect(kept.length).toBeLessThan(full.length * 0.7);
  // Alternative pronunciations stay with their word.
  expect(kept.filter((l) => headword(l) === 'read').length).toBeGreaterThan(1);
  expect(await dictionaryFor(LM, DICT, root, limits)).toBe(await dictionaryFor(LM, DICT, root, limits));
});

it('uses the full dictionary when the vocabulary cannot be read with confidence', async () => {
  const noise = path.join(root, 'noise.lm.bin');
  writeFileSync(noise, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  const choice = await dictionaryFor(noise, DICT, path.join(root, 'other'), limits);
  expect(choice).toEqual({ file: DICT, fullBecause: 'the vocabulary of noise.lm.bin could not be read' });
  expect(existsSync(path.join(root, 'other', `analysis-${process.pid}-dictionary`))).toBe(false);

  // Printable to the start of what was read: where the vocabulary begins was not seen.
  const words = Buffer.from(['a', 'and', 'of', 'the', ...Array.from({ length: 2000 }, (_, i) => `w${i}`)].join('\0'));
  expect(vocabularyOfLmTail(words, false)).toBeUndefined();
  expect(vocabularyOfLmTail(Buffer.concat([Buffer.from([1, 2, 3]), words]), false)?.toString().split('\n')).toHaveLength(2004);
  expect(vocabularyOfLmTail(Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from('x\0y\0the')]), false)).toBeUndefined();
});
