/**
 * The whole analysis through the API, on media made here and served from loopback:
 * POST /v1/analyze → the analyser consumer (download, ffprobe, ffmpeg, pocketsphinx or
 * the subtitle track) → the video completed with its duration and transcript; the
 * permanent failures end `failed` at once with their reason; deleting the video
 * removes its objects. 127.0.0.1 is reachable only because FETCH_ALLOW_HOSTS says so.
 */
import { mkdtempSync, rmSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';

const root = mkdtempSync(path.join(os.tmpdir(), 'nedlia-analysis-'));
Object.assign(process.env, {
  FETCH_ALLOW_HOSTS: '127.0.0.1',
  DATA_DIR: path.join(root, 'data'),
  ANALYSIS_TEMP_DIR: path.join(root, 'tmp'),
  ANALYSIS_MAX_DOWNLOAD_MB: '1',
  ANALYSIS_CONCURRENCY: '2',
});

const { openHarness } = await import('../../http/catalog/support.js');
const { PostgresBus } = await import('../../../src/platform/bus/postgres/postgres-bus.js');
const { OutboxRelay } = await import('../../../src/platform/outbox/outbox-relay.js');
const { ConsumerRuntime } = await import('../../../src/platform/consumers/consumer-runtime.js');
const { analysisConsumers, wordErrorRate } = await import('../../../src/features/analysis/index.js');
const { eventually } = await import('../../events/support.js');
const { freePort } = await import('../../support/processes.js');
const { speechClip, silentVideo, startMediaServer } = await import('./media.js');

type Harness = Awaited<ReturnType<typeof openHarness>>;
let h: Harness;
let media: Awaited<ReturnType<typeof startMediaServer>>;
let stopEvents: () => Promise<void>;

const SENTENCES = ['we sell fresh coffee and warm bread every morning', 'the red bicycle is parked next to the garden'];
let clip: ReturnType<typeof speechClip>;
let subtitled: ReturnType<typeof speechClip>;

beforeAll(async () => {
  const dir = path.join(root, 'media');
  rmSync(dir, { recursive: true, force: true });
  (await import('node:fs')).mkdirSync(dir, { recursive: true });
  clip = speechClip(dir, 'speech', SENTENCES);
  subtitled = speechClip(dir, 'subtitled', ['this clip carries its own captions', 'nobody has to listen to it'], { subtitles: true });
  const big = path.join(dir, 'big.bin');
  writeFileSync(big, Buffer.alloc(2 * 1024 * 1024, 7));
  media = await startMediaServer();
  media.route('/speech.mp4', { file: clip.file, contentType: 'video/mp4' });
  media.route('/subtitled.mp4', { file: subtitled.file, contentType: 'video/mp4' });
  media.route('/mute.mp4', { file: silentVideo(dir, 'mute'), contentType: 'video/mp4' });
  media.route('/big.mp4', { file: big, contentType: 'video/mp4' });
  media.route('/from-page.mp4', { file: subtitled.file, contentType: 'video/mp4' });
  media.route('/watch.html', { status: 200, body: '<!doctype html><html><head><title>Watch</title></head><body><video src="/from-page.mp4" controls></video></body></html>', contentType: 'text/html' });
  media.route('/page.html', { status: 200, body: '<!doctype html><html><body><p>No video here.</p></body></html>', contentType: 'text/html' });

  h = await openHarness();
  const logger = pino({ level: 'silent' });
  const bus = new PostgresBus(h.database.db, { pollMaxMs: 50 });
  const relay = new OutboxRelay(h.database.db, bus, { logger, pollMaxMs: 50 });
  const runtime = new ConsumerRuntime({ db: h.database.db, bus, logger });
  await runtime.start(analysisConsumers);
  relay.start();
  stopEvents = async () => {
    await relay.stop();
    await runtime.stop();
    await bus.close();
  };
}, 60_000);

afterAll(async () => {
  await stopEvents?.();
  await h?.close();
  await media?.close();
  rmSync(root, { recursive: true, force: true });
});

async function analyse(url: string): Promise<string> {
  const res = await h.call('creator', { method: 'POST', url: '/v1/analyze', body: { url } });
  expect(res.statusCode, res.body).toBe(202);
  expect(res.headers.location).toBe(`/v1/videos/${res.json().id}`);
  return res.json().id as string;
}

async function finished(id: string): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const res = await h.call('creator', { method: 'GET', url: `/v1/videos/${id}` });
      const video = res.json() as Record<string, unknown>;
      return video.analysis_status === 'completed' || video.analysis_status === 'failed' ? video : undefined;
    },
    60_000,
    `analysis of ${id} to finish`,
  );
}

