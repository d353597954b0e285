/**
 * The placement file's fast path (platform/http/fast-path.ts) answers exactly as the
 * routed handler does: over real HTTP, the same status, headers (all but `date`),
 * body, metrics and request log line, with and without CORS origins configured. The
 * reference is the same app with its fast path closed, so every request is routed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/entry/app.js';
import { loadConfig } from '../../../src/platform/config/config.js';
import { Metrics } from '../../../src/platform/metrics/metrics.js';
import { engine } from '../../support/engine.js';
import { capturingLogger } from '../../events/support.js';
import { fileWhen, openFilesHarness, seedServing, type FilesHarness } from './support.js';

let f: FilesHarness;
beforeAll(async () => {
  f = await openFilesHarness();
});
afterAll(async () => {
  await f?.close();
});

interface Served {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function get(base: string, url: string, headers: Record<string, string>): Promise<Served> {
  const res = await fetch(base + url, { headers });
  const body = await res.text();
  const all = Object.fromEntries([...res.headers].filter(([name]) => name !== 'date'));
  return { status: res.status, headers: all, body };
}

/** An app serving the files of `f`, listening on loopback, with its log lines and metrics. */
async function serving(env: Record<string, string>) {
  const config = loadConfig({ NODE_ENV: 'test', RATE_LIMIT_MAX: '0', DATA_DIR: f.config.dataDir!, LOG_LEVEL: 'info', ...env });
  const { logger, lines } = capturingLogger();
  logger.level = 'info';
  const metrics = new Metrics();
  const app: App = await buildApp({ config, database: f.h.database, logger, verifyToken: f.h.verifyToken, events: { metrics } });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base, lines, metrics };
}

const requestLines = (lines: Record<string, unknown>[]) =>
  lines.filter((l) => l.msg === 'request completed').map(({ time: _t, pid: _p, hostname: _h, ms: _ms, ...rest }) => rest);

const countOf = async (metrics: Metrics, status: string) => {
  const metric = await metrics.registry.getSingleMetric('nedlia_http_requests_total')?.get();
  return metric?.values.find((v) => v.labels.route === '/v1/videos/:id/placement-file' && v.labels.status === status)?.value ?? 0;
};

