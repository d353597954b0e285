export class InvalidObjectKeyError extends Error {
  readonly code = 'STORAGE.INVALID_KEY';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`object key ${JSON.stringify(key)} refused: ${reason}`);
    this.name = 'InvalidObjectKeyError';
  }
}

export class StorageTimeoutError extends Error {
  readonly code = 'STORAGE.TIMEOUT';
  constructor(
    readonly operation: string,
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super(`storage ${operation} of ${JSON.stringify(key)} did not finish within ${timeoutMs} ms`);
    this.name = 'StorageTimeoutError';
  }
}
