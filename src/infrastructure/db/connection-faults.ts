/**
 * Lost or unreachable PostgreSQL connections: how to recognise them, so that a
 * request answers 503 `DEPENDENCY.UNAVAILABLE` (with `retry-after`) instead of 500.
 */
import { DomainError } from '../../domain/errors.js';

/** Node socket errors that mean the server cannot be reached or the link dropped. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Messages pg gives to a lost connection or a timeout it enforces on the client side. */
const PG_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Query read timeout/i,
  /Client has encountered a connection error/i,
  /Client was closed and is not queryable/i,
  /Connection terminated due to connection timeout/i,
];

/**
 * SQLSTATEs of a server going away or refusing work: admin shutdown, crash shutdown,
 * cannot connect now, and the connection-exception class (08xxx). 57014 (a
 * statement_timeout) is also a sign the database cannot answer in time.
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '25P03']);

export function isConnectionFault(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || SQLSTATES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return true;
  if (typeof e.message === 'string' && PG_MESSAGES.some((pattern) => pattern.test(e.message as string))) return true;
  return e.cause !== undefined && e.cause !== error && isConnectionFault(e.cause);
}

/** Seconds a client is told to wait before retrying during an outage. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

export function unavailable(error: unknown): DomainError {
  return new DomainError('unavailable', 'DEPENDENCY.UNAVAILABLE', 'the database is unavailable; retry shortly', [], { cause: error });
}
