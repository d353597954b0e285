/**
 * Transcripts, pure: reading pocketsphinx's timed output and WebVTT cues into segments,
 * writing segments as WebVTT captions, and the word error rate of a hypothesis.
 */
import type { Segment, TimedWord } from './transcript-model.js';

const ms = (seconds: number): number => Math.round(seconds * 1000) / 1000;

/** A pause longer than this between two words starts a new segment. */
export const SEGMENT_GAP_SECONDS = 0.6;

/** Fillers and markers of pocketsphinx (`<s>`, `</s>`, `<sil>`, `[NOISE]`, `++GARBAGE++`). */
const isMarker = (token: string): boolean => /^(<.*>|\[.*\]|\+\+.*\+\+)$/.test(token);

/**
 * The words of `pocketsphinx_continuous -time yes` output (`word start end confidence`
 * lines after each utterance's text line), `offset` seconds later, as segments: one per
 * utterance, split again at pauses longer than `SEGMENT_GAP_SECONDS`.
 */
export function parsePocketsphinx(output: string, offset = 0): Segment[] {
  const words: TimedWord[] = [];
  for (const line of output.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 4) continue;
    const [token, start, end, confidence] = parts as [string, string, string, string];
    const numbers = [start, end, confidence].map(Number);
    if (numbers.some((n) => !Number.isFinite(n)) || !/^-?\d/.test(start)) continue;
    if (isMarker(token)) continue;
    const word = token.replace(/\(\d+\)$/, '');
    words.push({ word, start: ms(numbers[0]! + offset), end: ms(numbers[1]! + offset), confidence: Math.min(1, Math.max(0, ms(numbers[2]!))) });
  }
  return segmentsOf(words);
}

/** Words in time order grouped into segments at pauses. */
export function segmentsOf(words: readonly TimedWord[]): Segment[] {
  const segments: Segment[] = [];
  let current: TimedWord[] = [];
  const flush = () => {
    if (current.length === 0) return;
    segments.push({ start: current[0]!.start, end: current[current.length - 1]!.end, text: current.map((w) => w.word).join(' '), words: current });
    current = [];
  };
  for (const word of words) {
    const last = current[current.length - 1];
    if (last && word.start - last.end > SEGMENT_GAP_SECONDS) flush();
    current.push(word);
  }
  flush();
  return segments;
}

export function transcriptText(segments: readonly Segment[]): string {
  return segments.map((s) => s.text).join(' ');
}

function parseTimestamp(text: string): number | undefined {
  const match = /^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1] ?? 0) * 3600 + Number(match[2]) * 60 + Number(match[3]) + Number(match[4]) / 1000;
}

/**
 * The cues of a WebVTT file as segments. A cue gives no word timings, so its words share
 * its time evenly (by length), which keeps them increasing and inside the cue.
 */
export function parseWebVtt(vtt: string): Segment[] {
  const segments: Segment[] = [];
  for (const block of vtt.replace(/\r/g, '').split(/\n{2,}/)) {
    const lines = block.split('\n');
    const timing = lines.findIndex((l) => l.includes('-->'));
    if (timing < 0) continue;
    const [from, to] = lines[timing]!.split('-->').map((t) => t.trim().split(/\s+/)[0] ?? '');
    const start = parseTimestamp(from ?? '');
    const end = parseTimestamp(to ?? '');
    if (start === undefined || end === undefined || end < start) continue;
    const text = lines.slice(timing + 1).join(' ').replace(/<[^>]*>/g, '').replace(/\s+/g, ' ').trim();
    if (text === '') continue;
    const tokens = text.split(' ');
    const total = tokens.reduce((sum, t) => sum + t.length, 0) || 1;
    let at = start;
    const words = tokens.map((word) => {
      const length = ((end - start) * word.length) / total;
      const timed = { word, start: ms(at), end: ms(at + length) };
      at += length;
      return timed;
    });
    segments.push({ start: ms(start), end: ms(end), text, words });
  }
  return segments;
}

function vttTime(seconds: number): string {
  const total = Math.round(seconds * 1000);
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(total % 1000, 3)}`;
}

/** Segments as WebVTT captions, one cue per segment. */
export function toWebVtt(segments: readonly Segment[]): string {
  const cues = segments.map((s, i) => `${i + 1}\n${vttTime(s.start)} --> ${vttTime(s.end)}\n${s.text.replace(/-->/g, '->')}`);
  return `WEBVTT\n\n${cues.join('\n\n')}${cues.length > 0 ? '\n' : ''}`;
}

/** Lowercase words without punctuation. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().replace(/[^a-z0-9' ]+/g, ' ').split(/\s+/).filter(Boolean);
}

/** Word error rate: (substitutions + deletions + insertions) / reference words. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const ref = wordsOf(reference);
  const hyp = wordsOf(hypothesis);
  if (ref.length === 0) return hyp.length === 0 ? 0 : 1;
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[hyp.length]! / ref.length;
}
