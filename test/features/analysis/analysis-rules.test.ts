/** The analysis feature's pure rules: URLs, content kinds, transcripts (pocketsphinx output, WebVTT both ways), word error rate, cut points. */
import { describe, expect, it } from 'vitest';
import { kindOfContent, looksLikeHtml, urlProblem } from '../../../src/features/analysis/analysis-rules.js';
import { parsePocketsphinx, parseWebVtt, toWebVtt, wordErrorRate } from '../../../src/features/analysis/transcript-rules.js';
import { cutPoints } from '../../../src/features/analysis/analyser/pocketsphinx-engine.js';

describe('analysis rules', () => {
  it('accepts http and https URLs only, without credentials', () => {
    expect(urlProblem('https://videos.example.com/a.mp4')).toBeUndefined();
    expect(urlProblem('http://127.0.0.1:8080/page')).toBeUndefined();
    expect(urlProblem('file:///etc/passwd')).toMatch(/http or https URL, not file/);
    expect(urlProblem('ftp://x/y')).toMatch(/not ftp/);
    expect(urlProblem('not a url')).toMatch(/absolute/);
    expect(urlProblem('https://user:pw@example.com/a.mp4')).toMatch(/user name or password/);
  });

  it('tells media, pages and unknown content apart', () => {
    expect(kindOfContent('video/mp4')).toBe('media');
    expect(kindOfContent('audio/mpeg; charset=x')).toBe('media');
    expect(kindOfContent('application/octet-stream')).toBe('media');
    expect(kindOfContent('text/html; charset=utf-8')).toBe('page');
    expect(kindOfContent(undefined)).toBe('unknown');
    expect(kindOfContent('text/plain')).toBe('unknown');
    expect(looksLikeHtml('  <!DOCTYPE html><html>')).toBe(true);
    expect(looksLikeHtml('\u0000\u0000\u0000 ftypisom')).toBe(false);
  });
});

describe('transcripts', () => {
  const output = [
    'the quick brown fox',
    '<s> 0.070 0.110 1.000100',
    'the 0.120 0.340 0.880368',
    'quick 0.350 0.640 0.994415',
    '<sil> 0.650 0.700 0.5',
    'brown(2) 0.710 1.100 1.000000',
    'fox 2.500 2.900 0.99',
    '</s> 2.910 3.000 1.000000',
  ].join('\n');

  it('reads pocketsphinx words, drops markers and variants, splits at pauses, shifts by the offset', () => {
    const segments = parsePocketsphinx(output, 10);
    expect(segments.map((s) => s.text)).toEqual(['the quick brown', 'fox']);
    expect(segments[0]).toMatchObject({ start: 10.12, end: 11.1 });
    expect(segments[0]!.words[2]).toEqual({ word: 'brown', start: 10.71, end: 11.1, confidence: 1 });
    expect(segments[1]!.start).toBe(12.5);
  });

  it('writes WebVTT and reads it back, with word times inside each cue', () => {
    const segments = parsePocketsphinx(output);
    const vtt = toWebVtt(segments);
    expect(vtt).toBe('WEBVTT\n\n1\n00:00:00.120 --> 00:00:01.100\nthe quick brown\n\n2\n00:00:02.500 --> 00:00:02.900\nfox\n');
    const back = parseWebVtt(vtt);
    expect(back.map((s) => [s.start, s.end, s.text])).toEqual(segments.map((s) => [s.start, s.end, s.text]));
    for (const s of back) {
      for (const w of s.words) expect(w.start >= s.start && w.end <= s.end + 0.001).toBe(true);
    }
    expect(parseWebVtt('WEBVTT\n\n01:02.500 --> 01:04.000 align:start\n<v Bob>Hello <b>there</b>\n')[0]).toMatchObject({ start: 62.5, end: 64, text: 'Hello there' });
  });

  it('computes the word error rate', () => {
    expect(wordErrorRate('the quick brown fox', 'the quick brown fox')).toBe(0);
    expect(wordErrorRate('the quick brown fox', 'The quick, brown box!')).toBe(0.25);
    expect(wordErrorRate('a b c d', 'a c d e f')).toBe(0.75);
    expect(wordErrorRate('', '')).toBe(0);
  });

  it('cuts long audio at the silence nearest each even share', () => {
    const silences: [number, number][] = [[9, 10], [29, 31], [33, 34], [50, 51]];
    expect(cutPoints(60, silences, 2, 12)).toEqual([30]);
    // Thirds: 30 is nearest 20; 33.5, nearest 40, would leave a part of 3.5 s.
    expect(cutPoints(60, silences, 3, 12)).toEqual([30]);
    expect(cutPoints(60, [], 2, 12)).toEqual([]);
    // A cut that would leave a part shorter than the minimum is not made.
    expect(cutPoints(60, [[55, 56]], 2, 12)).toEqual([]);
  });
});
