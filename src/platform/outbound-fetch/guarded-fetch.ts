/**
 * The one way the service fetches a URL it was given (videos to analyse, webhook
 * targets): every hop's address is checked (`address-policy.ts`) unless its host is
 * allowed by name, redirects are followed here (never by the HTTP client) so that
 * each hop is checked, only `https` in production, and every fetch is bounded in
 * time (whole exchange, body included) and in response size.
 */
import net from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { cappedBody } from './capped-body.js';
import { FetchTimeoutError, OutboundFetchError, ResponseTooLargeError, SchemeRefusedError, TooManyRedirectsError } from './fetch-errors.js';
import { checkAddresses, guardedLookup, normalizeHost, systemResolve } from './guarded-lookup.js';
import type { Resolve } from './guarded-lookup.js';

export interface OutboundFetchOptions {
  /** Hosts fetched whatever they resolve to (exact names or addresses, case-insensitive). */
  allowHosts: readonly string[];
  /** Refuse `http:` (production). */
  httpsOnly: boolean;
  timeoutMs?: number;
  maxResponseBytes?: number;
  maxRedirects?: number;
  /** DNS resolution; the system resolver by default. */
  resolve?: Resolve;
}

export interface FetchRequest {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Tighter bounds for this fetch. */
  timeoutMs?: number;
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

export interface FetchResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The URL that answered, after redirects. */
  url: string;
  /** Size-capped; fails with `ResponseTooLargeError` or `FetchTimeoutError`. */
  body: Readable;
  bytes(): Promise<Buffer>;
  text(): Promise<string>;
}

export interface OutboundFetch {
  (url: string, init?: FetchRequest): Promise<FetchResponse>;
  close(): Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

export function createOutboundFetch(options: OutboundFetchOptions): OutboundFetch {
  const allowed = new Set(options.allowHosts.map(normalizeHost));
  const isAllowed = (host: string) => allowed.has(normalizeHost(host));
  const agent = new Agent({ connect: { lookup: guardedLookup(options.resolve ?? systemResolve, isAllowed) } });
  const protocols = options.httpsOnly ? ['https:'] : ['https:', 'http:'];
  const maxRedirects = options.maxRedirects ?? 5;

  /** What can be decided from the URL alone: its scheme, and its address when the host is one. */
  function checkHop(url: URL): void {
    if (!protocols.includes(url.protocol)) throw new SchemeRefusedError(url.href, protocols);
    const host = normalizeHost(url.hostname);
    const family = net.isIP(host);
    if (family !== 0 && !isAllowed(host)) checkAddresses(host, [{ address: host, family }]);
  }

  async function send(start: URL, init: FetchRequest, signal: AbortSignal): Promise<{ url: URL; answer: Dispatcher.ResponseData }> {
    let url = start;
    let method = init.method ?? 'GET';
    let body = init.body;
    const headers = { ...init.headers };
    for (let hop = 0; ; hop++) {
      checkHop(url);
      const answer = await request(url, { dispatcher: agent, method, headers, body, signal });
      const location = answer.headers.location;
      if (!REDIRECTS.has(answer.statusCode) || typeof location !== 'string') return { url, answer };
      await answer.body.dump();
      if (hop >= maxRedirects) throw new TooManyRedirectsError(url.href, maxRedirects);
      const next = new URL(location, url);
      if (answer.statusCode === 303 || ((answer.statusCode === 301 || answer.statusCode === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      if (next.origin !== url.origin) for (const name of Object.keys(headers)) if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) delete headers[name];
      url = next;
    }
  }

  const fetch = async (target: string, init: FetchRequest = {}): Promise<FetchResponse> => {
    let start: URL;
    try {
      start = new URL(target);
    } catch {
      throw new SchemeRefusedError(String(target), protocols);
    }
    const timeoutMs = Math.min(init.timeoutMs ?? Infinity, options.timeoutMs ?? 30_000);
    const maxBytes = Math.min(init.maxResponseBytes ?? Infinity, options.maxResponseBytes ?? 50 * 1024 * 1024);
    const timeout = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      timeout.abort(new FetchTimeoutError(start.href, timeoutMs));
    }, timeoutMs);
    const signal = init.signal ? AbortSignal.any([timeout.signal, init.signal]) : timeout.signal;
    const failure = (error: unknown): unknown => {
      if (timedOut) return new FetchTimeoutError(start.href, timeoutMs);
      for (let e = error as { cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
        if (e instanceof OutboundFetchError) return e;
      }
      return error;
    };
    try {
      const { url, answer } = await send(start, init, signal);
      const length = Number(answer.headers['content-length']);
      if (Number.isFinite(length) && length > maxBytes) {
        answer.body.destroy();
        throw new ResponseTooLargeError(url.href, maxBytes);
      }
      const body = pipeline(answer.body, cappedBody(url.href, maxBytes), () => clearTimeout(timer));
      const readAll = () => buffer(body).catch((error: unknown) => Promise.reject(failure(error)));
      return {
        status: answer.statusCode,
        headers: answer.headers,
        url: url.href,
        body,
        bytes: readAll,
        text: async () => (await readAll()).toString('utf8'),
      };
    } catch (error) {
      clearTimeout(timer);
      throw failure(error);
    }
  };
  return Object.assign(fetch, { close: () => agent.close() });
}
