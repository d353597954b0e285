import { StorageTimeoutError } from './storage-errors.js';

/**
 * Runs `fn` with a signal that aborts after `timeoutMs`, and answers by then: on
 * time out the call rejects with `StorageTimeoutError` at once (whatever the
 * aborted work throws later is dropped).
 */
export async function boundedCall<T>(operation: string, key: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new StorageTimeoutError(operation, key, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const work = fn(controller.signal);
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
