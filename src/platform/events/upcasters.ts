/**
 * Upcasters: turn an event written under an older schema version into the current one,
 * so a consumer only ever handles the latest shape while old events still flow (during a
 * migration, or when dead letters are replayed). Each upcaster moves one version up;
 * `upcast` chains them. The feature that owns an event type writes its upcasters (beside
 * its event types); when the old shape lacks a fact the new one carries, the upcaster
 * reads it in the consumer's transaction, which it is given.
 */
import type { Executor } from '../db/schema.js';
import type { CloudEvent } from './cloud-event.js';

export interface Upcaster {
  type: string;
  from: number;
  to: number;
  upcast(data: unknown, tx: Executor): Promise<unknown>;
}

export class UpcastError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpcastError';
  }
}

/** The event at the highest version the upcasters reach from its own. */
export async function upcast(event: CloudEvent, tx: Executor, all: readonly Upcaster[]): Promise<CloudEvent> {
  let current = event;
  for (;;) {
    const next = all.find((u) => u.type === current.type && u.from === current.schemaversion);
    if (!next) return current;
    current = { ...current, data: await next.upcast(current.data, tx), schemaversion: next.to };
  }
}
