/**
 * `token --role admin|advertiser|creator [--sub ID] [--advertiser ID] [--ttl 1h]`:
 * mints a token with the development issuer and prints it alone on stdout, so
 * `TOKEN=$(npm run -s cli -- token --role admin)` works.
 */
import { parseArgs } from 'node:util';
import type { Actor, Role } from '../../platform/events/command-context.js';
import type { Config } from '../../platform/config/config.js';
import { DevIssuerKeyMissingError, openDevIssuer } from '../../platform/auth/dev-issuer.js';

export const tokenUsage =
  'token --role admin|advertiser|creator [--sub ID] [--advertiser ID] [--ttl 1h]   mint a development token (AUTH_DEV_ISSUER=1)';

const ROLES: readonly Role[] = ['admin', 'advertiser', 'creator'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const MAX_TTL_SECONDS = 30 * 86_400;

/** Stable default subjects, so tokens minted one after another act as the same user. */
export const DEFAULT_SUBJECT: Record<Role, string> = {
  admin: '00000000-0000-4000-8000-00000000ad01',
  advertiser: '00000000-0000-4000-8000-00000000ad02',
  creator: '00000000-0000-4000-8000-00000000c001',
};

/** `90s`, `15m`, `1h`, `7d` → seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d{1,7})([smhd])$/.exec(text);
  const seconds = match ? Number(match[1]) * SECONDS[match[2] as keyof typeof SECONDS] : 0;
  if (seconds <= 0 || seconds > MAX_TTL_SECONDS) {
    throw new Error(`token: --ttl must be a duration like 90s, 15m, 1h or 7d, at most 30d (got "${text}")`);
  }
  return seconds;
}

function parsed(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        role: { type: 'string' },
        sub: { type: 'string' },
        advertiser: { type: 'string' },
        ttl: { type: 'string', default: '1h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new Error(`token: ${(error as Error).message.split('.')[0]}; usage: ${tokenUsage.split('   ')[0]}`);
  }
}

export async function tokenCommand(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  if (config.nodeEnv === 'production') {
    throw new Error('token: the development issuer is refused when NODE_ENV=production');
  }
  if (!config.auth.devIssuer) {
    throw new Error('token: the development issuer is off: set AUTH_DEV_ISSUER=1 (for the service too, so it accepts the token)');
  }
  const { values } = parsed(args);
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) throw new Error(`token: --role must be one of ${ROLES.join(', ')}`);
  if (role === 'advertiser' && !values.advertiser) {
    throw new Error('token: --role advertiser needs --advertiser <advertiser id> (the scope of the token)');
  }
  if (values.advertiser !== undefined) {
    if (role !== 'advertiser') throw new Error('token: --advertiser only goes with --role advertiser');
    if (!UUID.test(values.advertiser)) throw new Error(`token: --advertiser must be an advertiser id (a UUID), got "${values.advertiser}"`);
  }
  if (values.sub !== undefined && !/^[\w\-.:@]{1,128}$/.test(values.sub)) {
    throw new Error('token: --sub must be 1-128 letters, digits or - _ . : @');
  }
  const actor: Actor = {
    userId: values.sub ?? DEFAULT_SUBJECT[role],
    roles: [role],
    ...(values.advertiser ? { advertiserId: values.advertiser.toLowerCase() } : {}),
  };
  // Never make the key here: a service started before would not know it and refuse the token.
  const issuer = await openDevIssuer(config.dataDir, { create: false }).catch((error: unknown) => {
    if (!(error instanceof DevIssuerKeyMissingError)) throw error;
    throw new Error(
      `token: no development issuer key in DATA_DIR=${config.dataDir} (${error.keyFile} is missing): ` +
        'start the service once with AUTH_DEV_ISSUER=1 and the same DATA_DIR to create it',
    );
  });
  out(await issuer.mint(actor, { ttlSeconds: parseTtl(values.ttl ?? '1h') }));
}
