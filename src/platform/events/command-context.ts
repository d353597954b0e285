/**
 * The caller as use cases receive it (see auth/actor.ts), and the context of a command.
 */
import type { Actor } from '../auth/actor.js';

export { hasRole, isAdmin, type Actor, type Role } from '../auth/actor.js';

/** Where a command came from: who, and the request it belongs to (correlation id). */
export interface CommandContext {
  actor: Actor;
  correlationId: string;
  traceparent?: string;
}
