/**
 * Configuration from environment variables, validated once at start. A bad or
 * missing value stops the process with one line naming the variable and what it
 * expects. Each setting is declared once, where `loadConfig` reads it (see `settingNames`).
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ConfigError, flag, integer, list, oneOf, url, type Env } from './config-values.js';

export { ConfigError };

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
  /** Each connection's password is an RDS IAM auth token (platform/db/iam-auth.ts); DATABASE_URL then has none and requires TLS. */
  databaseIamAuth: boolean;
  /** Bounded waits on PostgreSQL (milliseconds; 0 turns one off). */
  databaseTimeouts: { connectMs: number; queryMs: number; backgroundQueryMs: number; statementMs: number; idleInTransactionMs: number };
  /** Rows the API keeps in its read cache (GET of one placement); 0 turns it off. */
  readCacheSize: number;
  migrateOnStart: boolean;
  eventBus: EventBusKind;
  storage: StorageKind;
  /** Read only by the adapter `STORAGE` selects. */
  objectStorage: {
    /** Bound on each storage call (ms). */
    timeoutMs: number;
    s3: { bucket: string | undefined; region: string | undefined; endpoint: string | undefined; forcePathStyle: boolean };
  };
  nodeEnv: NodeEnv;
  logLevel: LogLevel;
  auth: {
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    devIssuer: boolean;
  };
  /** Largest request body accepted; larger ones get 413. */
  bodyLimitBytes: number;
  /**
   * Requests per caller per window; `max: 0` turns rate limiting off. `store`:
   * counted in each process (`memory`) or shared by every process through Redis
   * (`redis`, at `brokers.redisUrl`, keys under `brokers.namespace`).
   */
  rateLimit: { max: number; windowMs: number; store: 'memory' | 'redis' };
  /** Proxies in front whose `x-forwarded-for` gives the client address: a hop count, or their addresses/CIDRs. */
  trustProxy: number | string[];
  corsOrigins: string[];
  fetchAllowHosts: string[];
  shutdownTimeoutMs: number;
  /** Consumers a worker runs (`CONSUMERS=a,b`); all when empty. */
  consumers: string[];
  /** Days a consumer's inbox remembers a processed event (hourly purge, see inbox-repository.ts). */
  inboxRetentionDays: number;
  /** Days after its month ends that an `event_log` partition is archived to object storage and dropped (platform/archive/). */
  eventLogRetentionDays: number;
  /** Days a replayed or discarded dead letter is kept after it was resolved (never less than the inbox's). */
  deadLetterRetentionDays: number;
  /** Days a finished webhook delivery (succeeded or failed) and its attempts are kept. */
  webhookDeliveryRetentionDays: number;
  /** Video analysis (features/analysis): limits of one analysis and of a worker. */
  analysis: {
    /** Analyses a worker process runs at once. */
    concurrency: number;
    /** Largest media file downloaded; a larger one fails the analysis. */
    maxDownloadBytes: number;
    /** Longest media analysed (seconds). */
    maxDurationSeconds: number;
    /** Bound on the download, and on each tool run (ffprobe, ffmpeg, the transcriber). */
    timeoutMs: number;
    /** Address-space cap of each tool run. */
    memoryLimitBytes: number;
    /** Where downloads and audio live while an analysis runs (swept at start). */
    tempDir: string;
    /** The pocketsphinx acoustic model, dictionary and language model (Debian's pocketsphinx-en-us). */
    pocketsphinxModelDir: string;
    /** pocketsphinx runs one analysis's audio on this many cores (split at silences); 1 transcribes it in one run. */
    transcribeParallel: number;
  };
  /** Port on which a worker serves /health and /metrics; none when undefined. */
  metricsPort: number | undefined;
  /** Event ingestion (features/ingestion): admission window (= dedup window), raw retention, per-key limit. */
  ingestion: { windowDays: number; rawRetentionDays: number; keyRateLimitMax: number };
  /** Bound on one webhook attempt, the answer's body included (ms). */
  webhookTimeoutMs: number;
  /** Webhook attempts a process has in flight at once. */
  webhookConcurrency: number;
  /** Broker connections, read only by the adapter `EVENT_BUS` selects. */
  brokers: {
    /**
     * `BUS_NAMESPACE`: the name the brokers' resources are created under (Redis keys,
     * RabbitMQ exchanges and queues, the NATS stream and subjects), so that deployments or
     * test runs sharing a broker stay apart.
     */
    namespace: string;
    natsUrl: string;
    redisUrl: string;
    rabbitmqUrl: string;
    sqs: { region: string | undefined; endpoint: string | undefined; queuePrefix: string; eventBridgeBusName: string | undefined };
  };
}

