/**
 * The pronunciation dictionary pocketsphinx loads, cut down to the words its language
 * model knows. Debian's `cmudict-en-us.dict` has 134,723 entries, 53,400 of them for
 * words `en-us.lm.bin` does not have: pocketsphinx can never recognise those, yet each
 * costs memory in every process (about 14 MB of a decoder's ~104 MB). The recognised
 * words are the same with either dictionary (the LibriVox recordings of
 * pocketsphinx-testdata transcribe identically).
 *
 * The language model's vocabulary is read from the end of its binary (trie) file, where
 * the words are kept as NUL-separated strings. When that cannot be read with confidence
 * (another format, too few words, common words missing) the full dictionary is used.
 * The cut is made by awk in a child process (so that the worker never holds the 3 MB
 * dictionary in its heap), once per process, under the analysis temp directory, in
 * a directory named like the analyses' workspaces (`analysis-<pid>-…`), so that it is
 * swept with them once the process is gone.
 */
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from '../../../platform/child-process/run-tool.js';
import { ToolFailedError, type ToolLimits } from './media-tools.js';

/** The vocabulary lives in the last few hundred KB of the file (620 KB for en-us.lm.bin). */
const TAIL_BYTES = [1024 * 1024, 8 * 1024 * 1024];
const MIN_WORDS = 1000;
const MUST_KNOW = ['the', 'and', 'of', 'a'];

/**
 * The words at the end of a trie language model, one per line: the run of printable,
 * NUL-separated strings that ends the file. Undefined when the run fills the whole
 * buffer (its start was not seen) or does not look like a vocabulary.
 */
export function vocabularyOfLmTail(tail: Buffer, wholeFile: boolean): Buffer | undefined {
  let start = tail.length;
  while (start > 0) {
    const byte = tail[start - 1]!;
    if (byte !== 0 && (byte < 0x21 || byte > 0x7e)) break;
    start--;
  }
  if (start === 0 && !wholeFile) return undefined;
  const words = Buffer.from(tail.subarray(start));
  let count = 0;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 0) {
      words[i] = 0x0a;
      count++;
    }
  }
  const framed = Buffer.concat([Buffer.from('\n'), words, Buffer.from('\n')]);
  if (count < MIN_WORDS || MUST_KNOW.some((w) => !framed.includes(`\n${w}\n`))) return undefined;
  return words;
}

async function readTail(file: string, bytes: number): Promise<{ tail: Buffer; wholeFile: boolean }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const tail = Buffer.alloc(length);
    await handle.read(tail, 0, length, size - length);
    return { tail, wholeFile: length === size };
  } finally {
    await handle.close();
  }
}

async function vocabularyOf(lm: string): Promise<Buffer | undefined> {
  for (const bytes of TAIL_BYTES) {
    const { tail, wholeFile } = await readTail(lm, bytes);
    const words = vocabularyOfLmTail(tail, wholeFile);
    if (words || wholeFile) return words;
  }
  return undefined;
}

/** awk: the first file is the vocabulary, the second the dictionary; prints how many entries it kept. */
const FILTER = 'NR == FNR { known[$0] = 1; next } { word = $1; sub(/\\([0-9]+\\)$/, "", word) } word in known { print > out; kept++ } END { close(out); print kept + 0 }';

/**
 * Keeps the lines of `dictionary` whose word (`read(2)` → `read`) is in `vocabulary`
 * (one word a line), written to `output` by awk in a child process with the analysis's
 * limits, so that the worker never holds the dictionary; answers how many.
 */
async function writeCutDictionary(dictionary: string, vocabulary: string, output: string, limits: ToolLimits): Promise<number> {
  const partial = `${output}.partial`;
  const run = await runTool({
    command: 'awk', args: ['-v', `out=${partial}`, FILTER, vocabulary, dictionary],
    timeoutMs: Math.min(limits.timeoutMs, 120_000), maxOutputBytes: 1024, memoryLimitBytes: limits.memoryLimitBytes,
  });
  if (run.exitCode !== 0) throw new ToolFailedError('awk', run);
  await rename(partial, output);
  return Number(run.stdout.toString('utf8').trim());
}

export interface DictionaryChoice {
  file: string;
  /** Entries kept, when the dictionary was cut. */
  entries?: number;
  /** Why the full dictionary is used. */
  fullBecause?: string;
}

const made = new Map<string, Promise<DictionaryChoice>>();

/** The dictionary for `lm` and `dictionary` (cut once per process, under `tempDir`). */
export function dictionaryFor(lm: string, dictionary: string, tempDir: string, limits: ToolLimits): Promise<DictionaryChoice> {
  const key = `${lm}\n${dictionary}\n${tempDir}`;
  let choice = made.get(key);
  if (!choice) {
    choice = (async (): Promise<DictionaryChoice> => {
      const vocabulary = await vocabularyOf(lm);
      if (!vocabulary) return { file: dictionary, fullBecause: `the vocabulary of ${path.basename(lm)} could not be read` };
      const dir = path.join(tempDir, `analysis-${process.pid}-dictionary`);
      await mkdir(dir, { recursive: true });
      const name = `${made.size}-${path.basename(dictionary)}`;
      const words = path.join(dir, `${name}.words`);
      await writeFile(words, vocabulary);
      const output = path.join(dir, name);
      const entries = await writeCutDictionary(dictionary, words, output, limits);
      if (entries < MIN_WORDS) return { file: dictionary, fullBecause: `only ${entries} entries of ${path.basename(dictionary)} are in the language model` };
      return { file: output, entries };
    })().catch((error: unknown) => {
      made.delete(key);
      throw error;
    });
    made.set(key, choice);
  }
  return choice;
}
