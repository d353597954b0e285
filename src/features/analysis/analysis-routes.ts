/** `POST /v1/analyze` and `GET /v1/videos/{id}/transcript`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FeatureContext } from '../../platform/http/feature-routes.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { IdParams, IdempotencyHeaders, VideoSchema, commandOf, problems, videoJson } from '../catalog/index.js';
import { getTranscript, requestAnalysis } from './analysis-use-cases.js';
import { AnalyzeBody, TranscriptQuery, TranscriptSchema, transcriptJson, transcriptVtt } from './analysis-schemas.js';

const security = [{ bearerAuth: [] }];

export const analysisRoutes: FastifyPluginAsyncTypebox<FeatureContext> = async (app, { database }) => {
  const deps = { db: database.db };

  app.post(
    '/v1/analyze',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['analysis'], security, summary: 'Analyse a video from its URL',
        description:
          'Makes a video you own from a page URL (read with yt-dlp) or a media URL and answers 202 with its `Location`; ' +
          'poll it: `analysis_status` goes `queued` → `processing` → `completed` (with `duration` and a transcript at ' +
          '`/v1/videos/{id}/transcript`) or `failed` (with `failure_reason`), and `analysis_progress` goes 0 → 100. ' +
          'Asking again for the same URL while your analysis of it runs answers the same video (nothing is downloaded twice). ' +
          'With `Idempotency-Key`, a retry replays the first response (the same 202 and `Location`) for 24 h, even once that ' +
          'analysis has ended; the same key with another body is 422, and 409 while the first request still runs. ' +
          'Conventions: problem+json errors; creators and admins only.',
        headers: IdempotencyHeaders,
        body: AnalyzeBody,
        response: { 202: VideoSchema, ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      // commandOf: with an Idempotency-Key, the request runs in the key's transaction, committed with its stored response.
      const { video } = await requestAnalysis(commandOf(deps, request), request.body);
      reply.code(202).header('location', `/v1/videos/${video.id}`);
      return videoJson(video);
    },
  );

  app.get(
    '/v1/videos/:id/transcript',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['analysis', 'videos'], security, summary: "Read a video's transcript",
        description:
          'The text and timed segments (with word timings) of an analysed video; `?format=vtt` answers the same as WebVTT captions. ' +
          '404 until the analysis has completed, and for a video you may not see. Conventions: problem+json errors.',
        params: IdParams, querystring: TranscriptQuery,
        response: {
          200: { description: 'The transcript (JSON), or WebVTT captions with `format=vtt`', content: { 'application/json': { schema: TranscriptSchema }, 'text/vtt': { schema: Type.String() } } },
          ...problems(400, 401, 404, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const transcript = await getTranscript(deps, actorOf(request), request.params.id);
      if (request.query.format === 'vtt') return reply.type('text/vtt; charset=utf-8').send(transcriptVtt(transcript));
      return reply.type('application/json; charset=utf-8').send(transcriptJson(transcript));
    },
  );
};
