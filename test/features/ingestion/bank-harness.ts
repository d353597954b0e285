/**
 * The bank test of ingestion, shared by test/features/ingestion/bank.test.ts (quick) and
 * `npm run bench:ingest-bank` (long): `campaigns` campaigns (one product and placement
 * each; CPM and CPC, a third of them with budgets the load crosses), `events` events
 * from `clients` concurrent clients, `duplicateShare` of them resent copies of events
 * already sent, while the process running the matcher is killed with SIGKILL `kills`
 * times and restarted. A client resends a request until it gets its 202 (a kill cuts
 * some answers). Afterwards, for every campaign: `spent` equals the sum of the charges
 * of its distinct events, each charge is the price (one partial charge at most, on the
 * campaign whose budget it exhausted), every event sent to a campaign that did not
 * complete was charged, `spent` never exceeds `budget`, and the stats agree with `spent`.
 *
 * `engine: 'pglite'`: the embedded service (API, relay, matcher in one process) on a
 * DATA_DIR, killed whole. `engine: 'postgres'`: an `api` and a `worker` process on
 * `databaseUrl`, the worker killed. `bus`: postgres or a broker.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { openDevIssuer } from '../../../src/platform/auth/dev-issuer.js';
import { openPglite, openPostgres } from '../../../src/platform/db/connect.js';
import type { Database } from '../../../src/platform/db/schema.js';
import { freePort, spawnService } from '../../support/processes.js';

export interface BankOptions {
  engine: 'pglite' | 'postgres';
  dataDir: string;
  databaseUrl?: string;
  bus: 'postgres' | 'nats' | 'redis' | 'rabbitmq';
  namespace?: string;
  campaigns: number;
  events: number;
  clients: number;
  duplicateShare: number;
  kills: number;
  log?: (line: string) => void;
}

export interface BankResult {
  sent: number;
  distinct: number;
  acknowledged: number;
  kills: number;
  campaigns: number;
  completed: number;
  /** Campaign ids whose checks failed, with why (must be empty). */
  failures: string[];
  /** Distinct acknowledged events missing from the dedup table or the raw table (must be 0). */
  lost: number;
  deadLetters: number;
  drainMs: number;
  errors: string[];
}

interface Proc {
  child: ReturnType<typeof spawnService>['child'];
  output(): string;
  exit: Promise<number | null>;
  url: string;
}

/** A process of the service; a worker answers /health on METRICS_PORT, which `url` then names. */
async function start(env: Record<string, string>, args: string[] = [], timeoutMs = 120_000): Promise<Proc> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const ports: Record<string, string> = args[0] === 'worker' ? { PORT: String(await freePort()), METRICS_PORT: String(port) } : { PORT: String(port) };
  const p = spawnService('src/entry/main.ts', { HOST: '127.0.0.1', ...ports, ...env }, args);
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void p.exit.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) return { ...p, url };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  p.child.kill('SIGKILL');
  throw new Error(`the service did not become ready:\n${p.output().slice(-3000)}`);
}

const ID = /"id":"([0-9a-f-]{36})"/;