describe('POST /v1/analyze', () => {
  it('transcribes speech with pocketsphinx: duration, words, times, silence gap, WebVTT, stored objects', async () => {
    const url = media.url('/speech.mp4');
    const id = await analyse(url);
    const first = await h.call('creator', { method: 'GET', url: `/v1/videos/${id}` });
    expect(['queued', 'processing']).toContain(first.json().analysis_status);
    // The same URL again while it runs: the same video, no second download.
    expect(await analyse(url)).toBe(id);

    const video = await finished(id);
    expect(video.failure_reason).toBeNull();
    expect(video.analysis_status).toBe('completed');
    expect(video.analysis_progress).toBe(100);
    expect(Math.abs((video.duration as number) - clip.duration)).toBeLessThanOrEqual(0.1);
    expect(media.hits.get('/speech.mp4')).toBe(1);

    const res = await h.call('creator', { method: 'GET', url: `/v1/videos/${id}/transcript` });
    expect(res.statusCode, res.body).toBe(200);
    const transcript = res.json() as { text: string; language: string; segments: { start: number; end: number; text: string; words: { word: string; start: number; end: number }[] }[] };
    expect(transcript.language).toBe('en');
    const wer = wordErrorRate(clip.text, transcript.text);
    expect(wer, transcript.text).toBeLessThanOrEqual(0.3);
    for (const keyword of ['coffee', 'bread', 'bicycle', 'garden']) expect(transcript.text).toContain(keyword);
    const words = transcript.segments.flatMap((s) => s.words);
    for (let i = 0; i < words.length; i++) {
      expect(words[i]!.end).toBeGreaterThanOrEqual(words[i]!.start);
      expect(words[i]!.end).toBeLessThanOrEqual(clip.duration);
      if (i > 0) expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.end);
    }
    // The 1.5 s pause between the sentences separates two segments.
    const gaps = transcript.segments.slice(1).map((s, i) => s.start - transcript.segments[i]!.end);
    expect(Math.max(...gaps)).toBeGreaterThan(1);

    const vtt = await h.call('creator', { method: 'GET', url: `/v1/videos/${id}/transcript?format=vtt` });
    expect(vtt.statusCode).toBe(200);
    expect(vtt.headers['content-type']).toMatch(/^text\/vtt/);
    expect(vtt.body).toMatch(/^WEBVTT\n\n1\n\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}\n/);

    // Another creator sees neither the video nor its transcript.
    expect((await h.call('otherCreator', { method: 'GET', url: `/v1/videos/${id}/transcript` })).statusCode).toBe(404);

    // Deleting the video removes its objects (media, transcript JSON and WebVTT).
    const objects = path.join(process.env.DATA_DIR!, 'objects', 'videos', id);
    expect(existsSync(objects)).toBe(true);
    const current = await h.call('creator', { method: 'GET', url: `/v1/videos/${id}` });
    const del = await h.call('creator', { method: 'DELETE', url: `/v1/videos/${id}`, headers: { 'if-match': String(current.headers.etag) } });
    expect(del.statusCode, del.body).toBe(204);
    const files = () => readdirSync(objects, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files().map((f) => f.name).sort()).toEqual(['source.mp4', 'transcript.json', 'transcript.vtt']);
    await eventually(async () => !existsSync(objects) || files().length === 0, 20_000, 'the objects removed');
    expect((await h.call('creator', { method: 'GET', url: `/v1/videos/${id}/transcript` })).statusCode).toBe(404);
  }, 90_000);

  it('uses an embedded subtitle track when the media has one', async () => {
    const id = await analyse(media.url('/subtitled.mp4'));
    const video = await finished(id);
    expect(video.analysis_status, String(video.failure_reason)).toBe('completed');
    const transcript = (await h.call('creator', { method: 'GET', url: `/v1/videos/${id}/transcript` })).json() as { text: string; segments: unknown[] };
    expect(transcript.text).toBe(subtitled.text);
    expect(transcript.segments).toHaveLength(2);
  }, 60_000);

  it('finds the media of a video page with yt-dlp and downloads it through the guarded fetch', async () => {
    const id = await analyse(media.url('/watch.html'));
    const video = await finished(id);
    expect(video.analysis_status, String(video.failure_reason)).toBe('completed');
    expect(media.hits.get('/from-page.mp4')).toBe(1);
    expect(Math.abs((video.duration as number) - subtitled.duration)).toBeLessThanOrEqual(0.1);
  }, 60_000);

  it('fails at once, with a reason a person understands, for what cannot succeed', async () => {
    const closed = await freePort();
    const cases: [string, RegExp][] = [
      [media.url('/missing.mp4'), /not found \(HTTP 404\)/],
      [media.url('/page.html'), /HTML page with no video/],
      [`http://127.0.0.1:${closed}/clip.mp4`, /could not connect to 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/],
      [media.url('/mute.mp4'), /no audio stream/],
      [media.url('/big.mp4'), /larger than the limit of 1 MB/],
      // Loopback, but not the allowed host: refused before any connection (the SSRF cases are in test/platform/outbound-fetch).
      [`http://127.0.0.2:${closed}/clip.mp4`, /may not be fetched: refused to connect to 127\.0\.0\.2: 127\.0\.0\.2 is loopback/],
    ];
    const ids = await Promise.all(cases.map(([url]) => analyse(url)));
    const videos = await Promise.all(ids.map(finished));
    videos.forEach((video, i) => {
      expect(video.analysis_status).toBe('failed');
      expect(video.failure_reason).toMatch(cases[i]![1]);
    });
    // Permanent failures are not retried: one attempt each, and no temporary files left.
    expect(media.hits.get('/missing.mp4')).toBe(1);
    expect(media.hits.get('/mute.mp4')).toBe(1);
    // Nothing of these analyses; only this process's cut pocketsphinx dictionary (made by the first test), kept while it runs.
    expect(readdirSync(process.env.ANALYSIS_TEMP_DIR!).filter((d) => d !== `analysis-${process.pid}-dictionary`)).toEqual([]);
  }, 90_000);

  it('answers 422 for a URL that is not http or https, and 403 for an advertiser', async () => {
    const bad = await h.call('creator', { method: 'POST', url: '/v1/analyze', body: { url: 'file:///etc/passwd' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('/url');
    const unknown = await h.call('creator', { method: 'POST', url: '/v1/analyze', body: { url: media.url('/x.mp4'), extra: 1 } });
    expect(unknown.statusCode).toBe(422);
    const advertiser = await h.call('advertiser', { method: 'POST', url: '/v1/analyze', body: { url: media.url('/x.mp4') } });
    expect(advertiser.statusCode).toBe(403);
  });
});
