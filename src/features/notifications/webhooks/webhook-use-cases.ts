/**
 * Webhook use cases: an advertiser registers, changes, rotates and removes its own
 * endpoints and reads their deliveries; an admin does so for any advertiser. A secret
 * is shown once (on creation and on rotation) and never read back.
 */
import { DomainError, notFound } from '../../../platform/errors.js';
import { advertiserScope, isAdmin, type Actor } from '../../../platform/auth/actor.js';
import type { CommandContext } from '../../../platform/events/command-context.js';
import type { Executor } from '../../../platform/db/schema.js';
import type { Page, PageRequest } from '../../../platform/db/keyset-page.js';
import { ANY_VERSION, transact, type ExpectedVersion } from '../../catalog/index.js';
import type { Webhook, WebhookDelivery } from './webhook-model.js';
import { isUsableSecret, newSecret } from './webhook-signing.js';
import {
  failPendingDeliveries, findDelivery, findLiveWebhook, insertWebhook, listDeliveryRows, listWebhookRows, requeueDelivery, toWebhook, updateWebhookAt,
} from './webhook-repository.js';

export interface WebhookDeps {
  db: Executor;
  /** Production: only `https` endpoints. */
  httpsOnly: boolean;
}
export interface WebhookCommand extends WebhookDeps {
  context: CommandContext;
}

export interface NewWebhookInput {
  advertiser_id?: string;
  url: string;
  event_types: string[];
  secret?: string;
}
export interface WebhookPatch {
  url?: string;
  event_types?: string[];
  /** `active` turns a disabled endpoint on again (its failure count starts over). */
  status?: 'active' | 'disabled';
}

/** How long the old secret still signs after a rotation, by default (24 h). */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

const forbidden = (what: string) => new DomainError('forbidden', 'ACCESS.FORBIDDEN', `your role may not ${what}`);
const invalid = (code: string, message: string, path: string, detail: string) => new DomainError('invalid', code, message, [{ path, message: detail }]);

function assertMayUseWebhooks(actor: Actor): void {
  if (!isAdmin(actor) && advertiserScope(actor) === undefined) throw forbidden('manage webhooks');
}

const mayTouch = (actor: Actor, advertiserId: string): boolean => isAdmin(actor) || advertiserScope(actor) === advertiserId;

function checkUrl(url: string, httpsOnly: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('WEBHOOK.INVALID_URL', 'the url is not an absolute URL', '/url', 'must be an absolute http(s) URL');
  }
  const allowed = httpsOnly ? ['https:'] : ['https:', 'http:'];
  if (!allowed.includes(parsed.protocol)) {
    throw invalid('WEBHOOK.INVALID_URL', `the url must use ${httpsOnly ? 'https' : 'http or https'}`, '/url', `must start with ${allowed.map((p) => `${p}//`).join(' or ')}`);
  }
  if (parsed.username || parsed.password) throw invalid('WEBHOOK.INVALID_URL', 'the url must not carry credentials', '/url', 'must not contain user:password@');
}

async function liveWebhookFor(db: Executor, actor: Actor, id: string): Promise<NonNullable<Awaited<ReturnType<typeof findLiveWebhook>>>> {
  assertMayUseWebhooks(actor);
  const row = await findLiveWebhook(db, id);
  if (!row || !mayTouch(actor, row.advertiser_id)) throw notFound('webhook', id);
  return row;
}

function versionOf(id: string, current: number, expected: ExpectedVersion): number {
  if (expected !== ANY_VERSION && expected !== current) {
    throw new DomainError('precondition_failed', 'WEBHOOK.VERSION_MISMATCH', `webhook ${id} is at version ${current}: read it again and resend with If-Match: "${current}"`);
  }
  return current;
}

export async function createWebhook({ db, context, httpsOnly }: WebhookCommand, input: NewWebhookInput): Promise<{ webhook: Webhook; secret: string }> {
  const { actor } = context;
  assertMayUseWebhooks(actor);
  let advertiserId: string;
  if (isAdmin(actor)) {
    if (!input.advertiser_id) throw invalid('WEBHOOK.ADVERTISER_REQUIRED', 'advertiser_id is required', '/advertiser_id', 'is required');
    advertiserId = input.advertiser_id;
  } else {
    const own = advertiserScope(actor) as string;
    if (input.advertiser_id !== undefined && input.advertiser_id !== own) {
      throw invalid('WEBHOOK.FOREIGN_ADVERTISER', 'a webhook belongs to your own advertiser', '/advertiser_id', 'must be your own advertiser (or left out)');
    }
    advertiserId = own;
  }
  checkUrl(input.url, httpsOnly);
  if (input.secret !== undefined && !isUsableSecret(input.secret)) {
    throw invalid('WEBHOOK.INVALID_SECRET', 'the secret must be whsec_ followed by base64 of 24 to 64 bytes', '/secret', 'must be whsec_ + base64 of 24–64 bytes');
  }
  const secret = input.secret ?? newSecret();
  return transact(db, async (tx) => {
    const advertiser = await tx.selectFrom('advertisers').select('id').where('id', '=', advertiserId).where('deleted_at', 'is', null).executeTakeFirst();
    if (!advertiser) throw invalid('REFERENCE.NOT_FOUND', 'the advertiser does not exist', '/advertiser_id', 'does not exist');
    const webhook = await insertWebhook(tx, { advertiser_id: advertiserId, url: input.url, event_types: [...new Set(input.event_types)], secret, created_by: actor.userId });
    return { webhook, secret };
  });
}

