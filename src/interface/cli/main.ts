/**
 * `npm run cli -- <command>`. Each command prints its result on stdout and its
 * errors as one line on stderr, and exits non-zero on failure.
 */
import { ConfigError, loadConfig } from '../../config.js';
import { migrateCommand, migrateUsage } from './migrate-command.js';
import { tokenCommand, tokenUsage } from './token-command.js';
import { deadLettersCommand, deadLettersUsage } from './dead-letters-command.js';
import { seedDemoCommand, seedDemoUsage } from './seed-demo-command.js';

type Command = (args: string[], out: (line: string) => void) => Promise<void>;

const commands: Record<string, { usage: string; run: Command }> = {
  migrate: { usage: migrateUsage, run: (args, out) => migrateCommand(loadConfig(), args, out) },
  token: { usage: tokenUsage, run: (args, out) => tokenCommand(loadConfig(), args, out) },
  'dead-letters': { usage: deadLettersUsage, run: (args, out) => deadLettersCommand(loadConfig(), args, out) },
  'seed-demo': { usage: seedDemoUsage, run: (args, out) => seedDemoCommand(loadConfig(), args, out) },
};

function usage(): string {
  return ['usage: npm run cli -- <command>', ...Object.values(commands).map((c) => `  ${c.usage}`)].join('\n');
}

const [name, ...args] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  process.stderr.write(`${usage()}\n`);
  process.exit(2);
}
try {
  await command.run(args, (line) => process.stdout.write(`${line}\n`));
} catch (error) {
  const message = error instanceof ConfigError ? `configuration error: ${error.message}` : error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
}
