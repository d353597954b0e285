/** Lets the notifier nudge the dispatchers of its own process when it queued deliveries. */
const listeners = new Set<() => void>();

export function onDispatcherWake(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Wakes every dispatcher of this process after `delayMs` (time for the queuing transaction to commit). */
export function wakeDispatchers(delayMs = 0): void {
  if (listeners.size === 0) return;
  setTimeout(() => {
    for (const listener of listeners) listener();
  }, delayMs).unref();
}
