/**
 * Standard Webhooks signatures: secrets are `whsec_` + base64 of 24–64 random bytes;
 * a message is signed as `v1,` + base64(HMAC-SHA256(secret bytes, "<id>.<timestamp>.<body>"));
 * while a rotation overlaps, `webhook-signature` carries one signature per secret,
 * separated by spaces, and a receiver accepts the message when any of them verifies.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** What a secret a client chooses must look like: the prefix and base64 of 24 to 64 bytes. */
export const SECRET_PATTERN = '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$';

export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** Whether a client's secret decodes to 24–64 bytes. */
export function isUsableSecret(secret: string): boolean {
  if (!new RegExp(SECRET_PATTERN).test(secret)) return false;
  const bytes = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return bytes.length >= 24 && bytes.length <= 64;
}

export function sign(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The three Standard Webhooks headers for one attempt, signed with every secret given. */
export function signatureHeaders(secrets: readonly string[], messageId: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => sign(s, messageId, timestampSeconds, body)).join(' '),
  };
}