/**
 * `CORS_ORIGINS`: exact origins (`scheme://host[:port]`, no path, no trailing slash), as a
 * browser sends them in `Origin`; an entry of another shape would never match, so it is
 * refused. `*` is refused as well: every origin is never what a token-carrying API wants.
 */
function origins(env: Env): string[] {
  const entries = list(env, 'CORS_ORIGINS');
  const expected = 'comma-separated origins like https://app.example.com or http://localhost:5173 (scheme://host[:port], no path, no trailing slash, no *)';
  for (const entry of entries) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(entry);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== entry) {
      throw new ConfigError('CORS_ORIGINS', expected, entry);
    }
  }
  return entries;
}

const TOKEN_ISSUER = ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const;

/**
 * An external token issuer is the three variables together: a key set without an
 * issuer or audience to check would accept any token signed by those keys.
 * A plain `http:` key set is only accepted outside production (a local IdP).
 */
function tokenIssuer(env: Env, production: boolean): Omit<Config['auth'], 'devIssuer'> {
  const set = TOKEN_ISSUER.filter((name) => (env[name] ?? '') !== '');
  if (set.length === 0) return { jwksUrl: undefined, issuer: undefined, audience: undefined };
  const missing = TOKEN_ISSUER.find((name) => !set.includes(name));
  if (missing) {
    throw new ConfigError(missing, `to be set as well when ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} (AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE go together)`, undefined);
  }
  return {
    jwksUrl: url(env, 'AUTH_JWKS_URL', production ? ['https:', 'file:'] : ['https:', 'file:', 'http:']),
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
  };
}

/**
 * `FETCH_ALLOW_HOSTS`: host names or IP addresses, as the host of a URL (no scheme, port
 * or path), compared exactly; an entry of another shape would never match, so it is refused.
 */
function fetchAllowHosts(env: Env): string[] {
  const hosts = list(env, 'FETCH_ALLOW_HOSTS').map((h) => h.toLowerCase());
  const name = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;
  for (const host of hosts) {
    if (!name.test(host) && isIP(host.replace(/^\[|\]$/g, '')) === 0) {
      throw new ConfigError('FETCH_ALLOW_HOSTS', 'comma-separated host names or IP addresses (media.example.com, 10.0.0.5, ::1), without scheme, port or path', host);
    }
  }
  return hosts;
}

/** `TRUST_PROXY`: unset or a hop count (`1` behind one load balancer), or proxy addresses/CIDRs. */
function proxies(env: Env): number | string[] {
  const raw = env.TRUST_PROXY ?? '';
  if (/^\d+$/.test(raw)) return integer(env, 'TRUST_PROXY', 0, 0, 10);
  const addresses = list(env, 'TRUST_PROXY');
  if (addresses.every((a) => /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(a))) return addresses.length > 0 ? addresses : 0;
  throw new ConfigError('TRUST_PROXY', 'a number of proxy hops (0-10) or comma-separated proxy addresses/CIDRs', raw);
}

/** `NATS_URL`: one server URL or a comma-separated list (a cluster). */
function natsServers(env: Env): string {
  const servers = list(env, 'NATS_URL');
  if (servers.length === 0) return 'nats://127.0.0.1:4222';
  for (const server of servers) url({ NATS_URL: server }, 'NATS_URL', ['nats:', 'tls:']);
  return servers.join(',');
}

/**
 * Lowercase, so that the NATS stream name (upper-cased) maps back to one namespace; no `.`
 * or `:`, which separate the parts of subjects and keys.
 */
function busNamespace(env: Env): string {
  const raw = env.BUS_NAMESPACE ?? '';
  if (raw === '') return 'nedlia';
  if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(raw)) throw new ConfigError('BUS_NAMESPACE', 'up to 40 lowercase letters, digits, - or _', raw);
  return raw;
}

