/**
 * Configuration from environment variables, validated once at start. A bad or
 * missing value stops the process with one line naming the variable and what it
 * expects. `.env.example` documents every variable listed in `SETTINGS`.
 */
import path from 'node:path';

export type EventBusKind = 'postgres' | 'nats' | 'redis' | 'rabbitmq' | 'sqs';
export type StorageKind = 'local' | 's3';
export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  migrateOnStart: boolean;
  eventBus: EventBusKind;
  storage: StorageKind;
  nodeEnv: NodeEnv;
  logLevel: LogLevel;
  auth: {
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    devIssuer: boolean;
  };
  corsOrigins: string[];
  fetchAllowHosts: string[];
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    value: string | undefined,
  ) {
    super(`${variable}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(name, `one of ${values.join(', ')}`, raw);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `an integer from ${min} to ${max}`, raw);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(name, '1 or 0', raw);
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = new URL(raw);
    if (protocols.includes(parsed.protocol)) return raw;
  } catch {
    // reported below
  }
  throw new ConfigError(name, `a URL (${protocols.join(' or ')})`, raw);
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Every variable the service reads; `.env.example` must document each. */
export const SETTINGS = [
  'PORT',
  'HOST',
  'DATA_DIR',
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'MIGRATE_ON_START',
  'EVENT_BUS',
  'STORAGE',
  'NODE_ENV',
  'LOG_LEVEL',
  'AUTH_JWKS_URL',
  'AUTH_ISSUER',
  'AUTH_AUDIENCE',
  'AUTH_DEV_ISSUER',
  'CORS_ORIGINS',
  'FETCH_ALLOW_HOSTS',
  'SHUTDOWN_TIMEOUT_MS',
] as const;

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const production = nodeEnv === 'production';
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const devIssuer = flag(env, 'AUTH_DEV_ISSUER', false);
  if (devIssuer && production) {
    throw new ConfigError('AUTH_DEV_ISSUER', 'unset or 0 when NODE_ENV=production', env.AUTH_DEV_ISSUER);
  }
  const config: Config = {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    // Embedded and development databases migrate themselves; production only when told.
    migrateOnStart: flag(env, 'MIGRATE_ON_START', databaseUrl === undefined || !production),
    eventBus: oneOf(env, 'EVENT_BUS', ['postgres', 'nats', 'redis', 'rabbitmq', 'sqs'], 'postgres'),
    storage: oneOf(env, 'STORAGE', ['local', 's3'], 'local'),
    nodeEnv,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    auth: {
      jwksUrl: url(env, 'AUTH_JWKS_URL', ['https:', 'http:', 'file:']),
      issuer: env.AUTH_ISSUER || undefined,
      audience: env.AUTH_AUDIENCE || undefined,
      devIssuer,
    },
    corsOrigins: list(env, 'CORS_ORIGINS'),
    fetchAllowHosts: list(env, 'FETCH_ALLOW_HOSTS'),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
  };
  return config;
}
