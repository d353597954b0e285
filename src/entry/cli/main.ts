/**
 * `npm run cli -- <command>`. Each command prints its result on stdout and its
 * errors as one line on stderr, and exits non-zero on failure.
 *
 * A command's module (and what it imports: the database, the buses) is loaded only
 * when that command runs, so `token` and the usage answer without loading the rest.
 * The usage lines repeat each module's exported usage (test/cli/cli-main.test.ts
 * checks they agree).
 */
import { ConfigError, loadConfig } from '../../platform/config/config.js';

type Command = (args: string[], out: (line: string) => void) => Promise<void>;

export const commands: Record<string, { usage: string; run: Command }> = {
  migrate: {
    usage: 'migrate up|down|status',
    run: async (args, out) => (await import('./migrate-command.js')).migrateCommand(loadConfig(), args, out),
  },
  token: {
    usage: 'token --role admin|advertiser|creator [--sub ID] [--advertiser ID] [--ttl 1h]   mint a development token (AUTH_DEV_ISSUER=1)',
    run: async (args, out) => (await import('./token-command.js')).tokenCommand(loadConfig(), args, out),
  },
  'dead-letters': {
    usage: 'dead-letters list [--status S] [--consumer NAME] [--limit N] | show ID | replay ID | discard ID',
    run: async (args, out) => (await import('./dead-letters-command.js')).deadLettersCommand(loadConfig(), args, out),
  },
  'seed-demo': {
    usage: 'seed-demo',
    run: async (args, out) => (await import('./seed-demo-command.js')).seedDemoCommand(loadConfig(), args, out),
  },
  backup: {
    usage: 'backup [--out FILE]   copy the embedded database (DATA_DIR), also while the service runs',
    run: async (args, out) => (await import('./backup-command.js')).backupCommand(loadConfig(), args, out),
  },
  restore: {
    usage: 'restore FILE   restore a backup into an empty DATA_DIR (the service stopped)',
    run: async (args, out) => (await import('./restore-command.js')).restoreCommand(loadConfig(), args, out),
  },
  archive: {
    usage: 'archive [--dry-run]   archive every partition past its retention to object storage (verified), then drop it',
    run: async (args, out) => void (await (await import('./archive-command.js')).archiveCommand(loadConfig(), args, out)),
  },
  'restore-archive': {
    usage: 'restore-archive TABLE PARTITION [--into NAME] | restore-archive MANIFEST_KEY   load one archive back into a table for audit (verified first)',
    run: async (args, out) => void (await (await import('./restore-archive-command.js')).restoreArchiveCommand(loadConfig(), args, out)),
  },
};

function usage(): string {
  return ['usage: npm run cli -- <command>', ...Object.values(commands).map((c) => `  ${c.usage}`)].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
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
}

if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
