/**
 * A process that takes the lock of the data directory in argv[2] and prints `won`, or
 * prints `refused <holder pid>`; a winner holds the lock until its stdin closes.
 */
import { acquireDataDirLock, DataDirInUseError } from '../../src/platform/db/data-dir-lock.js';

try {
  const lock = await acquireDataDirLock(process.argv[2] as string, { command: 'lock-child' });
  process.stdout.write('won\n');
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
  lock.release();
} catch (error) {
  if (!(error instanceof DataDirInUseError)) throw error;
  process.stdout.write(`refused ${error.holder.pid}\n`);
}
