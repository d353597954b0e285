/**
 * The caller as use cases receive it (see domain/actor.ts), and the context of a command.
 */
import type { Actor } from '../domain/actor.js';

export { hasRole, isAdmin, type Actor, type Role } from '../domain/actor.js';

/** Where a command came from: who, and the request it belongs to (correlation id). */
export interface CommandContext {
  actor: Actor;
  correlationId: string;
  traceparent?: string;
}
