/**
 * Lost or unreachable PostgreSQL connections: how to recognise them, so that a
 * request answers 503 `DEPENDENCY.UNAVAILABLE` (with `retry-after`) instead of 500.
 */
import { DomainError } from '../errors.js';

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

/**
 * Insufficient resources (class 53): disk full (53100), out of memory, too many
 * connections. The database is up but cannot take the work now; it can again once the
 * resource is back, so it is answered like an outage, not as a failure of the request.
 */
const DISK_FULL = '53100';
const isResourceShortage = (code: string): boolean => /^53[0-9A-Z]{3}$/.test(code);

export function isConnectionFault(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || SQLSTATES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code) || isResourceShortage(e.code))) {
    return true;
  }
  if (typeof e.message === 'string' && PG_MESSAGES.some((pattern) => pattern.test(e.message as string))) return true;
  return e.cause !== undefined && e.cause !== error && isConnectionFault(e.cause);
}

/** Seconds a client is told to wait before retrying during an outage. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/** Whether the database refused a write for want of disk space (PGlite on a full `DATA_DIR`, or a server's disk). */
export function isDiskFull(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === DISK_FULL) return true;
  }
  return false;
}

export function unavailable(error: unknown): DomainError {
  const detail = isDiskFull(error)
    ? 'the database has no disk space left to write; nothing was stored; retry once space is freed'
    : 'the database is unavailable; retry shortly';
  return new DomainError('unavailable', 'DEPENDENCY.UNAVAILABLE', detail, [], { cause: error });
}
