/**
 * Who is calling: resolved from a verified token (or an ingest key) by the interface
 * layer, and passed to every use case, which enforces what the role may do.
 */
export type Role = 'admin' | 'advertiser' | 'creator';

export interface Actor {
  /** The identity provider's `sub`. */
  userId: string;
  roles: readonly Role[];
  /** `custom:advertiser_id`, for advertisers. */
  advertiserId?: string;
}

export const hasRole = (actor: Actor, role: Role): boolean => actor.roles.includes(role);
export const isAdmin = (actor: Actor): boolean => hasRole(actor, 'admin');
export const isCreator = (actor: Actor): boolean => hasRole(actor, 'creator');

/** The advertiser an advertiser acts for, if the actor is one (and has the claim). */
export function advertiserScope(actor: Actor): string | undefined {
  return hasRole(actor, 'advertiser') ? actor.advertiserId : undefined;
}
