/**
 * The three ways to run: `npm start` (API + relay + consumers, embedded or not),
 * `npm run api` and `npm run worker` as separate processes on one PostgreSQL database.
 * Processes are real children (`node --import tsx src/entry/main.ts [mode]`), stopped with
 * SIGTERM, which drains.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents } from '../../src/platform/events/event-log.js';
import type { TestDatabase } from '../support/engine.js';
import { freePort, startService } from '../support/service-process.js';
import { eventually, openPostgresDatabase, placementCreated } from './support.js';

let postgres: TestDatabase;
let dataDir: string;
beforeAll(async () => {
  postgres = await openPostgresDatabase();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'nedlia-events-'));
});
afterAll(async () => {
  await postgres?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function spawnMode(mode: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry/main.ts', mode], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, exit, output: () => output, lines };
}

describe('processes', () => {
  it('npm start (embedded PGlite) runs API, relay and every consumer, and drains on SIGTERM', async () => {
    const service = await startService({ DATA_DIR: dataDir });
    try {
      const ready = await fetch(`${service.url}/health/ready`);
      expect(await ready.json()).toMatchObject({ checks: { database: 'ok', bus: 'ok' } });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain('nedlia_consumer_queue_depth{consumer="placement-details-projector"}');
    } finally {
      service.child.kill('SIGTERM');
    }
    expect(await service.exit).toBe(0);
    const lines = service.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'event processing started')).toMatchObject({ bus: 'postgres', relay: true, consumers: expect.arrayContaining(['placement-details-projector', 'notifier', 'campaign-matcher', 'video-analyser', 'video-assets-cleaner']) });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['outbox relay is active', 'shutting down: draining requests', 'stopped']));
  }, 90_000);

  it('npm run api and npm run worker share one PostgreSQL database: the worker relays and projects', async () => {
    const url = postgres.url as string;
    const port = await freePort();
    const metricsPort = await freePort();
    const apiMetricsPort = await freePort();
    const api = spawnMode('api', { DATABASE_URL: url, HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(apiMetricsPort) });
    const worker = spawnMode('worker', { DATABASE_URL: url, HOST: '127.0.0.1', CONSUMERS: 'placement-details-projector', METRICS_PORT: String(metricsPort) });
    try {
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200, 60_000, 'api ready');
      await eventually(async () => worker.output().includes('nedlia worker is ready'), 60_000, 'worker ready');
      const event = placementCreated(undefined, 'corr-process-test');
      await postgres.db.transaction().execute((tx) => insertEvents(tx, [event]));
      await eventually(
        () => postgres.db.selectFrom('placement_details').select('placement_id').where('placement_id', '=', event.subject).executeTakeFirst(),
        20_000,
        'the worker projected the event',
      );
      await eventually(async () => worker.lines().some((l) => l.msg === 'event handled' && l.event_id === event.id), 5000, 'log line');
      expect(worker.lines().find((l) => l.msg === 'event handled' && l.event_id === event.id)).toMatchObject({
        consumer: 'placement-details-projector',
        correlation_id: 'corr-process-test',
      });
      // The worker's own /metrics counts what it handled; readiness checks its bus.
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toContain('nedlia_consumer_processed_total{consumer="placement-details-projector"} 1');
      expect(await (await fetch(`http://127.0.0.1:${metricsPort}/health/ready`)).json()).toMatchObject({ checks: { bus: 'ok' } });
      // With METRICS_PORT the API serves /metrics there, counting its public requests, and not on its public port.
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      const apiMetrics = await (await fetch(`http://127.0.0.1:${apiMetricsPort}/metrics`)).text();
      expect(apiMetrics).toContain('nedlia_http_requests_total{method="GET",route="/health/ready",status="200"}');
      expect(apiMetrics).toContain('nedlia_http_requests_total{method="GET",route="unmatched",status="404"} 1');
      expect((await fetch(`http://127.0.0.1:${apiMetricsPort}/health/live`)).status).toBe(200);
      // The API process runs no consumer and no relay.
      expect(api.lines().find((l) => l.msg === 'event processing started')).toMatchObject({ relay: false, consumers: [] });
    } finally {
      api.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
    }
    expect(await api.exit).toBe(0);
    expect(await worker.exit).toBe(0);
    expect(worker.lines().map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down: draining deliveries', 'stopped']));
  }, 120_000);

  it('refuses an unknown consumer name in CONSUMERS', async () => {
    const worker = spawnMode('worker', { DATABASE_URL: postgres.url as string, CONSUMERS: 'no-such-consumer' });
    const code = await Promise.race([worker.exit, sleep(60_000).then(() => 'timeout')]);
    expect(code).toBe(1);
    expect(worker.output()).toContain('CONSUMERS names unknown consumers: no-such-consumer');
  }, 70_000);
});
