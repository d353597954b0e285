/**
 * Dead letters and the analysis: the consumer runtime's `onDeadLetter` hook (run after
 * a dead letter is recorded, in a transaction of its own, told why), and the analyser's
 * use of it: a video whose event is dead-lettered, because the worker kept dying, the
 * commit kept failing or the event could not be read, ends `failed` with a reason a
 * person understands instead of staying `processing`, and `video.analysis_completed`
 * says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(path.join(os.tmpdir(), 'nedlia-analysis-dead-'));
Object.assign(process.env, { FETCH_ALLOW_HOSTS: '127.0.0.1', DATA_DIR: path.join(root, 'data'), ANALYSIS_TEMP_DIR: path.join(root, 'tmp') });

const { ConsumerRuntime } = await import('../../../src/platform/consumers/consumer-runtime.js');
const { PostgresBus } = await import('../../../src/platform/bus/postgres/postgres-bus.js');
const { buildEvent } = await import('../../../src/platform/events/event-log.js');
const { requestAnalysis } = await import('../../../src/features/analysis/analysis-use-cases.js');
const { AnalysisEventTypes } = await import('../../../src/features/analysis/index.js');
const { videoAnalyser } = await import('../../../src/features/analysis/analyser/analyser-consumer.js');
const { openTestDatabase } = await import('../../support/engine.js');
const { placementCreated, silentLogger } = await import('../../events/support.js');
const { startMediaServer } = await import('./media.js');
import type { Consumer, DeadLetterContext } from '../../../src/platform/consumers/consumer.js';
import type { CloudEvent } from '../../../src/platform/events/cloud-event.js';
import type { TestDatabase } from '../../support/engine.js';

let database: TestDatabase;
let bus: InstanceType<typeof PostgresBus>;
let runtime: InstanceType<typeof ConsumerRuntime>;
let media: Awaited<ReturnType<typeof startMediaServer>>;

beforeAll(async () => {
  database = await openTestDatabase();
  bus = new PostgresBus(database.db, { pollMaxMs: 20 });
  runtime = new ConsumerRuntime({ db: database.db, bus, logger: silentLogger(), retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  media = await startMediaServer();
}, 60_000);

afterAll(async () => {
  await bus?.close();
  await database?.close();
  await media?.close();
  rmSync(root, { recursive: true, force: true });
});

const deadLetters = (consumer: string, eventId: string) =>
  database.db.selectFrom('dead_letters').select(['error', 'attempts', 'status']).where('consumer', '=', consumer).where('event_id', '=', eventId).execute();

describe('the consumer runtime: onDeadLetter', () => {
  it('runs after each kind of dead letter, told why, and commits what it writes and emits', async () => {
    const calls: { cause: string; attempts: number; error: string; eventId: string }[] = [];
    const emitted = new Map<string, CloudEvent>();
    const consumer: Consumer = {
      name: `dead-hook-${randomUUID()}`,
      types: ['com.nedlia.placement.created'],
      maxAttempts: 2,
      async handle() {
        throw new Error('the handler always fails');
      },
      async onDeadLetter(event, context: DeadLetterContext) {
        calls.push({ cause: context.cause, attempts: context.attempts, error: context.error, eventId: String(event.id) });
        // Its writes go through its own transaction: the outbox row and the event it emits.
        const [built] = await context.emit([{ type: AnalysisEventTypes.videoAnalysisCompleted, subject: randomUUID(), data: { video_id: randomUUID(), status: 'failed', failure_reason: 'test' } }]);
        emitted.set(String(event.id), built!);
      },
    };

    // failed: the handler fails at the last attempt.
    const failing = placementCreated();
    expect((await runtime.handleDelivery(consumer, { event: failing, attempt: 1 })).kind).toBe('retry');
    expect(calls).toEqual([]);
    expect((await runtime.handleDelivery(consumer, { event: failing, attempt: 2 })).kind).toBe('ack');
    expect(calls).toEqual([{ cause: 'failed', attempts: 2, error: 'Error: the handler always fails', eventId: failing.id }]);

    // abandoned: a delivery past the maximum (the worker died each time); the handler does not run again.
    const crashing = placementCreated();
    expect((await runtime.handleDelivery(consumer, { event: crashing, attempt: 3 })).kind).toBe('ack');
    expect(calls[1]).toMatchObject({ cause: 'abandoned', attempts: 2, eventId: crashing.id });
    expect(calls[1]!.error).toMatch(/gave up after 2 deliveries/);

    // invalid: it failed the registry's checks and was never handled.
    const invalid = { ...placementCreated(), data: { nothing: true } } as CloudEvent;
    expect((await runtime.handleDelivery(consumer, { event: invalid, attempt: 1 })).kind).toBe('ack');
    expect(calls[2]).toMatchObject({ cause: 'invalid', attempts: 1, eventId: invalid.id });
    expect(calls[2]!.error).toMatch(/^invalid event: /);

    for (const event of [failing, crashing, invalid]) {
      expect(await deadLetters(consumer.name, event.id)).toHaveLength(1);
      // What the hook emitted is in the outbox, with the dead event's correlation id and the consumer as actor.
      const row = await database.db.selectFrom('event_log').select(['created_by', 'metadata']).where('id', '=', emitted.get(event.id)!.id).executeTakeFirstOrThrow();
      expect(row.created_by).toBe(`system:${consumer.name}`);
      expect(row.metadata).toMatchObject({ correlationid: event.correlationid });
    }
  });

  it('keeps the dead letter when the hook fails, and rolls back what the hook wrote', async () => {
    const userId = `never-${randomUUID()}`;
    const consumer: Consumer = {
      name: `dead-hook-broken-${randomUUID()}`,
      types: ['com.nedlia.placement.created'],
      maxAttempts: 1,
      async handle() {
        throw new Error('boom');
      },
      async onDeadLetter(_event, { tx }) {
        await tx.insertInto('users').values({ id: userId }).execute();
        throw new Error('the hook has a bug');
      },
    };
    const event = placementCreated();
    expect((await runtime.handleDelivery(consumer, { event, attempt: 1 })).kind).toBe('ack');
    expect(await deadLetters(consumer.name, event.id)).toEqual([expect.objectContaining({ error: 'Error: boom', attempts: 1, status: 'pending' })]);
    expect(await database.db.selectFrom('users').select('id').where('id', '=', userId).execute()).toEqual([]);
  });
});

describe('the analyser: a dead-lettered analysis ends failed', () => {
  const creator = () => ({ userId: `creator-${randomUUID()}`, roles: ['creator'] as const });

  async function queued(url: string) {
    const { video } = await requestAnalysis({ db: database.db, context: { actor: creator(), correlationId: randomUUID() } }, { url });
    // What the outbox holds for it (the relay does not run here): the analysis request.
    const event = buildEvent(
      { type: AnalysisEventTypes.videoAnalysisRequested, subject: video.id, data: { video_id: video.id, url } },
      { correlationId: randomUUID() },
    );
    // The worker had started: the video is processing, as a dead worker leaves it.
    await database.db.updateTable('videos').set({ analysis_status: 'processing', analysis_progress: 40 }).where('id', '=', video.id).execute();
    return { id: video.id, event };
  }

  const videoRow = (id: string) =>
    database.db.selectFrom('videos').select(['analysis_status', 'failure_reason', 'analysis_progress']).where('id', '=', id).executeTakeFirstOrThrow();

  async function completedEvents(videoId: string): Promise<unknown[]> {
    const rows = await database.db.selectFrom('event_log').select('data')
      .where('event_type', '=', AnalysisEventTypes.videoAnalysisCompleted).where('aggregate_id', '=', videoId).execute();
    return rows.map((r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data));
  }

  it('a worker that kept dying: failed, with a reason, the analysis not run again, and analysis_completed emitted', async () => {
    const { id, event } = await queued(media.url('/abandoned.mp4'));
    const attempts = videoAnalyser.maxAttempts!;
    expect((await runtime.handleDelivery(videoAnalyser, { event, attempt: attempts + 1 })).kind).toBe('ack');
    const video = await videoRow(id);
    expect(video.analysis_status).toBe('failed');
    expect(video.failure_reason).toBe(
      `the analysis was interrupted ${attempts} times before it could finish (the worker stopped, or ran past its time, while analysing this video); analyse the URL again to retry`,
    );
    expect(media.hits.get('/abandoned.mp4')).toBeUndefined();
    expect(await deadLetters(videoAnalyser.name, event.id)).toHaveLength(1);
    expect(await completedEvents(id)).toEqual([{ video_id: id, status: 'failed', failure_reason: video.failure_reason }]);

    // The same dead letter delivered again: nothing changes, no second event.
    expect((await runtime.handleDelivery(videoAnalyser, { event, attempt: attempts + 1 })).kind).toBe('ack');
    expect(await completedEvents(id)).toHaveLength(1);
    // Asking again for the URL starts a new analysis (the failed one no longer counts as running).
    const again = await requestAnalysis({ db: database.db, context: { actor: creator(), correlationId: randomUUID() } }, { url: media.url('/abandoned.mp4') });
    expect(again.video.id).not.toBe(id);
  });

  it('a commit that failed at the last attempt: failed with the last error', async () => {
    const { id, event } = await queued(media.url('/missing.mp4'));
    // The real analyser, whose commit fails every time (the outcome cannot be written).
    const committing: Consumer = { ...videoAnalyser, name: videoAnalyser.name, handle: async () => { throw new Error('could not write the outcome'); } };
    const attempts = videoAnalyser.maxAttempts!;
    for (let attempt = 1; attempt < attempts; attempt++) {
      expect((await runtime.handleDelivery(committing, { event, attempt })).kind).toBe('retry');
      expect((await videoRow(id)).analysis_status).toBe('processing');
    }
    expect((await runtime.handleDelivery(committing, { event, attempt: attempts })).kind).toBe('ack');
    const video = await videoRow(id);
    expect(video.analysis_status).toBe('failed');
    expect(video.failure_reason).toBe(`the analysis failed ${attempts} times, the last with: could not write the outcome; analyse the URL again to retry`);
    expect(media.hits.get('/missing.mp4')).toBe(attempts);
  });

  it('an event that cannot be read but names its video: failed, saying why', async () => {
    const { id, event } = await queued(media.url('/unreadable.mp4'));
    const broken = { ...event, data: { video_id: id, url: 42 } } as CloudEvent;
    expect((await runtime.handleDelivery(videoAnalyser, { event: broken, attempt: 1 })).kind).toBe('ack');
    const video = await videoRow(id);
    expect(video.analysis_status).toBe('failed');
    expect(video.failure_reason).toMatch(/^the analysis request could not be read \(invalid event: \/data\/url .+\); analyse the URL again to retry$/);
    expect(await completedEvents(id)).toHaveLength(1);
  });

  it('leaves a finished video alone, and an event without a video id is only dead-lettered', async () => {
    const { id, event } = await queued(media.url('/finished.mp4'));
    await database.db.updateTable('videos').set({ analysis_status: 'completed', analysis_progress: 100 }).where('id', '=', id).execute();
    expect((await runtime.handleDelivery(videoAnalyser, { event, attempt: 99 })).kind).toBe('ack');
    expect(await videoRow(id)).toMatchObject({ analysis_status: 'completed', failure_reason: null });
    expect(await completedEvents(id)).toEqual([]);

    const nameless = { ...event, id: randomUUID(), data: { url: 'http://127.0.0.1/x.mp4' } } as CloudEvent;
    expect((await runtime.handleDelivery(videoAnalyser, { event: nameless, attempt: 1 })).kind).toBe('ack');
    expect(await deadLetters(videoAnalyser.name, nameless.id)).toHaveLength(1);
  });
});
