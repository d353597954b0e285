/**
 * The webhook dispatcher (background worker `webhook-dispatcher`): sends due deliveries
 * through the SSRF-guarded fetch, signed per Standard Webhooks, logs every attempt, and
 * schedules the next one (webhook-rules.ts).
 *
 * Claiming: a delivery is leased (token + `lease_until`, longer than the send timeout) by
 * one UPDATE, so any number of dispatchers in any number of processes share the work and
 * each attempt's result is recorded only by the holder of its lease. At most
 * `perWebhook` deliveries of one endpoint are in flight at once (across processes, by
 * the leases), and at most `concurrency` in this process: an endpoint that hangs holds
 * its own few slots until the timeout, never all of them, so the others are not delayed.
 *
 * No transaction is open while a request is in flight (on PGlite that would hold the
 * one database session): claim, send, then record in a short transaction.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../../platform/db/schema.js';
import { asBackgroundWork } from '../../../platform/db/connect.js';
import { IdlePoller, OutageLog } from '../../../platform/logging/polling.js';
import type { OutboundFetch } from '../../../platform/outbound-fetch/guarded-fetch.js';
import { AddressRefusedError, FetchTimeoutError, ResponseTooLargeError, SchemeRefusedError } from '../../../platform/outbound-fetch/fetch-errors.js';
import { DEFAULT_RETRY_DELAYS_MS, DISABLE_AFTER_FAILING_MS, disableReason, nextStep, outcomeOf, retryAfterMs, type AttemptOutcome } from './webhook-rules.js';
import { signatureHeaders } from './webhook-signing.js';
import { failPendingDeliveries } from './webhook-repository.js';
import { recordNotification } from '../notifications/notification-repository.js';
import { onDispatcherWake } from './webhook-wake.js';

export interface DispatcherOptions {
  db: Kysely<Database>;
  fetch: OutboundFetch;
  logger: Logger;
  /** Bound on one attempt, the response body included (default 15 s). */
  timeoutMs?: number;
  /** Attempts in flight in this process (default 32). */
  concurrency?: number;
  /** Attempts in flight for one endpoint, across processes (default 4). */
  perWebhook?: number;
  /** Delay before each retry (default: the Standard Webhooks-like schedule of webhook-rules.ts). */
  retryDelaysMs?: readonly number[];
  /** An endpoint failing every attempt this long is disabled (default 5 days). */
  disableAfterMs?: number;
  /** Longest idle wait between polls (default 500 ms). */
  pollMaxMs?: number;
}

interface Claimed {
  id: string;
  webhook_id: string;
  notification_id: string;
  payload: string;
  attempts: number;
  attempts_before_replay: number;
  advertiser_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  lease_token: string;
}

interface Result {
  outcome: AttemptOutcome;
  status: number | null;
  error: string | null;
  retryAfter: number | undefined;
}

const RESPONSE_BYTES = 64 * 1024;
/**
 * Due deliveries a claim looks at (the oldest first). Bounds the claim's cost whatever
 * the backlog; an endpoint whose own deliveries fill the window holds the others back
 * only until its attempts end (each within the timeout) and move its next ones on.
 */
const SCAN = 256;

