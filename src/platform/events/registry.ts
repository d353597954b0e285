/**
 * The event registry: every event type the system emits, with a TypeBox schema per
 * major version. Events are checked against it when appended to the outbox and when
 * a consumer receives them; `npm run docs:events` exports it as JSON Schema.
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { CloudEvent } from './cloud-event.js';

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

type Validator = { Check(value: unknown): boolean; Errors(value: unknown): Iterable<{ instancePath: string; message: string }> };

export class EventRegistry {
  readonly #definitions = new Map<string, EventDefinition>();
  readonly #validators = new Map<string, Validator>();
  readonly #latest = new Map<string, number>();

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

  /** Problems of an event against its registered schema; empty when valid. */
  problems(event: Pick<CloudEvent, 'type' | 'schemaversion' | 'data'>): EventProblem[] {
    const validator = this.#validators.get(`${event.type}@${event.schemaversion}`);
    if (!validator) return [{ path: '/type', message: `${event.type} v${event.schemaversion} is not a registered event` }];
    if (validator.Check(event.data)) return [];
    return [...validator.Errors(event.data)].slice(0, 20).map((e) => ({ path: `/data${e.instancePath}`, message: e.message }));
  }
}
