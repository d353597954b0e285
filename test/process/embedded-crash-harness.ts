/**
 * Crash harness of the embedded service, shared by test/process/embedded-crash.test.ts
 * (quick) and `npm run bench:embedded-crash` (long). The real service runs on a PGlite
 * `DATA_DIR`; writers create placements through the API at full speed while the service
 * is killed with SIGKILL at a random moment, then restarted on the same directory, again
 * and again. At the end, once the outbox and the consumers' queues are empty, the service
 * stops and the directory is opened directly to check that every placement that got its
 * 201 is there, and that every committed placement event reached the read-model projector
 * exactly once.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventTypes } from '../../src/features/catalog/index.js';
import { openDevIssuer } from '../../src/platform/auth/dev-issuer.js';
import { openPglite } from '../../src/platform/db/connect.js';
import { placementDetailsProjector } from '../../src/features/catalog/placements/placement-details-projector.js';
import { startService, type ServiceProcess } from '../support/service-process.js';

export interface EmbeddedCrashOptions {
  dataDir: string;
  kills: number;
  /** Concurrent writers. */
  writers: number;
  /** Each kill comes this long (ms, uniformly random) after the writers start. */
  killAfterMs: [number, number];
  log?: (line: string) => void;
}

export interface EmbeddedCrashResult {
  kills: number;
  restarts: number;
  /** Restart times, SIGKILL to /health/ready (ms). */
  restartMs: number[];
  acknowledged: number;
  /** Acknowledged placements missing from the database (must be 0). */
  lost: number;
  /** Placements in the database (acknowledged, plus some committed whose answer the kill cut). */
  stored: number;
  /** Placement-created events in the log without their projection (must be 0). */
  unprojected: number;
  /** Placement-created events the projector's inbox does not record as processed (must be 0). */
  undelivered: number;
  /** Placements with more than one created event (must be 0). */
  doubled: number;
  deadLetters: number;
  /** Error lines the service logged (pino level 50 and up), for a look when a check fails. */
  errors: string[];
}

const ID = /"id":"([0-9a-f-]{36})"/;

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Waits until the relay has published everything and no delivery waits for a consumer. */
async function drained(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await metric(url, 'nedlia_outbox_backlog')) === 0 && (await metric(url, 'nedlia_consumer_queue_depth')) === 0) return;
    await sleep(200);
  }
  throw new Error('the outbox or a consumer queue did not drain');
}

export async function runEmbeddedCrash(options: EmbeddedCrashOptions): Promise<EmbeddedCrashResult> {
  const log = options.log ?? (() => undefined);
  const env = { DATA_DIR: options.dataDir, AUTH_DEV_ISSUER: '1', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '0' };
  let service: ServiceProcess = await startService(env, 120_000);
  const issuer = await openDevIssuer(options.dataDir, { create: false });
  const admin = await issuer.mint({ userId: randomUUID(), roles: ['admin'] });
  const creator = await issuer.mint({ userId: randomUUID(), roles: ['creator'] });
  const post = async (path: string, token: string, body: unknown): Promise<string> => {
    const res = await fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${text}`);
    return ID.exec(text)?.[1] as string;
  };
  const advertiserId = await post('/v1/advertisers', admin, { name: 'Crash Test Drinks', contact_email: 'crash@drinks.example' });
  const productId = await post('/v1/products', admin, { advertiser_id: advertiserId, name: 'Crash Cola' });
  const videoId = await post('/v1/videos', creator, { title: 'Crash test', duration: 3600 });

  const errors: string[] = [];
  const collectErrors = (output: string) => errors.push(...output.split('\n').filter((line) => /^\{"level":(5|6)\d/.test(line)));
  const acknowledged = new Set<string>();
  const restartMs: number[] = [];
  for (let kill = 1; kill <= options.kills; kill++) {
    let running = true;
    const writer = async (n: number) => {
      for (let i = 0; running; i++) {
        try {
          const start = (n * 1000 + i) % 3500;
          acknowledged.add(await post('/v1/placements', creator, { video_id: videoId, product_id: productId, start_time: start, end_time: start + 5 }));
        } catch {
          return; // the kill cut this request: its outcome is unknown, and it is not counted
        }
      }
    };
    const writing = Array.from({ length: options.writers }, (_, n) => writer(n));
    const [low, high] = options.killAfterMs;
    await sleep(low + Math.random() * (high - low));
    const killedAt = performance.now();
    service.child.kill('SIGKILL');
    await service.exit;
    collectErrors(service.output());
    running = false;
    await Promise.all(writing);
    service = await startService(env, 120_000);
    restartMs.push(Math.round(performance.now() - killedAt));
    log(`kill ${kill}/${options.kills}: ${acknowledged.size} acknowledged so far, back in ${restartMs.at(-1)} ms`);
  }

  await drained(service.url);
  service.child.kill('SIGTERM');
  if ((await service.exit) !== 0) throw new Error(`the service did not stop cleanly:\n${service.output()}`);
  collectErrors(service.output());

  const handle = await openPglite({ dataDir: `${options.dataDir}/pgdata` });
  try {
    const { db } = handle;
    const stored = new Set((await db.selectFrom('placements').select('id').where('video_id', '=', videoId).execute()).map((r) => r.id));
    const events = await db.selectFrom('event_log').select(['id', 'aggregate_id']).where('event_type', '=', EventTypes.placementCreated).execute();
    const projected = new Set((await db.selectFrom('placement_details').select('placement_id').execute()).map((r) => r.placement_id));
    const processed = new Set(
      (await db.selectFrom('consumer_inbox').select('event_id').where('consumer', '=', placementDetailsProjector.name).execute()).map((r) => r.event_id),
    );
    const perPlacement = new Map<string, number>();
    for (const e of events) perPlacement.set(e.aggregate_id, (perPlacement.get(e.aggregate_id) ?? 0) + 1);
    const deadLetters = await db.selectFrom('dead_letters').select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return {
      kills: options.kills,
      restarts: restartMs.length,
      restartMs,
      acknowledged: acknowledged.size,
      lost: [...acknowledged].filter((id) => !stored.has(id)).length,
      stored: stored.size,
      unprojected: events.filter((e) => !projected.has(e.aggregate_id)).length,
      undelivered: events.filter((e) => !processed.has(e.id)).length,
      doubled: [...perPlacement.values()].filter((n) => n > 1).length,
      deadLetters: Number(deadLetters.n),
      errors,
    };
  } finally {
    await handle.close();
  }
}
