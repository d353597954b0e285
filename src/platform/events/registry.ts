/**
 * The event registry: every event type the system emits, with a TypeBox schema per
 * major version, and the upcasters between versions. Events are checked against it when
 * appended to the outbox and when a consumer receives them; `npm run docs:events`
 * exports it as JSON Schema. Each feature declares its event types as an `EventTypeSet`;
 * src/entry/event-types.ts installs every feature's set into `eventRegistry`.
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Executor } from '../db/schema.js';
import type { CloudEvent } from './cloud-event.js';
import { upcast, type Upcaster } from './upcasters.js';

export interface EventDefinition<S extends TSchema = TSchema> {
  type: string;
  version: number;
  description: string;
  schema: S;
  /** Who emits it (documentation). */
  producer: string;
}

export interface EventProblem {
  path: string;
  message: string;
}

/** What a feature declares: its event types (every version) and the upcasters between them. */
export interface EventTypeSet {
  definitions: readonly EventDefinition[];
  upcasters?: readonly Upcaster[];
}

type Validator = { Check(value: unknown): boolean; Errors(value: unknown): Iterable<{ instancePath: string; message: string }> };

export class EventRegistry {
  readonly #definitions = new Map<string, EventDefinition>();
  readonly #validators = new Map<string, Validator>();
  readonly #latest = new Map<string, number>();
  readonly #upcasters: Upcaster[] = [];

  /** Adds a feature's event types; installing the same set again changes nothing. */
  install(set: EventTypeSet): this {
    for (const definition of set.definitions) {
      if (this.#definitions.get(`${definition.type}@${definition.version}`) !== definition) this.define(definition);
    }
    for (const upcaster of set.upcasters ?? []) if (!this.#upcasters.includes(upcaster)) this.#upcasters.push(upcaster);
    return this;
  }

  define<S extends TSchema>(definition: EventDefinition<S>): EventDefinition<S> {
    const key = `${definition.type}@${definition.version}`;
    if (this.#definitions.has(key)) throw new Error(`event ${key} is defined twice`);
    this.#definitions.set(key, definition);
    this.#validators.set(key, Compile(definition.schema) as unknown as Validator);
    this.#latest.set(definition.type, Math.max(definition.version, this.#latest.get(definition.type) ?? 0));
    return definition;
  }

  get(type: string, version: number): EventDefinition | undefined {
    return this.#definitions.get(`${type}@${version}`);
  }

  /** The newest major version of `type`, or undefined if it is not registered. */
  latestVersion(type: string): number | undefined {
    return this.#latest.get(type);
  }

  all(): EventDefinition[] {
    return [...this.#definitions.values()].sort((a, b) => a.type.localeCompare(b.type) || a.version - b.version);
  }

  upcasters(): readonly Upcaster[] {
    return this.#upcasters;
  }

  /** The event at the latest version its upcasters reach; they read what they need in `tx`. */
  upcast(event: CloudEvent, tx: Executor): Promise<CloudEvent> {
    return upcast(event, tx, this.#upcasters);
  }

  /** Problems of an event against its registered schema; empty when valid. */
  problems(event: Pick<CloudEvent, 'type' | 'schemaversion' | 'data'>): EventProblem[] {
    const validator = this.#validators.get(`${event.type}@${event.schemaversion}`);
    if (!validator) return [{ path: '/type', message: `${event.type} v${event.schemaversion} is not a registered event` }];
    if (validator.Check(event.data)) return [];
    return [...validator.Errors(event.data)].slice(0, 20).map((e) => ({ path: `/data${e.instancePath}`, message: e.message }));
  }
}

/** The process's registry: every feature's event types, installed by src/entry/event-types.ts. */
export const eventRegistry = new EventRegistry();