describe(`the placement file's fast path (${engine})`, () => {
  for (const cors of [undefined, 'https://site.example']) {
    it(`answers as the routed handler does${cors ? ' with CORS origins configured' : ''}`, async () => {
      const { videoId } = await seedServing(f.h);
      const file = await fileWhen(f, videoId, (body) => body !== undefined, 'the first file');
      expect(file).toBeDefined();
      const env: Record<string, string> = cors ? { CORS_ORIGINS: cors } : {};
      const fast = await serving(env);
      const routed = await serving(env);
      routed.app.fastPath.close();
      try {
        const url = `/v1/videos/${videoId}/placement-file`;
        // The first read of each app loads the file into its memory (routed in both).
        const first = await get(fast.base, url, {});
        await get(routed.base, url, {});
        const jsonTag = first.headers.etag!;
        const vttTag = (await get(fast.base, `${url}?format=vtt`, {})).headers.etag!;
        await get(routed.base, `${url}?format=vtt`, {});
        expect(jsonTag).toMatch(/^"/);
        const answeredBefore = fast.app.fastPath.answered;
        fast.lines.length = 0;
        routed.lines.length = 0;
        const asks: [string, Record<string, string>][] = [
          [url, {}],
          [`${url}?format=json`, {}],
          [`${url}?format=vtt`, {}],
          [url, { 'if-none-match': jsonTag }],
          [url, { 'if-none-match': `W/${jsonTag}` }],
          [url, { 'if-none-match': `"other", ${jsonTag}` }],
          [url, { 'if-none-match': '*' }],
          [url, { 'if-none-match': vttTag }],
          [`${url}?format=vtt`, { 'if-none-match': vttTag }],
          [url, { origin: 'https://site.example' }],
          [url, { origin: 'https://elsewhere.example', 'if-none-match': jsonTag }],
        ];
        for (const [ask, headers] of asks) {
          const requestId = `fast-path-${randomUUID()}`;
          const sent = { ...headers, 'x-request-id': requestId };
          const [a, b] = [await get(fast.base, ask, sent), await get(routed.base, ask, sent)];
          expect(a, `${ask} ${JSON.stringify(headers)}`).toEqual(b);
          expect(a.headers['x-request-id']).toBe(requestId);
        }
        // A request without an id gets a new one on both paths.
        const [a, b] = [await get(fast.base, url, {}), await get(routed.base, url, {})];
        expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect({ ...a.headers, 'x-request-id': '' }).toEqual({ ...b.headers, 'x-request-id': '' });

        // Every one of those was answered before routing in the fast app, none in the other.
        expect(fast.app.fastPath.answered - answeredBefore).toBe(asks.length + 1);
        expect(routed.app.fastPath.answered).toBe(0);
        // The same log lines (but for the request ids of the last pair) and the same metrics.
        const [fastLines, routedLines] = [requestLines(fast.lines), requestLines(routed.lines)];
        expect(fastLines).toHaveLength(asks.length + 1);
        expect(fastLines.slice(0, -1)).toEqual(routedLines.slice(0, -1));
        for (const status of ['200', '304']) expect(await countOf(fast.metrics, status)).toBe(await countOf(routed.metrics, status));
        expect(await countOf(fast.metrics, '304')).toBeGreaterThan(0);
      } finally {
        await fast.app.close();
        await routed.app.close();
      }
    });
  }

  it('routes what it cannot answer from memory: a miss, a bad id or query, HEAD', async () => {
    const fast = await serving({});
    try {
      const { videoId } = await seedServing(f.h);
      await fileWhen(f, videoId, (body) => body !== undefined, 'the first file');
      const url = `/v1/videos/${videoId}/placement-file`;
      const before = fast.app.fastPath.answered;
      expect((await get(fast.base, url, {})).status).toBe(200); // a miss: routed, and now in memory
      expect(fast.app.fastPath.answered).toBe(before);
      expect((await get(fast.base, `${url}?format=xml`, {})).status).toBe(422);
      expect((await get(fast.base, `${url}?format=vtt&extra=1`, {})).status).toBe(422);
      expect((await get(fast.base, '/v1/videos/not-a-uuid/placement-file', {})).status).toBe(422);
      expect((await get(fast.base, `/v1/videos/${randomUUID()}/placement-file`, {})).status).toBe(404);
      expect((await fetch(fast.base + url, { method: 'HEAD' })).status).toBe(200);
      expect(fast.app.fastPath.answered).toBe(before);
      expect((await get(fast.base, url, {})).status).toBe(200);
      expect(fast.app.fastPath.answered).toBe(before + 1);
    } finally {
      await fast.app.close();
    }
  });

  it('serves files in memory uncounted by the rate limit, on both paths; reads that go to the database are counted', async () => {
    const max = 3;
    const fast = await serving({ RATE_LIMIT_MAX: String(max) });
    const routed = await serving({ RATE_LIMIT_MAX: String(max) });
    routed.app.fastPath.close();
    try {
      const { videoId } = await seedServing(f.h);
      await fileWhen(f, videoId, (body) => body !== undefined, 'the first file');
      const url = `/v1/videos/${videoId}/placement-file`;
      for (const app of [fast, routed]) {
        // The first read loads the file (counted); every later one is answered from memory.
        const first = await get(app.base, url, {});
        expect(first.status).toBe(200);
        expect(first.headers['x-ratelimit-limit']).toBe(String(max));
        for (let i = 0; i < max * 3; i++) {
          const again = await get(app.base, url, i % 2 === 0 ? {} : { 'if-none-match': first.headers.etag! });
          expect(again.status).toBe(i % 2 === 0 ? 200 : 304);
          expect(again.headers['x-ratelimit-limit']).toBeUndefined();
        }
        // Misses read the database: they use up the allowance like any other request
        // (the first read took one of the `max`).
        const statuses: number[] = [];
        for (let i = 0; i < max; i++) statuses.push((await get(app.base, `/v1/videos/${randomUUID()}/placement-file`, {})).status);
        expect(statuses).toEqual([...Array<number>(max - 1).fill(404), 429]);
        // The file in memory is still served.
        expect((await get(app.base, url, {})).status).toBe(200);
      }
      expect(fast.app.fastPath.answered).toBeGreaterThanOrEqual(max * 3 + 1);
      expect(routed.app.fastPath.answered).toBe(0);
    } finally {
      await fast.app.close();
      await routed.app.close();
    }
  });
});
