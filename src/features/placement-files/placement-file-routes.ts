/**
 * `GET /v1/videos/{id}/placement-file` (`?format=vtt`): the video SDK's read, public
 * and cacheable, open to every origin. Served from memory: each API process keeps the
 * files it served (both forms) by video, dropped when `placement_files` changes
 * (migration 0007's notification, from whichever process wrote), so the hot path
 * touches neither the catalog tables nor storage, and does not count against the
 * caller's rate limit. A miss reads one `placement_files` row and the two objects. A
 * file whose campaign dates passed (a campaign ended, or one started) is served while
 * its renewal is asked for, once. Also `GET /v1/schemas/placement-file.json`, the
 * format's JSON Schema.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ReadCache } from '../../platform/cache/read-cache.js';
import { listenForRowChanges } from '../../platform/cache/row-change-listener.js';
import { notFound } from '../../platform/errors.js';
import type { FeatureContext } from '../../platform/http/feature-routes.js';
import { createObjectStorage } from '../../platform/storage/create-storage.js';
import { IdParams, problems } from '../catalog/index.js';
import type { ServedFile } from './placement-file-model.js';
import { PLACEMENT_FILE_SCHEMA_URL } from './placement-file-rules.js';
import { PlacementFileSchema } from './placement-file-schemas.js';
import { readServedFile, requestExpired } from './placement-file-use-cases.js';

const tags = ['placement-files'];
/** Browsers and CDNs may keep a file this long; after that they revalidate (a 304 when it did not change). */
export const CACHE_CONTROL = 'public, max-age=5, stale-while-revalidate=30';
const FILE_TTL_MS = 60_000;

/** Whether `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2), or is `*`. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = strip(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || strip(tag) === wanted);
}

const EXPOSED = 'etag, x-request-id';
const JSON_TYPE = 'application/json; charset=utf-8';
const VTT_TYPE = 'text/vtt; charset=utf-8';
/** The file's path with a well-formed video id (anything else is routed, and answered 422 or 404 there). */
const FILE_PATH = /^\/v1\/videos\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/placement-file$/i;

function openToEveryOrigin(reply: FastifyReply): FastifyReply {
  return reply.header('access-control-allow-origin', '*').header('access-control-expose-headers', EXPOSED);
}

