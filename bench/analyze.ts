/**
 * `npm run bench:analyze`: the whole analysis of a generated clip of about a minute of
 * speech (flite -voice rms, pauses between sentences), served from loopback, in a worker
 * process (`npm run worker`, CONSUMERS=video-analyser) on a fresh database of
 * BENCH_DATABASE_URL's server. Prints, per pocketsphinx setting
 * (ANALYSIS_TRANSCRIBE_PARALLEL, default `1,2`): seconds of audio per second of wall
 * time from the request to `completed`, the peak memory of the worker and its children
 * (summed RSS and summed PSS, sampled every 50 ms, with the RSS by command at the peak
 * and the idle worker's), the CPU seconds the worker and its tools spent, and the word
 * error rate against the known text.
 * With Debian's pocketsphinx-testdata installed it also reports the word error rate on
 * its LibriVox recordings. BENCH_ANALYZE_RUNS (default 2) runs per setting; the best is kept.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPostgres } from '../src/platform/db/connect.js';
import { migrations } from '../src/platform/db/migrations/index.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { ensureEventLogPartitions } from '../src/platform/db/partitions.js';
import { requestAnalysis } from '../src/features/analysis/analysis-use-cases.js';
import { wordErrorRate } from '../src/features/analysis/index.js';
import '../src/entry/event-types.js';
import { spawnService } from '../test/support/processes.js';
import { speechClip, startMediaServer } from '../test/features/analysis/media.js';

const SENTENCES = [
  'we sell fresh coffee and warm bread every morning',
  'the red bicycle is parked next to the garden',
  'please call me back when you get this message',
  'the weather will be sunny with a light wind from the west',
  'our new phone has a bigger screen and a better camera',
  'the children played football in the park after school',
  'turn left at the next corner and drive for two miles',
  'the meeting starts at nine and ends before lunch',
  'she bought a blue dress and a pair of black shoes',
  'the train to the city leaves every twenty minutes',
  'add two cups of flour and one egg to the bowl',
  'this hotel offers free breakfast and a swimming pool',
  'the museum is open every day except monday',
  'he reads the news on his tablet before work',
];

const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const settings = (process.env.ANALYSIS_TRANSCRIBE_PARALLEL ?? '1,2').split(',').map(Number);
const runs = Number(process.env.BENCH_ANALYZE_RUNS ?? 2);
const root = mkdtempSync(path.join(os.tmpdir(), 'nedlia-bench-analyze-'));
const name = `nedlia_bench_analyze_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const database = openPostgres({ connectionString: url.toString(), max: 4 });
await migrateUp(database.db, migrations);
await ensureEventLogPartitions(database.db);

const mediaDir = path.join(root, 'media');
mkdirSync(mediaDir, { recursive: true });
const sentences: string[] = [];
for (let i = 0; sentences.join(' ').split(' ').length < 150; i++) sentences.push(SENTENCES[i % SENTENCES.length]!);
const clip = speechClip(mediaDir, 'bench', sentences, { gapSeconds: 1 });
const media = await startMediaServer();
media.route('/bench.mp4', { file: clip.file, contentType: 'video/mp4' });

/** The processes of the tree under `pid` (itself included). */
function treeOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const tree: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    tree.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return tree;
}

interface TreeMemory {
  /** Summed RSS: pages shared between processes (and with other processes of the machine) counted in each. */
  rss: number;
  /** Summed PSS: each shared page divided among the processes that map it. */
  pss: number;
  /** RSS by command name at that moment. */
  byCommand: Record<string, number>;
}

/** The memory (bytes) of `pid` and every process below it. */
function treeMemory(pid: number): TreeMemory {
  const memory: TreeMemory = { rss: 0, pss: 0, byCommand: {} };
  for (const p of treeOf(pid)) {
    try {
      const rollup = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      const rss = Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) * 1024;
      memory.rss += rss;
      memory.pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) * 1024;
      const command = path.basename(readFileSync(`/proc/${p}/comm`, 'utf8').trim());
      memory.byCommand[command] = (memory.byCommand[command] ?? 0) + rss;
    } catch {
      // gone
    }
  }
  return memory;
}

