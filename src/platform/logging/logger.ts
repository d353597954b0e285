import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

/** Lines are written in batches of this many bytes at least (or every FLUSH_EVERY_MS). */
const BATCH_BYTES = 64 * 1024;
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
  const sink = pino.destination({ dest: 1, minLength: BATCH_BYTES, maxWrite: 4 * BATCH_BYTES, sync: false, contentMode: 'buffer' });
  // Lines go to sonic-boom as Buffers: in buffer mode it adds up their lengths, while
  // in text mode it measures the batch so far again on every line (half the cost of
  // a request's log line, measured). Its typings only name the text mode.
  const writeBuffer = sink.write.bind(sink) as unknown as (line: Buffer) => boolean;
  const destination = {
    write: (line: string) => writeBuffer(Buffer.from(line)),
    flush: (done?: (error?: Error) => void) => sink.flush(done),
    flushSync: () => sink.flushSync(),
  };
  const timer = setInterval(() => {
    try {
      sink.flush();
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
