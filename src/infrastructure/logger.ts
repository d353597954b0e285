import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

/** Lines are written in batches of this many bytes at least (or every FLUSH_EVERY_MS). */
const BATCH_BYTES = 4096;
const FLUSH_EVERY_MS = 1000;

/**
 * JSON logs on stdout; secrets in headers are never written.
 *
 * Lines are buffered and written in batches (BATCH_BYTES, and at least every
 * FLUSH_EVERY_MS), not one write per line: at a few thousand requests a second
 * the per-line writes cost the API more CPU than the line itself. What is
 * buffered is written out when the process exits (normal exit, a signal handled
 * by the shutdown, an uncaught error); only a hard kill (SIGKILL, OOM) can lose
 * up to the last second of lines.
 */
export function createLogger(level: LogLevel): Logger {
  const destination = pino.destination({ dest: 1, minLength: BATCH_BYTES, sync: false });
  const timer = setInterval(() => {
    try {
      destination.flush();
    } catch {
      // the destination is closed: the process is ending
    }
  }, FLUSH_EVERY_MS);
  timer.unref();
  return pino(
    {
      level,
      base: { service: 'nedlia' },
      redact: ['req.headers.authorization', 'req.headers["x-nedlia-key"]', 'req.headers.cookie'],
    },
    destination,
  );
}
