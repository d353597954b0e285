/**
 * Remembers tokens that passed verification, so a client sending the same token
 * on every request pays for the signature check once a minute instead of every
 * time. Only successes are kept, never past the token's own `exp`, and for at most
 * `maxAgeMs`, which bounds how long a key removed from the JWKS keeps working.
 */
import { decodeJwt } from 'jose';
import type { Actor } from './actor.js';
import type { TokenVerifier } from './jwt-verifier.js';

export interface VerifiedTokenCacheOptions {
  maxEntries?: number;
  maxAgeMs?: number;
  now?: () => number;
}

export function withVerifiedTokenCache(
  verify: TokenVerifier,
  { maxEntries = 10_000, maxAgeMs = 60_000, now = Date.now }: VerifiedTokenCacheOptions = {},
): TokenVerifier {
  const verified = new Map<string, { actor: Actor; until: number }>();
  const known = (token: string): Actor | undefined => {
    const hit = verified.get(token);
    if (!hit) return undefined;
    if (hit.until > now()) return hit.actor;
    verified.delete(token);
    return undefined;
  };
  const verifyOnce = async (token: string): Promise<Actor> => {
    const hit = known(token);
    if (hit) return hit;
    const at = now();
    const actor = Object.freeze(await verify(token));
    // The signature has just been checked, so the payload can be read as is.
    const exp = decodeJwt(token).exp;
    const until = Math.min(at + maxAgeMs, typeof exp === 'number' ? exp * 1000 : at);
    if (until > at) {
      // Oldest first: a Map iterates in insertion order.
      if (verified.size >= maxEntries) verified.delete(verified.keys().next().value as string);
      verified.set(token, { actor, until });
    }
    return actor;
  };
  return Object.assign(verifyOnce, { known });
}