export class WebhookDispatcher {
  readonly #poller: IdlePoller;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #perWebhook: number;
  readonly #delays: readonly number[];
  #running = false;
  #loop: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(private readonly options: DispatcherOptions) {
    this.#poller = new IdlePoller({ minMs: 5, maxMs: options.pollMaxMs ?? 500 });
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#concurrency = options.concurrency ?? 32;
    this.#perWebhook = options.perWebhook ?? 4;
    this.#delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = onDispatcherWake(() => this.#poller.wake());
    this.#loop = asBackgroundWork(() => this.#run());
  }

  /** Stops claiming and waits for the attempts in flight (each bounded by the timeout). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    this.#poller.wake();
    await this.#loop;
    await Promise.all(this.#inFlight);
  }

  wake(): void {
    this.#poller.wake();
  }

  /** Claims due deliveries and starts sending them; resolves with how many it started (tests, bench). */
  async dispatchOnce(): Promise<number> {
    const free = this.#concurrency - this.#inFlight.size;
    if (free <= 0) return 0;
    const claimed = await this.#claim(free);
    for (const delivery of claimed) {
      const task: Promise<void> = asBackgroundWork(() => this.#attempt(delivery))
        .catch((error: unknown) => this.options.logger.error({ err: error, delivery_id: delivery.id }, 'recording a webhook attempt failed; the delivery is tried again when its lease ends'))
        .finally(() => {
          this.#inFlight.delete(task);
          this.#poller.wake();
        });
      this.#inFlight.add(task);
    }
    return claimed.length;
  }

  /** Waits until nothing is in flight (tests). */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  async #run(): Promise<void> {
    const log = this.options.logger;
    const outage = new OutageLog({
      down: (error) => log.error({ err: error }, 'webhook dispatcher cannot claim deliveries; retrying'),
      up: (o) => log.info(o, 'webhook dispatcher claims deliveries again'),
    });
    while (this.#running) {
      try {
        const started = await this.dispatchOnce();
        outage.succeeded();
        if (started > 0) {
          this.#poller.busy();
          continue;
        }
        await this.#poller.idle();
      } catch (error) {
        outage.failed(error);
        if (this.#running) await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #claim(limit: number): Promise<Claimed[]> {
    const token = randomUUID();
    const leaseSeconds = this.#timeoutMs / 1000 + 30;
    const { rows } = await sql<Claimed>`
      WITH inflight AS (
        SELECT webhook_id, count(*)::int AS n FROM webhook_deliveries
        WHERE status = 'pending' AND lease_until > NOW()
        GROUP BY webhook_id
      ), due AS (
        SELECT id, webhook_id, next_attempt_at FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at <= NOW() AND (lease_until IS NULL OR lease_until <= NOW())
        ORDER BY next_attempt_at LIMIT ${SCAN}
      ), candidates AS (
        SELECT d.id, d.next_attempt_at,
               row_number() OVER (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at, d.id) + COALESCE(i.n, 0) AS slot
        FROM due d
        JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active' AND w.deleted_at IS NULL
        LEFT JOIN inflight i ON i.webhook_id = d.webhook_id
      ), chosen AS (
        SELECT id FROM candidates WHERE slot <= ${this.#perWebhook} ORDER BY next_attempt_at LIMIT ${limit}
      )
      UPDATE webhook_deliveries d
      SET lease_token = ${token}::uuid, lease_until = NOW() + make_interval(secs => ${leaseSeconds})
      FROM chosen, webhooks w
      WHERE d.id = chosen.id AND w.id = d.webhook_id
        AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until <= NOW())
      RETURNING d.id, d.webhook_id, d.notification_id, d.payload, d.attempts, d.attempts_before_replay, d.lease_token,
                w.advertiser_id, w.url, w.secret, w.previous_secret, w.previous_secret_expires_at`.execute(this.options.db);
    return rows;
  }

  async #send(delivery: Claimed): Promise<Result> {
    const now = new Date();
    const secrets = [delivery.secret];
    if (delivery.previous_secret && delivery.previous_secret_expires_at && new Date(delivery.previous_secret_expires_at) > now) secrets.push(delivery.previous_secret);
    const headers = {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      'user-agent': 'Nedlia-Webhooks/1',
      ...signatureHeaders(secrets, delivery.notification_id, Math.floor(now.getTime() / 1000), delivery.payload),
    };
    try {
      const response = await this.options.fetch(delivery.url, { method: 'POST', headers, body: delivery.payload, timeoutMs: this.#timeoutMs, maxResponseBytes: RESPONSE_BYTES });
      // Read (and drop) the answer within the same timeout: a body that never ends is a timeout too.
      await response.bytes().catch((error: unknown) => {
        if (!(error instanceof ResponseTooLargeError)) throw error;
      });
      const retryAfterHeader = response.headers['retry-after'];
      const outcome = outcomeOf({ status: response.status });
      return {
        outcome,
        status: response.status,
        error: outcome === 'succeeded' ? null : `the endpoint answered ${response.status}`,
        retryAfter: retryAfterMs(Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader, new Date()),
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof FetchTimeoutError) return { outcome: 'timeout', status: null, error: `no complete answer within ${this.#timeoutMs} ms`, retryAfter: undefined };
      if (error instanceof AddressRefusedError || error instanceof SchemeRefusedError) return { outcome: 'refused', status: null, error: message, retryAfter: undefined };
      return { outcome: 'failed', status: null, error: message.slice(0, 500), retryAfter: undefined };
    }
  }

  async #attempt(delivery: Claimed): Promise<void> {
    const startedAt = new Date();
    const t0 = performance.now();
    const result = await this.#send(delivery);
    const durationMs = Math.round(performance.now() - t0);
    const attempt = delivery.attempts + 1;
    const step = nextStep(attempt - delivery.attempts_before_replay, result.outcome, result.retryAfter, this.#delays);
    const log = this.options.logger.child({ delivery_id: delivery.id, webhook_id: delivery.webhook_id, attempt });
    if (result.outcome === 'succeeded') {
      // The common case in one statement (one round trip): the delivery (fenced on the lease), its attempt, the endpoint's health.
      await sql`
        WITH d AS (
          UPDATE webhook_deliveries
          SET attempts = ${attempt}, last_status = ${result.status}, last_error = NULL, lease_token = NULL, lease_until = NULL,
              status = 'succeeded', next_attempt_at = NULL, completed_at = NOW(), updated_at = NOW()
          WHERE id = ${delivery.id}::uuid AND lease_token = ${delivery.lease_token}::uuid AND status = 'pending'
          RETURNING id, webhook_id
        ), a AS (
          INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, outcome, status_code, error)
          SELECT id, ${attempt}, ${startedAt}, ${durationMs}, 'succeeded', ${result.status}, NULL FROM d
        )
        UPDATE webhooks SET failure_count = 0, failing_since = NULL, last_error = NULL, last_success_at = NOW()
        WHERE id = (SELECT webhook_id FROM d)`.execute(this.options.db);
      return;
    }
    await this.options.db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('webhook_deliveries')
        .set({
          attempts: attempt,
          last_status: result.status,
          last_error: result.error,
          lease_token: null,
          lease_until: null,
          updated_at: sql<Date>`NOW()`,
          ...(step.kind === 'done'
            ? { status: 'succeeded' as const, next_attempt_at: null, completed_at: sql<Date>`NOW()` }
            : step.kind === 'retry'
              ? { next_attempt_at: sql<Date>`NOW() + make_interval(secs => ${step.delayMs / 1000})` }
              : { status: 'failed' as const, next_attempt_at: null, completed_at: sql<Date>`NOW()` }),
        })
        .where('id', '=', delivery.id)
        .where('lease_token', '=', delivery.lease_token)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      // The lease ran out and another dispatcher took the delivery over: its result counts, not this one.
      if (Number(updated.numUpdatedRows) !== 1) return;
      await tx
        .insertInto('webhook_delivery_attempts')
        .values({ delivery_id: delivery.id, attempt, started_at: startedAt, duration_ms: durationMs, outcome: result.outcome, status_code: result.status, error: result.error })
        .execute();
      const hook = await tx
        .updateTable('webhooks')
        .set({ failure_count: sql<number>`failure_count + 1`, failing_since: sql<Date>`COALESCE(failing_since, ${startedAt})`, last_error: result.error })
        .where('id', '=', delivery.webhook_id)
        .returning(['failing_since', 'status', 'url'])
        .executeTakeFirstOrThrow();
      const reason = hook.status === 'active' ? disableReason(result.outcome, hook.failing_since, new Date(), this.options.disableAfterMs ?? DISABLE_AFTER_FAILING_MS) : undefined;
      if (!reason) return;
      await tx
        .updateTable('webhooks')
        .set({ status: 'disabled', disabled_reason: reason, disabled_at: sql<Date>`NOW()`, updated_at: sql<Date>`NOW()`, version: sql<number>`version + 1` })
        .where('id', '=', delivery.webhook_id)
        .execute();
      await failPendingDeliveries(tx, delivery.webhook_id, `the webhook was disabled: ${reason}`);
      await recordNotification(tx, {
        advertiser_id: delivery.advertiser_id,
        event_id: randomUUID(),
        type: 'webhook.disabled',
        subject: delivery.webhook_id,
        message: `Webhook ${hook.url} was disabled: ${reason}`,
        data: { webhook_id: delivery.webhook_id, url: hook.url, reason },
      });
      log.warn({ reason }, 'webhook disabled');
    });
    log.info({ outcome: result.outcome, status: result.status, next: step }, 'webhook attempt failed');
  }
}
