/**
 * `POST /v1/events`: check each event on its own (shape, time window, placement and
 * owner), store the good ones durably through the group commit, and say what became of
 * each. No campaign is looked at here: the matcher consumer does that from the outbox.
 */
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database } from '../../../platform/db/schema.js';
import { DomainError, type FieldError } from '../../../platform/errors.js';
import { fieldErrors, type ValidationIssue } from '../../../platform/http/validation-messages.js';
import { buildValidator } from '../../../platform/http/validation.js';
import { MAX_BATCH, MAX_PROPERTIES_BYTES, occurredAtErrors, placementErrors, type PlacementFacts } from './event-rules.js';
import type { AcceptedEvent, IngestResult, PlaybackEventInput } from './event-model.js';
import { PlaybackEvent } from './event-schemas.js';
import { findPlacements } from './event-repository.js';
import type { GroupCommit } from './group-commit.js';

/** Who posts: a key's holder (its creator's videos only) or an admin (any video). */
export type IngestCaller = { kind: 'key'; keyId: string; creatorId: string } | { kind: 'admin'; userId: string };

/** Placements by id, for 5 s (a placement archived or deleted is refused within 5 s); unknown ids for 1 s. */
export class PlacementLookup {
  readonly #cache = new LRUCache<string, { facts: PlacementFacts | null }>({ max: 100_000, ttl: 5_000 });
  constructor(private readonly db: Kysely<Database>) {}

  async get(ids: readonly string[]): Promise<Map<string, PlacementFacts | undefined>> {
    const out = new Map<string, PlacementFacts | undefined>();
    const missing: string[] = [];
    for (const id of ids) {
      if (out.has(id)) continue;
      const hit = this.#cache.get(id);
      if (hit) out.set(id, hit.facts ?? undefined);
      else if (!missing.includes(id)) missing.push(id);
    }
    if (missing.length > 0) {
      const found = await findPlacements(this.db, missing);
      for (const facts of found) {
        out.set(facts.id, facts);
        this.#cache.set(facts.id, { facts });
      }
      for (const id of missing) {
        if (!out.has(id)) {
          out.set(id, undefined);
          this.#cache.set(id, { facts: null }, { ttl: 1_000 });
        }
      }
    }
    return out;
  }

  forget(id: string): void {
    this.#cache.delete(id);
  }
}

export interface IngestDeps {
  placements: PlacementLookup;
  groupCommit: GroupCommit;
  windowDays: number;
}

type Validate = ((data: unknown) => boolean) & { errors?: ValidationIssue[] | null };
const validateEvent = (buildValidator({})({ schema: PlaybackEvent, httpPart: 'body' } as never) as unknown) as Validate;

const invalidBody = (message: string, errors: FieldError[]) => new DomainError('invalid', 'EVENTS.INVALID', message, errors);

/** The events of a body: `{events: [...]}` or one event. */
export function eventsOf(body: unknown): { items: unknown[]; single: boolean } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidBody('send one event object or {"events": [...]}', [{ path: '/', message: 'must be an object' }]);
  }
  if (!('events' in body)) return { items: [body], single: true };
  const { events, ...rest } = body as { events: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) throw invalidBody('a batch has only `events`', extra.map((k) => ({ path: `/${k}`, message: 'is not a field of a batch' })));
  if (!Array.isArray(events)) throw invalidBody('`events` must be an array', [{ path: '/events', message: 'must be an array of events' }]);
  if (events.length === 0) throw invalidBody('a batch holds 1 to 1000 events', [{ path: '/events', message: 'must hold at least one event' }]);
  if (events.length > MAX_BATCH) throw invalidBody(`a batch holds at most ${MAX_BATCH} events`, [{ path: '/events', message: `has ${events.length} events; send at most ${MAX_BATCH} per request` }]);
  return { items: events, single: false };
}

function shapeErrors(item: unknown, now: number, windowDays: number): FieldError[] {
  if (!validateEvent(item)) return fieldErrors(validateEvent.errors ?? []);
  const event = item as PlaybackEventInput;
  const errors = occurredAtErrors(event.occurred_at, now, windowDays);
  if (event.properties !== undefined && JSON.stringify(event.properties).length > MAX_PROPERTIES_BYTES) {
    errors.push({ path: '/properties', message: `must be at most ${MAX_PROPERTIES_BYTES} bytes of JSON` });
  }
  return errors;
}

export async function ingestEvents(deps: IngestDeps, caller: IngestCaller, body: unknown, now = Date.now()): Promise<IngestResult> {
  const { items, single } = eventsOf(body);
  const rejected: IngestResult['rejected'] = [];
  const valid: { index: number; event: PlaybackEventInput }[] = [];
  items.forEach((item, index) => {
    const errors = shapeErrors(item, now, deps.windowDays);
    if (errors.length > 0) rejected.push({ index, errors });
    else valid.push({ index, event: item as PlaybackEventInput });
  });

  const placements = await deps.placements.get(valid.map((v) => v.event.placement_id));
  const creatorId = caller.kind === 'key' ? caller.creatorId : undefined;
  const accepted: AcceptedEvent[] = [];
  for (const { index, event } of valid) {
    const facts = placements.get(event.placement_id);
    const errors = placementErrors(event, facts, creatorId);
    if (errors.length > 0 || !facts) rejected.push({ index, errors });
    else accepted.push({ ...event, product_id: facts.productId, ingest_key_id: caller.kind === 'key' ? caller.keyId : null });
  }
  rejected.sort((a, b) => a.index - b.index);

  if (accepted.length === 0) {
    // Nothing could be taken: the request as a whole is invalid (and nothing changed).
    const prefix = (index: number) => (single ? '' : `/events/${index}`);
    throw invalidBody(
      single ? 'the event is invalid' : 'no event of the batch is valid',
      rejected.flatMap((r) => r.errors.map((e) => ({ path: `${prefix(r.index)}${e.path === '/' ? '' : e.path}` || '/', message: e.message }))),
    );
  }
  const fresh = await deps.groupCommit.submit(accepted);
  return { accepted: fresh.size, duplicates: accepted.length - fresh.size, rejected };
}
