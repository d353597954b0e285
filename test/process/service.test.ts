import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { engine } from '../support/engine.js';
import { spawnService, startService, useServiceEnvironment } from '../support/service-process.js';

const environment = useServiceEnvironment();

describe(`the service process (${engine})`, () => {
  it('starts, answers, and on SIGTERM drains and exits cleanly', async () => {
    const service = await startService(environment.env());
    const res = await fetch(`${service.url}/health/ready`);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toBeTruthy();

    service.child.kill('SIGTERM');
    expect(await service.exit).toBe(0);
    const lines = service
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; engine?: string });
    expect(lines.find((l) => l.msg === 'nedlia is ready')?.engine).toBe(engine);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down: draining requests', 'stopped']));
    // The port is closed after shutdown.
    await expect(fetch(`${service.url}/health/live`)).rejects.toThrow();
  });

  it('finishes a request that is in flight when SIGTERM arrives', async () => {
    const service = await startService(environment.env());
    const { port } = new URL(service.url);
    // A request whose body is still arriving when the signal comes.
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/slow-upload', headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"part":');
      setTimeout(() => {
        service.child.kill('SIGTERM');
        setTimeout(() => req.end('1}'), 500);
      }, 200);
    });
    const { status, body } = await response;
    expect(status).toBe(404);
    expect(JSON.parse(body)).toMatchObject({ status: 404, code: 'ROUTE.NOT_FOUND' });
    expect(await service.exit).toBe(0);
  });

  it('refuses a bad configuration with one line naming the variable', async () => {
    const service = spawnService('src/entry/main.ts', { ...environment.env(), PORT: 'eighty' });
    expect(await service.exit).toBe(1);
    expect(service.output().trim()).toBe('configuration error: PORT: expected an integer from 0 to 65535, got "eighty"');
  });
});
