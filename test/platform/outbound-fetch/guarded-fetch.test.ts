import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config/config.js';
import { outboundFetchFromConfig } from '../../../src/platform/outbound-fetch/create-outbound-fetch.js';
import {
  AddressRefusedError,
  FetchTimeoutError,
  ResponseTooLargeError,
  SchemeRefusedError,
  TooManyRedirectsError,
} from '../../../src/platform/outbound-fetch/fetch-errors.js';
import { createOutboundFetch } from '../../../src/platform/outbound-fetch/guarded-fetch.js';
import type { OutboundFetch } from '../../../src/platform/outbound-fetch/guarded-fetch.js';
import { configErrorOf } from '../../support/config-error.js';
import { startTestServer } from './fetch-test-server.js';
import type { TestServer } from './fetch-test-server.js';

let server: TestServer;
const fetches: OutboundFetch[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const f of fetches) await f.close();
  await server.close();
});

/** Names only these tests know, answered without DNS. */
const names: Record<string, LookupAddress[]> = {
  'other.test': [{ address: '127.0.0.1', family: 4 }],
  'mixed.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '127.0.0.1', family: 4 },
  ],
};
const testResolve = async (host: string): Promise<LookupAddress[]> => {
  const found = names[host];
  if (!found) throw Object.assign(new Error(`unknown test name ${host}`), { code: 'ENOTFOUND' });
  return found;
};

function guarded(allowHosts: string[], extra: Partial<Parameters<typeof createOutboundFetch>[0]> = {}): OutboundFetch {
  const f = createOutboundFetch({ allowHosts, httpsOnly: false, ...extra });
  fetches.push(f);
  return f;
}

async function refusal(promise: Promise<unknown>): Promise<AddressRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AddressRefusedError);
  return error as AddressRefusedError;
}

