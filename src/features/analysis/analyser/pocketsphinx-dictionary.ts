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
 * The cut dictionary is written once per process under the analysis temp directory, in
 * a directory named like the analyses' workspaces (`analysis-<pid>-…`), so that it is
 * swept with them once the process is gone.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** The vocabulary lives in the last few hundred KB of the file (620 KB for en-us.lm.bin). */
const TAIL_BYTES = 4 * 1024 * 1024;
const MIN_WORDS = 1000;
const MUST_KNOW = ['the', 'and', 'of', 'a'];

/**
 * The words at the end of a trie language model: the run of printable, NUL-separated
 * strings that ends the file. Undefined when the run fills the whole buffer (its start
 * was not seen) or does not look like a vocabulary.
 */
export function vocabularyOfLmTail(tail: Buffer, wholeFile: boolean): Set<string> | undefined {
  let start = tail.length;
  while (start > 0) {
    const byte = tail[start - 1]!;
    if (byte !== 0 && (byte < 0x21 || byte > 0x7e)) break;
    start--;
  }
  if (start === 0 && !wholeFile) return undefined;
  const words = new Set(tail.subarray(start).toString('latin1').split('\0').filter(Boolean));
  if (words.size < MIN_WORDS || MUST_KNOW.some((w) => !words.has(w))) return undefined;
  return words;
}

/** The word an entry of a CMU dictionary line is for (`read(2)` → `read`). */
const headword = (line: string): string => line.slice(0, line.search(/\s|$/)).replace(/\(\d+\)$/, '');

async function readTail(file: string): Promise<{ tail: Buffer; wholeFile: boolean }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const tail = Buffer.alloc(length);
    await handle.read(tail, 0, length, size - length);
    return { tail, wholeFile: length === size };
  } finally {
    await handle.close();
  }
}

/** Writes the entries of `dictionary` whose word is in `vocabulary` to `output`; answers how many. */
async function writeCutDictionary(dictionary: string, vocabulary: Set<string>, output: string): Promise<number> {
  const kept: string[] = [];
  const lines = createInterface({ input: createReadStream(dictionary, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '' && vocabulary.has(headword(line))) kept.push(line);
  const partial = `${output}.partial`;
  await writeFile(partial, kept.length > 0 ? `${kept.join('\n')}\n` : '');
  await rename(partial, output);
  return kept.length;
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
export function dictionaryFor(lm: string, dictionary: string, tempDir: string): Promise<DictionaryChoice> {
  const key = `${lm}\n${dictionary}\n${tempDir}`;
  let choice = made.get(key);
  if (!choice) {
    choice = (async (): Promise<DictionaryChoice> => {
      const { tail, wholeFile } = await readTail(lm);
      const vocabulary = vocabularyOfLmTail(tail, wholeFile);
      if (!vocabulary) return { file: dictionary, fullBecause: `the vocabulary of ${path.basename(lm)} could not be read` };
      const dir = path.join(tempDir, `analysis-${process.pid}-dictionary`);
      await mkdir(dir, { recursive: true });
      const output = path.join(dir, `${made.size}-${path.basename(dictionary)}`);
      const entries = await writeCutDictionary(dictionary, vocabulary, output);
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
