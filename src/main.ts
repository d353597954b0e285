/** `npm start`: the whole service in one process. */
import { ConfigError, loadConfig } from './config.js';
import { startServer } from './interface/http/server.js';

try {
  await startServer(loadConfig());
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
  } else {
    process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
}