describe('SSRF-guarded outbound fetch', () => {
  it('fetches from a host on the allow-list, and follows a redirect there', async () => {
    const fetch = guarded(['127.0.0.1']);
    const answer = await fetch(`${server.origin}/ok`);
    expect([answer.status, await answer.text(), answer.url]).toEqual([200, 'hello', `${server.origin}/ok`]);
    const redirected = await fetch(`${server.origin}/to-ok`);
    expect([redirected.status, await redirected.text(), redirected.url]).toEqual([200, 'hello', `${server.origin}/ok`]);
    const seeOther = await fetch(`${server.origin}/see-other`, { method: 'POST', body: 'x' });
    expect(await seeOther.text()).toBe('hello');
    expect(server.hits.at(-1)).toMatchObject({ path: '/ok', method: 'GET' });
  });

  it('refuses loopback, private, link-local, unique-local, CGNAT and metadata addresses before connecting', async () => {
    const fetch = guarded([]);
    const before = server.hits.length;
    const cases: [string, string, string][] = [
      [`http://127.0.0.1:${server.port}/ok`, '127.0.0.1', 'loopback'],
      [`http://[::1]:${server.port}/ok`, '::1', 'loopback'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'cloud-metadata'],
      ['http://10.0.0.1/', '10.0.0.1', 'private'],
      ['http://[fd00::1]/', 'fd00::1', 'unique-local'],
      ['http://100.64.0.1/', '100.64.0.1', 'carrier-grade-nat'],
      ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1', 'loopback'],
      ['http://0.0.0.0/', '0.0.0.0', 'unspecified'],
      ['http://2130706433/', '127.0.0.1', 'loopback'],
    ];
    for (const [url, address, rule] of cases) {
      const error = await refusal(fetch(url));
      expect({ address: error.address, rule: error.rule }, url).toEqual({ address, rule });
      expect(error.message).toContain(address);
    }
    expect(server.hits.length).toBe(before);
  });

  it('refuses a host name that resolves to loopback', async () => {
    const before = server.hits.length;
    const error = await refusal(guarded([])(`http://localhost:${server.port}/ok`));
    expect(error).toMatchObject({ host: 'localhost', rule: 'loopback' });
    expect(['127.0.0.1', '::1']).toContain(error.address);
    expect(server.hits.length).toBe(before);
  });

  it('checks every address a name resolves to, and connects to the address it checked', async () => {
    const error = await refusal(guarded([], { resolve: testResolve })(`http://mixed.test:${server.port}/ok`));
    expect(error).toMatchObject({ host: 'mixed.test', address: '127.0.0.1', rule: 'loopback' });
    // other.test exists only for the guard's resolver: reaching the server proves the socket used its answer.
    const answer = await guarded(['other.test'], { resolve: testResolve })(`http://other.test:${server.port}/ok`);
    expect(await answer.text()).toBe('hello');
  });

  it('checks every redirect hop', async () => {
    const fetch = guarded(['127.0.0.1']);
    const okHits = () => server.hits.filter((h) => h.path === '/ok').length;
    const before = okHits();
    const toLoopback = await refusal(fetch(`${server.origin}/to-loopback-2`));
    expect(toLoopback).toMatchObject({ address: '127.0.0.2', rule: 'loopback' });
    const toLocalhost = await refusal(fetch(`${server.origin}/to-localhost`));
    expect(toLocalhost).toMatchObject({ host: 'localhost', rule: 'loopback' });
    expect(await refusal(fetch(`${server.origin}/to-metadata`))).toMatchObject({ rule: 'cloud-metadata' });
    expect(okHits()).toBe(before);
  });

  it('stops after the redirect limit', async () => {
    const error = await guarded(['127.0.0.1'], { maxRedirects: 3 })(`${server.origin}/loop`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRedirectsError);
    expect(server.hits.filter((h) => h.path === '/loop').length).toBeGreaterThanOrEqual(4);
  });

  it('drops credentials on a redirect to another origin', async () => {
    const fetch = guarded(['127.0.0.1', 'other.test'], { resolve: testResolve });
    const answer = await fetch(`${server.origin}/to-other-name`, { headers: { authorization: 'Bearer secret' } });
    expect(JSON.parse(await answer.text())).toEqual({ authorization: null });
    expect(server.hits.find((h) => h.path === '/to-other-name')?.authorization).toBe('Bearer secret');
  });

  it('caps the response size, declared or not', async () => {
    const fetch = guarded(['127.0.0.1'], { maxResponseBytes: 1024 * 1024 });
    await expect(fetch(`${server.origin}/big-declared`)).rejects.toBeInstanceOf(ResponseTooLargeError);
    const chunked = await fetch(`${server.origin}/big-chunked`);
    await expect(chunked.bytes()).rejects.toBeInstanceOf(ResponseTooLargeError);
    const small = await fetch(`${server.origin}/big-chunked`, { maxResponseBytes: 4 * 1024 * 1024 }).catch((e: unknown) => e);
    // A fetch may only tighten the process's limit.
    await expect((small as { bytes(): Promise<Buffer> }).bytes()).rejects.toBeInstanceOf(ResponseTooLargeError);
  });

  it('bounds the whole fetch, body included, by its timeout', async () => {
    const started = Date.now();
    const fetch = guarded(['127.0.0.1'], { timeoutMs: 500 });
    const answer = await fetch(`${server.origin}/trickle`);
    await expect(answer.bytes()).rejects.toBeInstanceOf(FetchTimeoutError);
    expect(Date.now() - started).toBeLessThan(20_000);
    const streamed = await fetch(`${server.origin}/trickle`);
    const read = async () => {
      for await (const _chunk of streamed.body) void _chunk;
    };
    await expect(read()).rejects.toBeInstanceOf(FetchTimeoutError);
  });

  it('fetches https only in production, and never other schemes', async () => {
    const production = outboundFetchFromConfig(loadConfig({ NODE_ENV: 'production', FETCH_ALLOW_HOSTS: '127.0.0.1' }));
    fetches.push(production);
    await expect(production(`${server.origin}/ok`)).rejects.toBeInstanceOf(SchemeRefusedError);
    const development = outboundFetchFromConfig(loadConfig({ FETCH_ALLOW_HOSTS: '127.0.0.1' }));
    fetches.push(development);
    expect((await development(`${server.origin}/ok`)).status).toBe(200);
    expect(loadConfig({ FETCH_ALLOW_HOSTS: 'Media.Example.com, 10.0.0.5,::1,[fd00::1]' }).fetchAllowHosts).toEqual(['media.example.com', '10.0.0.5', '::1', '[fd00::1]']);
    for (const entry of ['https://media.example.com', 'media.example.com:8080', 'media.example.com/videos', '*.example.com']) {
      expect(configErrorOf({ FETCH_ALLOW_HOSTS: entry }).variable, entry).toBe('FETCH_ALLOW_HOSTS');
    }
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/', 'gopher://127.0.0.1/', 'not a url']) {
      await expect(development(url), url).rejects.toBeInstanceOf(SchemeRefusedError);
    }
  });
});
