/**
 * Notifications and signed webhooks over HTTP, on the selected engine: catalog writes
 * through the API → outbox → notifier → notifications and deliveries → dispatcher →
 * a local receiver, which checks every signature with the `standardwebhooks` package
 * (an implementation independent of ours).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { randomUUID } from 'node:crypto';
import { appendEvents } from '../../../src/platform/events/event-log.js';
import { ValidationEventTypes } from '../../../src/features/validation/index.js';
import { seedCatalog } from '../../http/catalog/support.js';
import { engine } from '../../support/engine.js';
import { eventually } from '../../events/support.js';
import { newCampaign, newWebhook, openNotifyHarness, openReceiver, type NotifyHarness } from './support.js';

let h: NotifyHarness;
let receiver: Awaited<ReturnType<typeof openReceiver>>;
beforeAll(async () => {
  // Hanging receivers are given up after 800 ms here (15 s by default).
  [h, receiver] = await Promise.all([openNotifyHarness({ timeoutMs: 800 }), openReceiver()]);
});
afterAll(async () => {
  await h?.close();
  await receiver?.close();
});
afterEach(async () => {
  // Each test's webhooks end with it, so the next test's notifications go to its own only.
  await sql`UPDATE webhooks SET deleted_at = NOW() WHERE deleted_at IS NULL`.execute(h.database.db);
  await sql`UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL WHERE status = 'pending'`.execute(h.database.db);
});

const at = (path: string) => receiver.received.filter((r) => r.path === path);
const deliveries = async (id: string) => {
  const res = await h.call('advertiser', { method: 'GET', url: `/v1/webhooks/${id}/deliveries` });
  expect(res.statusCode).toBe(200);
  return res.json().items as { id: string; status: string; attempts: number; attempt_log: { outcome: string; status_code: number | null; started_at: string }[]; next_attempt_at: string | null }[];
};

describe(`notifications and webhooks (${engine})`, () => {
  it('records a notification for the advertiser concerned and delivers it signed, as a CloudEvent', async () => {
    const hook = await newWebhook(h, receiver.url('/signed'));
    expect(hook.secret).toMatch(/^whsec_/);
    const read = await h.call('advertiser', { method: 'GET', url: `/v1/webhooks/${hook.id}` });
    expect(read.json()).not.toHaveProperty('secret');

    const campaignId = await newCampaign(h, 'advertiser', 'Signed');
    const [got] = await eventually(async () => at('/signed').length > 0 && at('/signed'), 15_000, 'the delivery');
    expect(got!.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    // The independent implementation accepts it; a wrong secret does not.
    const verified = new StandardWebhook(hook.secret).verify(got!.body, got!.headers) as Record<string, unknown>;
    expect(verified).toMatchObject({ specversion: '1.0', type: 'com.nedlia.notification.campaign.created', subject: campaignId });
    expect(() => new StandardWebhook('whsec_' + Buffer.alloc(24, 7).toString('base64')).verify(got!.body, got!.headers)).toThrow();
    expect(got!.headers['webhook-id']).toBe(verified.id);

    // The advertiser sees it, newest first, and marks it read; the other advertiser sees none of it.
    const list = await h.call('advertiser', { method: 'GET', url: '/v1/notifications?limit=1' });
    expect(list.statusCode).toBe(200);
    const [newest] = list.json().items;
    expect(newest).toMatchObject({ id: verified.id, type: 'campaign.created', subject: campaignId, read_at: null });
    const other = await h.call('otherAdvertiser', { method: 'GET', url: '/v1/notifications' });
    expect(other.json().items.map((n: { id: string }) => n.id)).not.toContain(newest.id);
    expect((await h.call('otherAdvertiser', { method: 'POST', url: `/v1/notifications/${newest.id}/read` })).statusCode).toBe(404);
    const marked = await h.call('advertiser', { method: 'POST', url: `/v1/notifications/${newest.id}/read` });
    expect(marked.json().read_at).not.toBeNull();
    const unread = await h.call('advertiser', { method: 'GET', url: '/v1/notifications?unread=true' });
    expect(unread.json().items.map((n: { id: string }) => n.id)).not.toContain(newest.id);
    expect((await h.call('creator', { method: 'GET', url: '/v1/notifications' })).statusCode).toBe(403);

    const [delivery] = await deliveries(hook.id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(delivery!.attempt_log).toMatchObject([{ outcome: 'succeeded', status_code: 200 }]);
  });

  it('notifies the advertiser of a placed product, of a campaign status change and of a validated video', async () => {
    const { productId, videoId, placementId, campaignId } = await seedCatalog(h, { advertiser: 'otherAdvertiser', creator: 'otherCreator' });
    const paused = await h.call('otherAdvertiser', { method: 'PATCH', url: `/v1/campaigns/${campaignId}`, headers: { 'if-match': '"1"' }, body: { status: 'paused' } });
    expect(paused.statusCode).toBe(200);
    const renamed = await h.call('otherAdvertiser', { method: 'PATCH', url: `/v1/campaigns/${campaignId}`, headers: { 'if-match': '"2"' }, body: { name: 'Renamed' } });
    expect(renamed.statusCode).toBe(200);
    // The validator is another feature: its event, as it emits it.
    await h.database.db.transaction().execute((tx) =>
      appendEvents(tx, { actor: { userId: 'system:validator', roles: ['admin'] }, correlationId: randomUUID() }, [
        { type: ValidationEventTypes.videoValidationCompleted, subject: videoId, data: { video_id: videoId, validation_run_id: randomUUID(), is_valid: false, issues_count: 2 } },
      ]),
    );
    const types = await eventually(async () => {
      const items = (await h.call('otherAdvertiser', { method: 'GET', url: '/v1/notifications?limit=200' })).json().items as { type: string; subject: string; message: string }[];
      const got = items.filter((n) => [placementId, campaignId, videoId].includes(n.subject));
      return got.length >= 4 && got;
    }, 15_000, 'four notifications');
    expect(types.map((n) => `${n.type} ${n.subject}`).sort()).toEqual([
      `campaign.created ${campaignId}`, `campaign.status_changed ${campaignId}`, `placement.created ${placementId}`, `video.validation_completed ${videoId}`,
    ].sort());
    expect(types.find((n) => n.type === 'video.validation_completed')?.message).toContain('2 validation issues');
    // The product's advertiser was told; the other advertiser was not.
    const mine = (await h.call('advertiser', { method: 'GET', url: '/v1/notifications?limit=200' })).json().items as { subject: string }[];
    expect(mine.map((n) => n.subject)).not.toContain(productId);
    expect(mine.map((n) => n.subject)).not.toContain(videoId);
  });

  it('pages notifications newest first without gaps or repeats', async () => {
    const theirs = () => h.database.db.selectFrom('notifications').select('id').where('advertiser_id', '=', h.ids.otherAdvertiser).execute();
    const before = (await theirs()).length;
    for (const name of ['P1', 'P2', 'P3']) await newCampaign(h, 'otherAdvertiser', name);
    const all = await eventually(async () => {
      const rows = await theirs();
      return rows.length >= before + 3 && rows;
    }, 15_000, 'three more notifications');
    const seen: string[] = [];
    const times: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await h.call('otherAdvertiser', { method: 'GET', url: `/v1/notifications?limit=2${cursor ? `&cursor=${cursor}` : ''}` });
      const body = res.json() as { items: { id: string; created_at: string }[]; next_cursor: string | null };
      seen.push(...body.items.map((n) => n.id));
      times.push(...body.items.map((n) => n.created_at));
      cursor = body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(all.map((r) => r.id).sort());
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('retries a failing endpoint and delivers once it recovers, every attempt listed', async () => {
    receiver.answers['/flaky'] = (_req, res, count) => void (count <= 2 ? res.writeHead(500).end('down') : res.writeHead(204).end());
    const hook = await newWebhook(h, receiver.url('/flaky'));
    await newCampaign(h, 'advertiser', 'Flaky');
    const [delivery] = await eventually(async () => {
      const list = await deliveries(hook.id);
      return list[0]?.status === 'succeeded' && list;
    }, 15_000, 'the delivery to succeed');
    expect(delivery!.attempts).toBe(3);
    expect(delivery!.attempt_log.map((a) => [a.outcome, a.status_code])).toEqual([['failed', 500], ['failed', 500], ['succeeded', 204]]);
    // Every attempt carried the same message id.
    expect(new Set(at('/flaky').map((r) => r.headers['webhook-id'])).size).toBe(1);
    const webhook = (await h.call('advertiser', { method: 'GET', url: `/v1/webhooks/${hook.id}` })).json();
    expect(webhook).toMatchObject({ status: 'active', failure_count: 0, last_error: null });
  });

  it('gives a hanging endpoint up at the timeout without holding up another', async () => {
    receiver.answers['/hang'] = () => undefined; // never answers
    const hanging = await newWebhook(h, receiver.url('/hang'));
    const healthy = await newWebhook(h, receiver.url('/healthy'));
    await newCampaign(h, 'advertiser', 'Hang');
    await eventually(async () => at('/healthy').length > 0, 15_000, 'the healthy endpoint’s delivery');
    // The healthy endpoint was served while the hanging one's first attempt was still open.
    const whileHanging = await deliveries(hanging.id);
    expect(whileHanging[0]?.attempts).toBe(0);
    expect((await deliveries(healthy.id))[0]?.status).toBe('succeeded');
    const [timedOut] = await eventually(async () => {
      const list = await deliveries(hanging.id);
      return (list[0]?.attempts ?? 0) >= 1 && list;
    }, 15_000, 'the hanging attempt to time out');
    expect(timedOut!.attempt_log[0]).toMatchObject({ outcome: 'timeout', status_code: null });
    expect(timedOut!.status).toBe('pending');
  });

  it('disables an endpoint that answers 410, shows why, and notifies the advertiser', async () => {
    receiver.answers['/gone'] = (_req, res) => void res.writeHead(410).end();
    const gone = await newWebhook(h, receiver.url('/gone'));
    const watcher = await newWebhook(h, receiver.url('/watcher'), { event_types: ['webhook.disabled'] });
    await newCampaign(h, 'advertiser', 'Gone');
    const webhook = await eventually(async () => {
      const body = (await h.call('advertiser', { method: 'GET', url: `/v1/webhooks/${gone.id}` })).json();
      return body.status === 'disabled' && body;
    }, 15_000, 'the webhook to be disabled');
    expect(webhook).toMatchObject({ disabled_reason: 'the endpoint answered 410 Gone', failure_count: 1 });
    expect((await deliveries(gone.id))[0]).toMatchObject({ status: 'failed', attempts: 1 });
    const notice = await eventually(async () => {
      const items = (await h.call('advertiser', { method: 'GET', url: '/v1/notifications?type=webhook.disabled' })).json().items as { subject: string }[];
      return items.find((n) => n.subject === gone.id);
    }, 15_000, 'the webhook.disabled notification');
    expect(notice).toBeDefined();
    const [toWatcher] = await eventually(async () => at('/watcher').length > 0 && at('/watcher'), 15_000, 'the watcher’s delivery');
    expect(new StandardWebhook(watcher.secret).verify(toWatcher!.body, toWatcher!.headers)).toMatchObject({ type: 'com.nedlia.notification.webhook.disabled' });
    // Replaying while disabled is refused; enabled again it is delivered (and still answers 410, so disabled again).
    const [failed] = await deliveries(gone.id);
    expect((await h.call('advertiser', { method: 'POST', url: `/v1/webhook-deliveries/${failed!.id}/replay` })).statusCode).toBe(409);
  });

  it('signs with both secrets while a rotation overlaps, and with the new one after', async () => {
    const hook = await newWebhook(h, receiver.url('/rotated'));
    const rotated = await h.call('advertiser', { method: 'POST', url: `/v1/webhooks/${hook.id}/rotate-secret`, body: { overlap_seconds: 3600 } });
    expect(rotated.statusCode).toBe(200);
    const { secret: newSecret, previous_secret_expires_at } = rotated.json();
    expect(newSecret).not.toBe(hook.secret);
    expect(previous_secret_expires_at).not.toBeNull();
    await newCampaign(h, 'advertiser', 'Rotated');
    const [got] = await eventually(async () => at('/rotated').length > 0 && at('/rotated'), 15_000, 'the delivery');
    expect(got!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new StandardWebhook(hook.secret).verify(got!.body, got!.headers)).toBeTruthy();
    expect(new StandardWebhook(newSecret).verify(got!.body, got!.headers)).toBeTruthy();

    // Overlap ended: only the new secret signs.
    await h.call('advertiser', { method: 'POST', url: `/v1/webhooks/${hook.id}/rotate-secret`, body: { secret: newSecret, overlap_seconds: 0 } });
    await newCampaign(h, 'advertiser', 'Rotated again');
    const later = await eventually(async () => at('/rotated').length > 1 && at('/rotated')[1], 15_000, 'the second delivery');
    expect(later.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(new StandardWebhook(newSecret).verify(later.body, later.headers)).toBeTruthy();
    expect(() => new StandardWebhook(hook.secret).verify(later.body, later.headers)).toThrow();
  });

  it('honours Retry-After, and replays a delivery on request', async () => {
    receiver.answers['/busy'] = (_req, res, count) => void (count === 1 ? res.writeHead(503, { 'retry-after': '2' }).end() : res.writeHead(200).end());
    const hook = await newWebhook(h, receiver.url('/busy'));
    await newCampaign(h, 'advertiser', 'Busy');
    const [first] = await eventually(async () => {
      const list = await deliveries(hook.id);
      return (list[0]?.attempts ?? 0) >= 1 && list;
    }, 15_000, 'the first attempt');
    // The schedule says 100 ms here; the receiver asked for 2 s (both times from the database's clock, set in one transaction).
    const row = await h.database.db.selectFrom('webhook_deliveries').select(['next_attempt_at', 'updated_at']).where('id', '=', first!.id).executeTakeFirstOrThrow();
    expect(first!.attempt_log[0]).toMatchObject({ outcome: 'failed', status_code: 503 });
    if (row.next_attempt_at) expect(new Date(row.next_attempt_at).getTime() - new Date(row.updated_at).getTime()).toBeGreaterThanOrEqual(2000);
    const [done] = await eventually(async () => {
      const list = await deliveries(hook.id);
      return list[0]?.status === 'succeeded' && list;
    }, 15_000, 'the retry after Retry-After');
    const replay = await h.call('advertiser', { method: 'POST', url: `/v1/webhook-deliveries/${done!.id}/replay` });
    expect(replay.statusCode).toBe(202);
    expect((await h.call('otherAdvertiser', { method: 'POST', url: `/v1/webhook-deliveries/${done!.id}/replay` })).statusCode).toBe(404);
    await eventually(async () => at('/busy').length >= 3, 15_000, 'the replayed delivery');
    const [replayed] = await eventually(async () => {
      const list = await deliveries(hook.id);
      return list[0]?.status === 'succeeded' && list[0].attempts === 3 && list;
    }, 15_000, 'the replay recorded');
    expect(replayed!.attempt_log.map((a) => a.outcome)).toEqual(['failed', 'succeeded', 'succeeded']);
  });

  it('refuses to deliver to loopback addresses unless FETCH_ALLOW_HOSTS names the host', async () => {
    const hook = await newWebhook(h, receiver.url('/private').replace('127.0.0.1', 'localhost'));
    await newCampaign(h, 'advertiser', 'Private');
    const [delivery] = await eventually(async () => {
      const list = await deliveries(hook.id);
      return (list[0]?.attempts ?? 0) >= 1 && list;
    }, 15_000, 'the refused attempt');
    expect(delivery!.attempt_log[0]).toMatchObject({ outcome: 'refused', status_code: null });
    expect(at('/private')).toEqual([]);
  });

  it('answers clear problems for bad webhook input', async () => {
    const bad = await h.call('advertiser', { method: 'POST', url: '/v1/webhooks', body: { url: 'ftp://x.test/hook', event_types: ['nope'], secret: 'plain' } });
    expect(bad.statusCode).toBe(422);
    const paths = (bad.json().errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['/event_types/0', '/secret']));
    const scheme = await h.call('advertiser', { method: 'POST', url: '/v1/webhooks', body: { url: 'ftp://x.test/hook', event_types: ['*'] } });
    expect(scheme.statusCode).toBe(422);
    expect(scheme.json().errors).toEqual([{ path: '/url', message: expect.stringContaining('http') }]);
    expect((await h.call('creator', { method: 'POST', url: '/v1/webhooks', body: { url: 'https://x.test/hook', event_types: ['*'] } })).statusCode).toBe(403);
  });
});