export async function listWebhooks(deps: WebhookDeps, actor: Actor, filter: { advertiser_id?: string }, page: PageRequest): Promise<Page<Webhook>> {
  assertMayUseWebhooks(actor);
  const own = advertiserScope(actor);
  if (!isAdmin(actor) && filter.advertiser_id !== undefined && filter.advertiser_id !== own) return { items: [], nextCursor: null };
  return listWebhookRows(deps.db, isAdmin(actor) ? filter.advertiser_id : own, page);
}

export async function getWebhook(deps: WebhookDeps, actor: Actor, id: string): Promise<Webhook> {
  return toWebhook(await liveWebhookFor(deps.db, actor, id));
}

export async function updateWebhook({ db, context, httpsOnly }: WebhookCommand, id: string, expected: ExpectedVersion, patch: WebhookPatch): Promise<Webhook> {
  return transact(db, async (tx) => {
    const current = await liveWebhookFor(tx, context.actor, id);
    const version = versionOf(id, current.version, expected);
    if (patch.url !== undefined) checkUrl(patch.url, httpsOnly);
    const enabling = patch.status === 'active' && current.status === 'disabled';
    const disabling = patch.status === 'disabled' && current.status === 'active';
    const row = await updateWebhookAt(tx, id, version, {
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.event_types !== undefined ? { event_types: [...new Set(patch.event_types)] } : {}),
      ...(enabling ? { status: 'active' as const, disabled_reason: null, disabled_at: null, failure_count: 0, failing_since: null } : {}),
      ...(disabling ? { status: 'disabled' as const, disabled_reason: `disabled by ${context.actor.userId}`, disabled_at: new Date() } : {}),
    });
    if (!row) throw versionOf(id, -1, version);
    if (disabling) await failPendingDeliveries(tx, id, 'the webhook was disabled');
    return toWebhook(row);
  });
}

export async function deleteWebhook({ db, context }: WebhookCommand, id: string, expected: ExpectedVersion): Promise<void> {
  await transact(db, async (tx) => {
    const current = await liveWebhookFor(tx, context.actor, id);
    const version = versionOf(id, current.version, expected);
    const row = await updateWebhookAt(tx, id, version, { deleted_at: new Date() });
    if (!row) throw versionOf(id, -1, version);
    await failPendingDeliveries(tx, id, 'the webhook was deleted');
  });
}

/**
 * A new secret signs from now on; the current one keeps signing beside it for
 * `overlapSeconds` (both signatures are sent), so receivers can switch without losing a message.
 */
export async function rotateSecret(
  { db, context }: WebhookCommand,
  id: string,
  input: { secret?: string; overlap_seconds?: number },
): Promise<{ webhook: Webhook; secret: string }> {
  if (input.secret !== undefined && !isUsableSecret(input.secret)) {
    throw invalid('WEBHOOK.INVALID_SECRET', 'the secret must be whsec_ followed by base64 of 24 to 64 bytes', '/secret', 'must be whsec_ + base64 of 24–64 bytes');
  }
  const secret = input.secret ?? newSecret();
  const overlap = input.overlap_seconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
  return transact(db, async (tx) => {
    const current = await liveWebhookFor(tx, context.actor, id);
    const row = await updateWebhookAt(tx, id, current.version, {
      secret,
      previous_secret: overlap > 0 ? current.secret : null,
      previous_secret_expires_at: overlap > 0 ? new Date(Date.now() + overlap * 1000) : null,
    });
    if (!row) throw new DomainError('conflict', 'WEBHOOK.CONCURRENT_CHANGE', 'the webhook changed while rotating: try again');
    return { webhook: toWebhook(row), secret };
  });
}

export async function listDeliveries(deps: WebhookDeps, actor: Actor, webhookId: string, page: PageRequest): Promise<Page<WebhookDelivery>> {
  await liveWebhookFor(deps.db, actor, webhookId);
  return listDeliveryRows(deps.db, webhookId, page);
}

/** Sends a delivery again (whatever its state): due now, on a fresh retry schedule; its earlier attempts stay listed. */
export async function replayDelivery({ db, context }: WebhookCommand, deliveryId: string): Promise<WebhookDelivery> {
  assertMayUseWebhooks(context.actor);
  return transact(db, async (tx) => {
    const delivery = await findDelivery(tx, deliveryId);
    if (!delivery || delivery.webhook_deleted || !mayTouch(context.actor, delivery.advertiser_id)) throw notFound('webhook delivery', deliveryId);
    if (delivery.webhook_status !== 'active') {
      throw new DomainError('conflict', 'WEBHOOK.DISABLED', 'the webhook is disabled: enable it (PATCH status "active") before replaying');
    }
    if (delivery.status === 'pending') return delivery;
    await requeueDelivery(tx, deliveryId);
    const { advertiser_id: _a, webhook_status: _s, webhook_deleted: _d, ...rest } = (await findDelivery(tx, deliveryId))!;
    return rest;
  });
}