/** Queue names are letters, digits, `-` and `_`, at most 80 with the consumer name. */
function sqsQueuePrefix(env: Env): string {
  const raw = env.SQS_QUEUE_PREFIX ?? '';
  if (raw === '') return 'nedlia-';
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(raw)) throw new ConfigError('SQS_QUEUE_PREFIX', 'up to 40 letters, digits, - or _', raw);
  return raw;
}

/**
 * `STORAGE=s3` needs `S3_BUCKET` (a valid bucket name); `S3_ENDPOINT` points at an
 * S3-compatible server instead of AWS, and then names the bucket in the path unless
 * `S3_FORCE_PATH_STYLE=0`. The region falls back to `AWS_REGION`.
 */
function objectStorage(env: Env, kind: StorageKind): Config['objectStorage'] {
  const bucket = env.S3_BUCKET || undefined;
  if (kind === 's3' && bucket === undefined) throw new ConfigError('S3_BUCKET', 'a bucket name when STORAGE=s3', undefined);
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError('S3_BUCKET', 'an S3 bucket name (3-63 lowercase letters, digits, . or -)', bucket);
  }
  const endpoint = url(env, 'S3_ENDPOINT', ['http:', 'https:']);
  return {
    timeoutMs: integer(env, 'STORAGE_TIMEOUT_MS', 60_000, 100, 3_600_000),
    s3: {
      bucket,
      region: env.S3_REGION || env.AWS_REGION || undefined,
      endpoint,
      forcePathStyle: flag(env, 'S3_FORCE_PATH_STYLE', endpoint !== undefined),
    },
  };
}

/**
 * `DATABASE_IAM_AUTH=1`: the password of each connection is an RDS auth token, sent as a
 * cleartext password, so DATABASE_URL must name the user, carry no password and require TLS
 * with the server's certificate checked (`sslmode=verify-full`, or `verify-ca`).
 */
function databaseIamAuth(env: Env, databaseUrl: string | undefined): boolean {
  if (!flag(env, 'DATABASE_IAM_AUTH', false)) return false;
  const expected = 'a DATABASE_URL with the user, no password and sslmode=verify-full (or verify-ca) when DATABASE_IAM_AUTH=1';
  if (!databaseUrl) throw new ConfigError('DATABASE_URL', expected, undefined);
  const parsed = new URL(databaseUrl);
  // The URL is not echoed: it may hold a password.
  const shown = `${parsed.protocol}//${parsed.username ? `${decodeURIComponent(parsed.username)}${parsed.password ? ':…' : ''}@` : ''}${parsed.host}${parsed.pathname}?sslmode=${parsed.searchParams.get('sslmode') ?? ''}`;
  if (!parsed.username || parsed.password || parsed.searchParams.has('password') || !['verify-full', 'verify-ca'].includes(parsed.searchParams.get('sslmode') ?? '')) {
    throw new ConfigError('DATABASE_URL', expected, shown);
  }
  return true;
}

/**
 * Every variable `loadConfig` reads, found by loading an empty environment and noting
 * what it asks for: each setting is declared once, where it is read, and
 * test/config.test.ts checks that `.env.example` and the README document every one.
 */