export const placementFileRoutes: FastifyPluginAsyncTypebox<FeatureContext> = async (app, { config, database, logger }) => {
  const storage = createObjectStorage(config);
  const files = config.readCacheSize > 0 ? new ReadCache<ServedFile>({ maxEntries: config.readCacheSize, ttlMs: FILE_TTL_MS }) : undefined;
  const listener = files ? await listenForRowChanges(database, { caches: { placement_files: files }, logger }) : undefined;
  app.addHook('onClose', async () => {
    await listener?.close();
    storage.close();
  });
  const load = (videoId: string) => readServedFile(database.db, storage, videoId);
  /** Videos whose expired file this process has asked to renew and not yet seen renewed. */
  const renewing = new Set<string>();
  const renewIfExpired = (file: ServedFile, requestId: string) => {
    if (Date.now() < file.expiresAt || renewing.has(file.videoId)) return;
    renewing.add(file.videoId);
    requestExpired(database.db, file.videoId, requestId)
      .catch((error: unknown) => logger.warn({ err: error, video_id: file.videoId }, 'could not ask for a new placement file; the next read tries again'))
      .finally(() => renewing.delete(file.videoId));
  };

  /** The file held in memory, unless the calendar made it stale (then it is read and renewed). */
  const fresh = (file: ServedFile | undefined) => (file !== undefined && Date.now() < file.expiresAt ? file : undefined);
  /**
   * A file this process holds in memory is answered without counting against the
   * caller's rate limit, routed or not: the answer does no work the limit protects
   * (nothing is read), and a per-address limit would refuse viewers who share one
   * address (a carrier's NAT) on a popular video. Reads that go to the database (a
   * miss, an expired file) are counted as every other request.
   */
  const servedFromMemory = (request: FastifyRequest) => {
    const id = (request.params as { id?: unknown }).id;
    return files !== undefined && typeof id === 'string' && fresh(files.find(id)) !== undefined;
  };

  // The same answers for files already in memory, given before routing (platform/http/fast-path.ts):
  // anything else (a miss, an expired file, a malformed id or query) is routed to the handler below.
  if (files) {
    app.fastPath.add({
      url: '/v1/videos/:id/placement-file',
      answer(request, path, query) {
        const id = FILE_PATH.exec(path)?.[1];
        const vtt = query === 'format=vtt' ? true : query === '' || query === 'format=json' ? false : undefined;
        if (id === undefined || vtt === undefined) return undefined;
        const file = fresh(files.peek(id));
        if (!file) return undefined;
        const etag = vtt ? file.vttEtag : file.jsonEtag;
        const shared = { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED, etag, 'cache-control': CACHE_CONTROL };
        if (matchesIfNoneMatch(request.headers['if-none-match'], etag)) return { status: 304, headers: shared };
        return { status: 200, headers: { ...shared, 'content-type': vtt ? VTT_TYPE : JSON_TYPE }, body: vtt ? file.vtt : file.json };
      },
    });
  }

  app.get(
    '/v1/videos/:id/placement-file',
    {
      config: { rateLimit: { allowList: servedFromMemory } },
      schema: {
        tags, summary: 'Read the placement file of a video (public, for the video SDK)',
        description:
          'The placements the video may show now, for the video SDK: JSON (format in `GET /v1/schemas/placement-file.json`) or, ' +
          'with `format=vtt`, the same as a WebVTT metadata track for `<track kind="metadata">` (one cue per placement, a JSON payload). ' +
          'No token needed and open to every origin. Cacheable: send the `ETag` back as `If-None-Match` to get 304 when it did not change. ' +
          '404 until the first file is written, and after the video is deleted.',
        params: IdParams,
        querystring: Type.Object({ format: Type.Optional(Type.Enum(['json', 'vtt'], { default: 'json', description: 'json (default) or vtt' })) }, { additionalProperties: false }),
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String({ description: 'The ETag you have: 304 if it is still current' })) }),
        response: {
          200: Type.Unknown({ description: 'The file: application/json, or text/vtt with format=vtt' }),
          304: Type.Null({ description: 'Not modified: the file you have is current' }),
          ...problems(400, 404, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const videoId = request.params.id;
      const file = files ? await files.read(videoId, () => load(videoId)) : await load(videoId);
      openToEveryOrigin(reply);
      if (!file) throw notFound('placement file', videoId);
      // A campaign date passed since the file was written: serve it, and have it renewed.
      renewIfExpired(file, request.id);
      const vtt = request.query.format === 'vtt';
      const etag = vtt ? file.vttEtag : file.jsonEtag;
      reply.header('etag', etag).header('cache-control', CACHE_CONTROL);
      // A 304 has no body (nor content-type/length): a client reads the headers and reuses what it has.
      if (matchesIfNoneMatch(request.headers['if-none-match'], etag)) return (reply.code(304) as FastifyReply).send();
      return reply.type(vtt ? VTT_TYPE : JSON_TYPE).send(vtt ? file.vtt : file.json);
    },
  );

  // The CORS preflight of a browser that sends If-None-Match itself.
  app.options(
    '/v1/videos/:id/placement-file',
    {
      schema: {
        tags, summary: 'CORS preflight of the placement file',
        description: 'Lets a page on any origin read the placement file with its own `If-None-Match` header: answers 204 with the CORS headers.',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Preflight accepted' }), ...problems(400, 404, 413, 415, 422, 429) },
      },
    },
    async (_request, reply) =>
      openToEveryOrigin(reply)
        .header('access-control-allow-methods', 'GET, HEAD')
        .header('access-control-allow-headers', 'if-none-match')
        .header('access-control-max-age', '86400')
        .code(204)
        .send(null),
  );

  app.get(
    PLACEMENT_FILE_SCHEMA_URL,
    {
      schema: {
        tags, summary: 'The JSON Schema of placement files',
        description: 'The JSON Schema (2020-12 compatible) that every placement file served as JSON follows. Public and open to every origin.',
        response: { 200: Type.Unknown({ description: 'A JSON Schema' }), ...problems(429) },
      },
    },
    async (_request, reply) => openToEveryOrigin(reply).header('cache-control', 'public, max-age=3600').send(PlacementFileSchema),
  );
};
