/**
 * `node --import tsx bench/ingest-matcher.ts`: the campaign matcher's transaction alone,
 * on PostgreSQL (a fresh database on BENCH_DATABASE_URL's server): 100 campaigns (CPM and
 * CPC, one product and placement each), BENCH_BATCHES (20) accepted batches of
 * BENCH_BATCH (500) events stored by the request path's repository, then one delivery
 * handled as the consumer runtime does (inbox row, then the handler, in one transaction),
 * which charges the waiting batches. Prints each statement's time and rows, the
 * statements per event, and the events/s of the transaction; with BENCH_EXPLAIN=1 the
 * plans of the matcher's statements (auto_explain, ANALYZE) on stderr.
 */
import { randomUUID } from 'node:crypto';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from '../src/platform/db/schema.js';
import pg from 'pg';
import { pino } from 'pino';
import { openPostgres, typeParsers } from '../src/platform/db/connect.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { storeEvents } from '../src/features/ingestion/events/event-repository.js';
import { campaignMatcher } from '../src/features/ingestion/matching/campaign-matcher.js';
import type { CloudEvent } from '../src/platform/events/cloud-event.js';
import '../src/entry/event-types.js';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const EXPLAIN = process.env.BENCH_EXPLAIN === '1';
const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Times every statement by its query id (transformQuery runs just before, transformResult just after). */
class Timing implements KyselyPlugin {
  readonly started = new WeakMap<object, { at: number; sql: string }>();
  readonly lines: { ms: number; rows: number; sql: string }[] = [];
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node as { kind: string; sqlFragments?: readonly string[] };
    this.started.set(args.queryId, { at: performance.now(), sql: node.sqlFragments ? node.sqlFragments.join('$').replace(/\s+/g, ' ').trim().slice(0, 90) : node.kind });
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const s = this.started.get(args.queryId);
    if (s) this.lines.push({ ms: performance.now() - s.at, rows: args.result.rows.length + Number(args.result.numAffectedRows ?? 0), sql: s.sql });
    return args.result;
  }
}

const name = `nedlia_bench_matcher_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const handle = openPostgres({ connectionString: url.toString() });
try {
  const db = handle.db;
  await migrateUp(db, migrations);
  const adv = await db.insertInto('advertisers').values({ name: 'Bench', contact_email: 'b@b.test' }).returning('id').executeTakeFirstOrThrow();
  const video = await db.insertInto('videos').values({ title: 'V', duration: 3600, owner_id: null, source_url: null, metadata: '{}', analysis_status: null, failure_reason: null, media_path: null }).returning('id').executeTakeFirstOrThrow();
  const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
  const placements: { id: string; product: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const product = await db.insertInto('products').values({ advertiser_id: adv.id, name: `P${i}`, description: null, category: null, assets: '[]' }).returning('id').executeTakeFirstOrThrow();
    const { rows: [c] } = await sql<{ id: string }>`
      INSERT INTO campaigns (advertiser_id, name, budget, start_date, end_date, status, pricing_model, pricing_rate)
      VALUES (${adv.id}, ${`C${i}`}, 9999999999, ${day(-5)}, ${day(5)}, 'active', ${i % 2 === 0 ? 'cpm' : 'cpc'}, ${i % 2 === 0 ? 3.3333 : 0.07}) RETURNING id`.execute(db);
    await sql`INSERT INTO campaign_products (campaign_id, product_id) VALUES (${c!.id}, ${product.id})`.execute(db);
    const p = await sql<{ id: string }>`INSERT INTO placements (video_id, product_id, start_time, end_time, status) VALUES (${video.id}, ${product.id}, ${i}, ${i + 1}, 'active') RETURNING id`.execute(db);
    placements.push({ id: p.rows[0]!.id, product: product.id });
  }
  for (let b = 0; b < BATCHES; b++) {
    const events = Array.from({ length: BATCH }, () => {
      const p = placements[Math.floor(Math.random() * placements.length)]!;
      return { id: randomUUID(), type: Math.random() < 0.9 ? ('impression' as const) : ('click' as const), placement_id: p.id, video_id: video.id, product_id: p.product, occurred_at: new Date().toISOString(), ingest_key_id: null };
    });
    await storeEvents(db, events, 'bench');
  }
  const { rows: [first] } = await sql<{ data: { batch_id: string; count: number }; id: string }>`
    SELECT id, data FROM event_log WHERE event_type = 'com.nedlia.playback.events_accepted' ORDER BY created_at LIMIT 1`.execute(db);
  const event = { specversion: '1.0', id: first!.id, type: 'com.nedlia.playback.events_accepted', source: '/ingestion', subject: first!.data.batch_id, schemaversion: 3, time: new Date().toISOString(), data: first!.data } as unknown as CloudEvent;

  const timing = new Timing();
  // With BENCH_EXPLAIN the transaction runs on a connection of its own whose notices (the plans) go to stderr.
  const explainPool = EXPLAIN
    ? new pg.Pool({ connectionString: url.toString(), max: 1, types: { getTypeParser: ((oid: number, format?: string) => typeParsers[oid] ?? pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser } })
    : undefined;
  explainPool?.on('connect', (client) => client.on('notice', (notice) => process.stderr.write(`${notice.message}\n\n`)));
  const timed = (explainPool ? new Kysely<Database>({ dialect: new PostgresDialect({ pool: explainPool }) }) : db).withPlugin(timing);
  const started = performance.now();
  await timed.transaction().execute(async (tx) => {
    if (EXPLAIN) {
      await sql.raw(`LOAD 'auto_explain'; SET LOCAL auto_explain.log_min_duration = 0; SET LOCAL auto_explain.log_analyze = on; SET LOCAL auto_explain.log_nested_statements = on; SET LOCAL client_min_messages = log`).execute(tx);
    }
    await tx.insertInto('consumer_inbox').values({ consumer: campaignMatcher.name, event_id: event.id }).execute();
    await campaignMatcher.handle(event, tx, { logger: pino({ level: 'silent' }), attempt: 1, emit: async () => [] });
  });
  const ms = performance.now() - started;
  await explainPool?.end();
  const charged = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM playback_charges`.execute(db)).rows[0]!.n);
  const left = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ingest_batches`.execute(db)).rows[0]!.n);
  for (const l of timing.lines) console.log(`${l.ms.toFixed(1).padStart(8)} ms  ${String(l.rows).padStart(6)} rows  ${l.sql}`);
  console.log(JSON.stringify({ events: BATCHES * BATCH, charged, batches_left: left, statements: timing.lines.length, statements_per_event: Number((timing.lines.length / Math.max(1, charged)).toFixed(4)), transaction_ms: Math.round(ms), events_per_s: Math.round(charged / (ms / 1000)) }));
} finally {
  await handle.close();
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
}