export function settingNames(): string[] {
  const read = new Set<string>();
  const recorder = new Proxy<Env>({}, {
    get(_target, key) {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  loadConfig(recorder);
  return [...read].sort();
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const production = nodeEnv === 'production';
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const devIssuer = flag(env, 'AUTH_DEV_ISSUER', false);
  if (devIssuer && production) {
    throw new ConfigError('AUTH_DEV_ISSUER', 'unset or 0 when NODE_ENV=production', env.AUTH_DEV_ISSUER);
  }
  const auth = tokenIssuer(env, production);
  const storage = oneOf<StorageKind>(env, 'STORAGE', ['local', 's3'], 'local');
  const config: Config = {
    port: integer(env, 'PORT', 3000, 0, 65535),
    // Outside production only this machine can reach the service (the development issuer may be on).
    host: env.HOST || (production ? '0.0.0.0' : '127.0.0.1'),
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    databaseIamAuth: databaseIamAuth(env, databaseUrl),
    databaseTimeouts: {
      connectMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 2_000, 0, 600_000),
      queryMs: integer(env, 'DATABASE_QUERY_TIMEOUT_MS', 2_000, 0, 600_000),
      backgroundQueryMs: integer(env, 'DATABASE_BACKGROUND_QUERY_TIMEOUT_MS', 15_000, 0, 3_600_000),
      statementMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 0, 600_000),
      idleInTransactionMs: integer(env, 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 10_000, 0, 600_000),
    },
    readCacheSize: integer(env, 'READ_CACHE_SIZE', 10_000, 0, 10_000_000),
    // Embedded and development databases migrate themselves; production only when told.
    migrateOnStart: flag(env, 'MIGRATE_ON_START', databaseUrl === undefined || !production),
    eventBus: oneOf(env, 'EVENT_BUS', ['postgres', 'nats', 'redis', 'rabbitmq', 'sqs'], 'postgres'),
    storage,
    objectStorage: objectStorage(env, storage),
    nodeEnv,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    auth: { ...auth, devIssuer },
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    rateLimit: {
      max: integer(env, 'RATE_LIMIT_MAX', 600, 0, 1_000_000_000),
      windowMs: integer(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 1_000, 86_400_000),
      store: oneOf(env, 'RATE_LIMIT_STORE', ['memory', 'redis'], 'memory'),
    },
    trustProxy: proxies(env),
    corsOrigins: origins(env),
    fetchAllowHosts: fetchAllowHosts(env),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    consumers: list(env, 'CONSUMERS'),
    inboxRetentionDays: integer(env, 'INBOX_RETENTION_DAYS', 14, 1, 3650),
    eventLogRetentionDays: integer(env, 'EVENT_LOG_RETENTION_DAYS', 365, 30, 36_500),
    deadLetterRetentionDays: integer(env, 'DEAD_LETTER_RETENTION_DAYS', 90, 1, 36_500),
    webhookDeliveryRetentionDays: integer(env, 'WEBHOOK_DELIVERY_RETENTION_DAYS', 30, 1, 36_500),
    analysis: {
      concurrency: integer(env, 'ANALYSIS_CONCURRENCY', 1, 1, 64),
      maxDownloadBytes: integer(env, 'ANALYSIS_MAX_DOWNLOAD_MB', 500, 1, 100_000) * 1024 * 1024,
      maxDurationSeconds: integer(env, 'ANALYSIS_MAX_DURATION_SECONDS', 4 * 3600, 1, 86_400),
      timeoutMs: integer(env, 'ANALYSIS_TIMEOUT_MS', 30 * 60_000, 1_000, 24 * 3600_000),
      memoryLimitBytes: integer(env, 'ANALYSIS_MEMORY_LIMIT_MB', 1024, 64, 65_536) * 1024 * 1024,
      tempDir: path.resolve(env.ANALYSIS_TEMP_DIR || path.join(env.DATA_DIR || './data', 'analysis-tmp')),
      pocketsphinxModelDir: env.POCKETSPHINX_MODEL_DIR || '/usr/share/pocketsphinx/model/en-us',
      transcribeParallel: integer(env, 'ANALYSIS_TRANSCRIBE_PARALLEL', Math.min(4, availableParallelism()), 1, 64),
    },
    metricsPort: env.METRICS_PORT ? integer(env, 'METRICS_PORT', 0, 0, 65535) : undefined,
    ingestion: {
      windowDays: integer(env, 'INGEST_WINDOW_DAYS', 30, 1, 365),
      rawRetentionDays: integer(env, 'INGEST_RAW_RETENTION_DAYS', 90, 1, 3650),
      keyRateLimitMax: integer(env, 'INGEST_KEY_RATE_LIMIT_MAX', 60_000, 0, 1_000_000_000),
    },
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 15_000, 100, 120_000),
    webhookConcurrency: integer(env, 'WEBHOOK_CONCURRENCY', 32, 1, 1000),
    brokers: {
      namespace: busNamespace(env),
      natsUrl: natsServers(env),
      redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']) ?? 'redis://127.0.0.1:6379',
      rabbitmqUrl: url(env, 'RABBITMQ_URL', ['amqp:', 'amqps:']) ?? 'amqp://guest:guest@127.0.0.1:5672',
      sqs: {
        region: env.AWS_REGION || undefined,
        endpoint: url(env, 'SQS_ENDPOINT', ['http:', 'https:']),
        queuePrefix: sqsQueuePrefix(env),
        eventBridgeBusName: env.EVENTBRIDGE_BUS_NAME || undefined,
      },
    },
  };
  return config;
}
