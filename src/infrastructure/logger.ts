import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

/** JSON logs on stdout; secrets in headers are never written. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'nedlia' },
    redact: ['req.headers.authorization', 'req.headers["x-nedlia-key"]', 'req.headers.cookie'],
  });
}
