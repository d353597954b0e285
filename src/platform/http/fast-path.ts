/**
 * The fast path: a few public, cacheable GETs answered from memory before Fastify
 * routes them. Fastify's per-request work (request and reply objects, the router,
 * schema checks, hooks, the promise of an async handler) costs several times a bare
 * `node:http` answer; for a read the video SDK makes on every playback (the placement
 * file) that work decides the throughput. A feature registers a `FastRoute` on
 * `app.fastPath`; the HTTP server asks it first, and whatever it does not answer
 * (a cache miss, a malformed id or query, any other method, anything unusual) goes
 * through Fastify as before.
 *
 * What the kernel does to every routed response is done here too, the same way: the
 * request id (`x-request-id`, echoed when sane, `requestIdOf`), `Vary: Origin` when
 * CORS origins are configured (the kernel's CORS adds it to every response), the
 * request metrics under the route's pattern, and the one request log line. The
 * route's own headers come from its `FastRoute`. A fast route answers only what its
 * routed twin lets through the rate limiter uncounted (an answer from memory: see the
 * route's `allowList`), so neither path counts it nor adds rate-limit headers. The
 * fast path stands aside per request when the log line would need a client address
 * read through trusted proxies. While the app closes, requests are routed too
 * (Fastify answers 503).
 *
 * Requests made with `app.inject` (tests, the Lambda adapter) never reach the HTTP
 * server, so they always take the routed path: the routed path is the reference the
 * fast path is tested against (test/http/fast-path.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Routes answered before routing (see platform/http/fast-path.ts). */
    fastPath: FastPath;
  }
}

/** What a fast route answers: its status, its own headers (content type, ETag, caching, CORS) and body. */
export interface FastAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  body?: Buffer;
}

export interface FastRoute {
  /** The route's pattern, as the metrics label routed requests (`/v1/videos/:id/placement-file`). */
  url: string;
  /**
   * The answer to a GET of `path` (`query` without its `?`), exactly as the routed
   * handler would give it, or undefined to leave the request to the router. Only
   * answers the rate limiter would let through uncounted (see above).
   */
  answer(request: IncomingMessage, path: string, query: string): FastAnswer | undefined;
}

export interface FastPathOptions {
  logger: Logger;
  metrics?: Metrics;
  /** The kernel answers with `Vary: Origin` when CORS origins are configured. */
  corsOrigins: readonly string[];
  /** Client addresses come through trusted proxies: the log line's address is the router's to work out. */
  trustsProxies: boolean;
}

const REQUEST_ID = /^[\w\-.:]{1,128}$/;

/** The request id: a sane client-sent `x-request-id`, otherwise a new one (routed and fast requests alike). */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The options Fastify hands a server factory that shape its HTTP server (lib/server.js does the same without one). */
interface ServerShape {
  http?: object;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number | null;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export class FastPath {
  readonly #routes: FastRoute[] = [];
  #open = true;
  /** Requests answered here (the rest were routed). */
  answered = 0;

  constructor(private readonly options: FastPathOptions) {}

  /** Registers a route (a feature, from its routes plugin). */
  add(route: FastRoute): void {
    this.#routes.push(route);
  }

  /** From now on every request is routed (the app is closing). */
  close(): void {
    this.#open = false;
  }

  /**
   * Fastify's `serverFactory`: the HTTP server Fastify would make, with this path
   * asked first. Called again for each further address Fastify binds.
   */
  serverFactory(): (handler: Handler, shape: Record<string, unknown>) => Server {
    return (routed, shape) => {
      const opts = shape as ServerShape;
      const server = createServer(opts.http ?? {}, (request, response) => {
        if (!this.#answer(request, response)) routed(request, response);
      });
      if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
      if (opts.requestTimeout !== undefined) server.requestTimeout = opts.requestTimeout;
      server.setTimeout(opts.connectionTimeout ?? 0);
      if (opts.maxRequestsPerSocket) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
      return server;
    };
  }

  /** Answers the request when a fast route does; false leaves it to the router. */
  #answer(request: IncomingMessage, response: ServerResponse): boolean {
    if (!this.#open || request.method !== 'GET' || this.#routes.length === 0) return false;
    const started = performance.now();
    const logs = this.options.logger.isLevelEnabled('info');
    if (logs && this.options.trustsProxies) return false;
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const query = mark < 0 ? '' : url.slice(mark + 1);
    for (const route of this.#routes) {
      const answer = route.answer(request, path, query);
      if (!answer) continue;
      const id = requestIdOf(request);
      const headers: Record<string, string> = { 'x-request-id': id };
      if (this.options.corsOrigins.length > 0) headers.vary = 'Origin';
      Object.assign(headers, answer.headers);
      if (answer.body !== undefined) headers['content-length'] = String(answer.body.length);
      response.writeHead(answer.status, headers);
      response.end(answer.body);
      this.answered++;
      this.#record(route, request, answer.status, started, id, logs);
      return true;
    }
    return false;
  }

  #record(route: FastRoute, request: IncomingMessage, status: number, started: number, id: string, logs: boolean): void {
    const elapsedMs = performance.now() - started;
    const metrics = this.options.metrics;
    if (metrics) {
      const labels = { method: 'GET', route: route.url, status: String(status) };
      metrics.httpRequests.inc(labels);
      metrics.httpSeconds.observe(labels, elapsedMs / 1000);
    }
    if (logs) {
      this.options.logger
        .child({ reqId: id })
        .info({ method: 'GET', url: request.url, status, ms: Math.round(elapsedMs * 10) / 10, ip: request.socket.remoteAddress }, 'request completed');
    }
  }
}
