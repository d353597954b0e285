/** `npm start` (everything in one process), `npm run api`, `npm run worker`: see interface/process/run-process.ts. */
import { ConfigError, loadConfig } from './config.js';
import { parseMode, runProcess } from './interface/process/run-process.js';

try {
  const mode = parseMode(process.argv[2]);
  await runProcess(loadConfig(), mode);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
  } else {
    process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
}
