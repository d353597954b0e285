/**
 * The route table: every route as it is registered, with whether it needs a bearer
 * token. Tests walk it (tenancy, fuzzing), so a new route is covered without
 * anyone remembering to list it. Register before the routes.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface RouteEntry {
  method: string;
  /** Fastify's pattern, e.g. `/v1/placements/:id`. */
  url: string;
  /** `bearer`: the route runs `app.authenticate` first, or documents a bearer `security` requirement. */
  auth: 'bearer' | 'none';
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteEntry[];
  }
}

export const routeTable = fp(
  async (app: FastifyInstance) => {
    const table: RouteEntry[] = [];
    app.decorate('routeTable', table);
    app.addHook('onRoute', (route) => {
      const hooks = [route.onRequest ?? []].flat();
      const secured = Array.isArray(route.schema?.security) && route.schema.security.length > 0;
      const auth = hooks.includes(app.authenticate) || secured ? 'bearer' : 'none';
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') table.push({ method, url: route.url, auth });
      }
    });
  },
  { name: 'route-table', dependencies: ['authentication'] },
);