export async function runBank(o: BankOptions): Promise<BankResult> {
  const log = o.log ?? (() => undefined);
  const base = {
    DATA_DIR: o.dataDir, AUTH_DEV_ISSUER: '1', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '0', INGEST_KEY_RATE_LIMIT_MAX: '0',
    EVENT_BUS: o.bus, BUS_NAMESPACE: o.namespace ?? `bank_${randomUUID().slice(0, 8)}`,
    ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl, DATABASE_POOL_SIZE: '10' } : {}),
  };
  const errors: string[] = [];
  const collect = (p: Proc) => errors.push(...p.output().split('\n').filter((line) => /^\{"level":(5|6)\d/.test(line)));
  // pglite: one process does everything; postgres: the API alone, and a worker to kill.
  // The API first: it makes the development issuer's key (and, embedded, the database).
  let api = await start(base, o.engine === 'postgres' ? ['api'] : []);
  const workerStarting = o.engine === 'postgres' ? start({ ...base, AUTH_DEV_ISSUER: '0' }, ['worker']) : undefined;
  const issuer = await openDevIssuer(o.dataDir, { create: false });
  const admin = await issuer.mint({ userId: randomUUID(), roles: ['admin'] });
  const creatorId = `creator-${randomUUID()}`;
  const creator = await issuer.mint({ userId: creatorId, roles: ['creator'] });
  const post = async (path: string, token: string, body: unknown): Promise<string> => {
    const res = await fetch(`${api.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${text}`);
    return ID.exec(text)?.[1] as string;
  };

  // The catalog: campaign i promotes product i, shown by placement i.
  const advertiserId = await post('/v1/advertisers', admin, { name: 'Bank', contact_email: 'bank@example.test' });
  const videoId = await post('/v1/videos', creator, { title: 'Bank', duration: 3600, status: 'ready' });
  const today = new Date();
  const day = (d: number) => new Date(today.getTime() + d * 86_400_000).toISOString().slice(0, 10);
  const perCampaign = (o.events * (1 - o.duplicateShare)) / o.campaigns;
  const placements: string[] = [];
  const campaignIds: string[] = [];
  for (let i = 0; i < o.campaigns; i++) {
    const product = await post('/v1/products', admin, { advertiser_id: advertiserId, name: `P${i}` });
    const cpm = i % 2 === 0;
    // Every third campaign gets about half of what its events would cost.
    const full = cpm ? perCampaign * 0.9 * 0.0033333 : perCampaign * 0.1 * 0.07;
    const budget = i % 3 === 0 ? Math.max(0.01, full / 2).toFixed(2) : '1000.00';
    campaignIds.push(await post('/v1/campaigns', admin, {
      advertiser_id: advertiserId, name: `C${i}`, budget, start_date: day(-5), end_date: day(5), status: 'active',
      product_ids: [product], pricing: cpm ? { model: 'cpm', rate: '3.3333' } : { model: 'cpc', rate: '0.07' },
    }));
    placements.push(await post('/v1/placements', creator, { video_id: videoId, product_id: product, start_time: i, end_time: i + 1 }));
  }
  const key = (await (await fetch(`${api.url}/v1/ingest-keys`, {
    method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ creator_id: creatorId }),
  })).json() as { key: string }).key;

  // The load: distinct events, and copies of events already sent.
  const sentEvents: { id: string; type: string; placement_id: string; video_id: string; occurred_at: string }[] = [];
  const acknowledged = new Set<string>();
  let sent = 0;
  let next = 0;
  const sendOne = async (events: unknown[]): Promise<void> => {
    const body = JSON.stringify(events.length === 1 ? events[0] : { events });
    for (let attempt = 0; attempt < 600; attempt++) {
      try {
        const res = await fetch(`${api.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-nedlia-key': key }, body });
        if (res.status === 202) {
          await res.text();
          for (const e of events as { id: string }[]) acknowledged.add(e.id);
          return;
        }
        if (res.status < 500) throw new Error(`POST /v1/events: ${res.status} ${await res.text()}`);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('POST /v1/events')) throw error;
      }
      await sleep(100);
    }
    throw new Error('an event batch was not acknowledged within a minute');
  };
  const client = async () => {
    while (next < o.events) {
      const size = Math.min(1 + Math.floor(Math.random() * 8), o.events - next);
      next += size;
      const events = [];
      for (let j = 0; j < size; j++) {
        if (sentEvents.length > 10 && Math.random() < o.duplicateShare) {
          events.push(sentEvents[Math.floor(Math.random() * sentEvents.length)]);
        } else {
          const i = Math.floor(Math.random() * o.campaigns);
          const e = { id: randomUUID(), type: Math.random() < 0.9 ? 'impression' : 'click', placement_id: placements[i] as string, video_id: videoId, occurred_at: new Date(Date.now() - 1000).toISOString() };
          sentEvents.push(e);
          events.push(e);
        }
      }
      sent += events.length;
      await sendOne(events);
    }
  };
  let worker = await workerStarting;
  const clients = Array.from({ length: o.clients }, () => client());
  const loadDone = Promise.all(clients);

  // The kills, spread over the load.
  for (let k = 1; k <= o.kills; k++) {
    const target = Math.floor((o.events * k) / (o.kills + 1));
    while (next < target) await sleep(20);
    if (o.engine === 'postgres' && worker) {
      worker.child.kill('SIGKILL');
      await worker.exit;
      collect(worker);
      worker = await start({ ...base, AUTH_DEV_ISSUER: '0' }, ['worker']);
    } else {
      api.child.kill('SIGKILL');
      await api.exit;
      collect(api);
      api = await start(base);
    }
    log(`kill ${k}/${o.kills} at ${next} events sent`);
  }
  await loadDone;
  log(`load done: ${sent} sent, ${acknowledged.size} distinct acknowledged`);

  const drainStart = Date.now();
  for (;;) {
    const status = (await (await fetch(`${api.url}/v1/admin/ingestion`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { consumers: { pending_batches: number }[] };
    if (status.consumers[0]?.pending_batches === 0) break;
    if (Date.now() - drainStart > 300_000) throw new Error('the matcher did not drain within 5 minutes');
    await sleep(100);
  }
  const drainMs = Date.now() - drainStart;

  for (const p of [worker, api]) {
    if (!p) continue;
    p.child.kill('SIGTERM');
    await p.exit;
    collect(p);
  }

  const handle = o.engine === 'postgres' ? openPostgres({ connectionString: o.databaseUrl as string, max: 2 }) : await openPglite({ dataDir: `${o.dataDir}/pgdata` });
  try {
    const verdict = await check(handle.db, campaignIds, sentEvents, acknowledged);
    return { sent, distinct: sentEvents.length, acknowledged: acknowledged.size, kills: o.kills, campaigns: o.campaigns, drainMs, errors, ...verdict };
  } finally {
    await handle.close();
  }
}

async function check(
  db: Kysely<Database>,
  campaignIds: string[],
  sentEvents: { id: string; type: string; placement_id: string }[],
  acknowledged: Set<string>,
): Promise<{ failures: string[]; lost: number; completed: number; deadLetters: number }> {
  const failures: string[] = [];
  const { rows: campaigns } = await sql<{ id: string; budget: string; spent_precise: string; spent: string; status: string; pricing_model: string; pricing_rate: string; stats_spent: string | null; days_spent: string | null; placement_id: string }>`
    SELECT c.id, c.budget::text, c.spent_precise::text, c.spent::text, c.status, c.pricing_model, c.pricing_rate::text,
           s.spent::text AS stats_spent, (SELECT sum(d.spent)::text FROM campaign_daily_stats d WHERE d.campaign_id = c.id) AS days_spent,
           (SELECT p.id FROM placements p JOIN campaign_products cp ON cp.product_id = p.product_id WHERE cp.campaign_id = c.id LIMIT 1) AS placement_id
    FROM campaigns c LEFT JOIN campaign_stats s ON s.campaign_id = c.id
    WHERE c.id IN (SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(campaignIds)}::jsonb))`.execute(db);
  const { rows: charges } = await sql<{ campaign_id: string; event_id: string; amount: string; type: string }>`
    SELECT campaign_id, event_id, amount::text, type FROM playback_charges`.execute(db);
  const micro = (v: string | null) => BigInt(Math.round(Number(v ?? 0) * 1e7));
  let completed = 0;
  for (const c of campaigns) {
    const mine = charges.filter((x) => x.campaign_id === c.id);
    const price = c.pricing_model === 'cpm' ? micro(c.pricing_rate) / 1000n : micro(c.pricing_rate);
    const chargeable = c.pricing_model === 'cpm' ? 'impression' : 'click';
    const sentHere = new Set(sentEvents.filter((e) => e.placement_id === c.placement_id && e.type === chargeable).map((e) => e.id));
    const paid = mine.filter((x) => x.type === chargeable && micro(x.amount) > 0n);
    const sum = mine.reduce((t, x) => t + micro(x.amount), 0n);
    const why: string[] = [];
    if (new Set(mine.map((x) => x.event_id)).size !== mine.length) why.push('an event charged twice');
    if (sum !== micro(c.spent_precise)) why.push(`spent ${c.spent_precise} ≠ sum of charges ${sum}`);
    if (micro(c.spent_precise) > micro(c.budget)) why.push(`spent ${c.spent_precise} > budget ${c.budget}`);
    if (micro(c.stats_spent) !== micro(c.spent_precise) || micro(c.days_spent) !== micro(c.spent_precise)) why.push(`stats ${c.stats_spent}/${c.days_spent} ≠ spent ${c.spent_precise}`);
    if (paid.some((x) => !sentHere.has(x.event_id))) why.push('a charge for an event not sent to it');
    const partial = paid.filter((x) => micro(x.amount) !== price);
    if (c.status === 'completed') {
      completed++;
      if (micro(c.spent_precise) !== micro(c.budget)) why.push('completed below its budget');
      if (partial.length > 1) why.push(`${partial.length} partial charges`);
    } else {
      if (partial.length > 0) why.push('a partial charge on a campaign with budget left');
      if (paid.length !== sentHere.size) why.push(`${paid.length} of ${sentHere.size} events charged`);
    }
    if (why.length > 0) failures.push(`${c.id}: ${why.join('; ')}`);
  }
  const { rows: seen } = await sql<{ event_id: string }>`SELECT event_id FROM ingest_event_ids`.execute(db);
  const { rows: raw } = await sql<{ event_id: string }>`SELECT event_id FROM playback_events`.execute(db);
  const seenSet = new Set(seen.map((r) => r.event_id));
  const rawSet = new Set(raw.map((r) => r.event_id));
  if (rawSet.size !== raw.length) failures.push('an event stored twice in playback_events');
  const lost = [...acknowledged].filter((id) => !seenSet.has(id) || !rawSet.has(id)).length;
  const { rows: [dead] } = await sql<{ n: string | number }>`SELECT count(*) AS n FROM dead_letters`.execute(db);
  return { failures, lost, completed, deadLetters: Number(dead?.n ?? 0) };
}
