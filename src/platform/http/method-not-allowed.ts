/**
 * The methods each known path answers, so that a request for a known path with
 * another method gets `405` with `Allow` (RFC 9110) instead of a 404. Register
 * before the routes: it collects them as they are added.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The methods `path` answers (sorted), or none when no route has this path. */
    allowedMethods: (path: string) => string[];
  }
}

interface KnownPath {
  pattern: RegExp;
  methods: Set<string>;
}

/** `/v1/videos/:id/placements` → a pattern that matches `/v1/videos/<anything but a slash>/placements`. */
function patternOf(url: string): RegExp {
  const source = url
    .split(/(:[^/]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/** A catch-all (the CORS preflight route) says nothing about which paths exist. */
const isCatchAll = (url: string): boolean => url === '*' || url === '/*';

export const methodNotAllowed = fp(
  async (app: FastifyInstance) => {
    const known = new Map<string, KnownPath>();
    app.addHook('onRoute', (route) => {
      if (isCatchAll(route.url)) return;
      const entry = known.get(route.url) ?? { pattern: patternOf(route.url), methods: new Set<string>() };
      for (const method of [route.method].flat()) entry.methods.add(method);
      known.set(route.url, entry);
    });
    app.decorate('allowedMethods', (path: string) => {
      const methods = new Set<string>();
      for (const { pattern, methods: of } of known.values()) if (pattern.test(path)) for (const method of of) methods.add(method);
      return [...methods].sort();
    });
  },
  { name: 'method-not-allowed' },
);