/** CPU seconds of `pid` and of its children it has waited for (utime, stime, cutime, cstime). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / 100;
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

async function analyseOnce(worker: ReturnType<typeof spawnService>, target: string) {
  let peak: TreeMemory = { rss: 0, pss: 0, byCommand: {} };
  let peakPss = 0;
  const sampler = setInterval(() => {
    const now = treeMemory(worker.child.pid!);
    if (now.rss > peak.rss) peak = now;
    peakPss = Math.max(peakPss, now.pss);
  }, 50);
  const cpuBefore = cpuSeconds(worker.child.pid!);
  const started = performance.now();
  const { video } = await requestAnalysis(
    { db: database.db, context: { actor: { userId: `bench-${randomUUID()}`, roles: ['creator'] }, correlationId: randomUUID() } },
    { url: target },
  );
  for (;;) {
    const row = await database.db.selectFrom('videos').select(['analysis_status', 'failure_reason', 'duration']).where('id', '=', video.id).executeTakeFirstOrThrow();
    if (row.analysis_status === 'failed') throw new Error(`analysis failed: ${row.failure_reason}`);
    if (row.analysis_status === 'completed') break;
    if (performance.now() - started > 600_000) throw new Error('analysis did not finish in 10 minutes');
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  // The worker reaps each tool as it ends: their CPU time is in its children's counters by now.
  const cpu = cpuSeconds(worker.child.pid!) - cpuBefore;
  const transcript = await database.db.selectFrom('transcripts').select('content').where('video_id', '=', video.id).executeTakeFirstOrThrow();
  return { seconds, cpu, peak: peak.rss, peakPss, peakByCommand: peak.byCommand, text: transcript.content };
}

async function startWorker(parallel: number) {
  const worker = spawnService('src/entry/main.ts', {
    DATABASE_URL: url.toString(), EVENT_BUS: 'postgres', CONSUMERS: 'video-analyser', FETCH_ALLOW_HOSTS: '127.0.0.1',
    DATA_DIR: path.join(root, 'data'), ANALYSIS_TEMP_DIR: path.join(root, 'tmp'), ANALYSIS_TRANSCRIBE_PARALLEL: String(parallel), LOG_LEVEL: 'info',
  }, ['worker']);
  // Timed from when it is ready, so that its start-up stays out of the figures.
  const deadline = Date.now() + 60_000;
  while (!/worker is ready/.test(worker.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return worker;
}

try {
  console.log(`clip: ${clip.duration.toFixed(1)} s of speech, ${clip.text.split(' ').length} words; ${os.availableParallelism()} cores, load average ${os.loadavg()[0]!.toFixed(1)}`);
  for (const parallel of settings) {
    const worker = await startWorker(parallel);
    const idle = treeMemory(worker.child.pid!);
    let best: Awaited<ReturnType<typeof analyseOnce>> | undefined;
    let peak = 0;
    let peakPss = 0;
    let peakByCommand: Record<string, number> = {};
    for (let i = 0; i < runs; i++) {
      const result = await analyseOnce(worker, `${media.url('/bench.mp4')}?run=${parallel}-${i}`);
      if (result.peak > peak) [peak, peakByCommand] = [result.peak, result.peakByCommand];
      peakPss = Math.max(peakPss, result.peakPss);
      if (!best || result.seconds < best.seconds) best = result;
    }
    console.log(
      `ANALYSIS_TRANSCRIBE_PARALLEL=${parallel}: ${(clip.duration / best!.seconds).toFixed(2)}× real time end to end ` +
        `(${best!.seconds.toFixed(2)} s for ${clip.duration.toFixed(1)} s, best of ${runs}; ${best!.cpu.toFixed(2)} s of CPU, ` +
        `${(clip.duration / best!.cpu).toFixed(2)} s of audio per CPU second), peak memory ${mb(peak)} MB summed RSS / ${mb(peakPss)} MB summed PSS ` +
        `(worker + children), WER ${(wordErrorRate(clip.text, best!.text) * 100).toFixed(1)}%; load average ${os.loadavg()[0]!.toFixed(1)}`,
    );
    console.log(
      `  idle worker ${mb(idle.rss)} MB RSS (${Object.entries(idle.byCommand).map(([c, b]) => `${c} ${mb(b)}`).join(', ')}); ` +
        `at the peak: ${Object.entries(peakByCommand).map(([c, b]) => `${c} ${mb(b)}`).join(', ')} MB RSS`,
    );
    worker.child.kill('SIGTERM');
    await worker.exit;
    // BENCH_ANALYZE_STAGES=1: the worker's time per stage of each run.
    if (process.env.BENCH_ANALYZE_STAGES) {
      for (const line of worker.output().split('\n')) {
        if (!line.includes('"video analysed"')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        console.log(`  stages: ${Object.entries(entry).filter(([k]) => k.endsWith('_ms')).map(([k, v]) => `${k.replace(/_ms$/, '')} ${String(v)} ms`).join(', ')}`);
      }
    }
  }

  const testdata = '/usr/share/pocketsphinx/test/data/librivox';
  if (existsSync(path.join(testdata, 'transcription'))) {
    const worker = await startWorker(1);
    let errors = 0;
    let words = 0;
    for (const line of readFileSync(path.join(testdata, 'transcription'), 'utf8').trim().split('\n')) {
      const match = /^(.*)\((.+)\)\s*$/.exec(line);
      if (!match) continue;
      const reference = match[1]!.replace(/<\/?s>/g, '').trim();
      const id = match[2]!.trim();
      media.route(`/${id}.wav`, { file: path.join(testdata, `${id}.wav`), contentType: 'audio/wav' });
      const result = await analyseOnce(worker, media.url(`/${id}.wav`));
      const n = reference.split(/\s+/).length;
      errors += wordErrorRate(reference, result.text) * n;
      words += n;
    }
    console.log(`pocketsphinx-testdata LibriVox (${words} words, real recordings): WER ${((errors / words) * 100).toFixed(1)}%`);
    worker.child.kill('SIGTERM');
    await worker.exit;
  } else {
    console.log('pocketsphinx-testdata is not installed: no figure on real recordings');
  }
} finally {
  await media.close();
  await database.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  rmSync(root, { recursive: true, force: true });
}
