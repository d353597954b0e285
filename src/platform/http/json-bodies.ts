/**
 * Request bodies are JSON: `application/json`, and on PATCH also
 * `application/merge-patch+json` (RFC 7386, which is what our partial updates
 * are). Any other content type is 415. An empty body is fine where the route takes
 * none, such as a DELETE sent with a JSON content type.
 */
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

export const JSON_TYPE = 'application/json';
export const MERGE_PATCH_TYPE = 'application/merge-patch+json';

const isMergePatch = (request: FastifyRequest): boolean => String(request.headers['content-type']).trim().toLowerCase().startsWith(MERGE_PATCH_TYPE);
const takesNoBody = (request: FastifyRequest): boolean => request.routeOptions.schema?.body === undefined;

export function jsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([JSON_TYPE, MERGE_PATCH_TYPE], { parseAs: 'string' }, (request, body, done) => {
    if (isMergePatch(request) && request.method !== 'PATCH') return done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
    if (body === '' && takesNoBody(request)) return done(null, undefined);
    parseJson(request, body.toString(), done);
  });
}
