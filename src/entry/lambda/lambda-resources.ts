/**
 * What every Lambda handler of a container shares: configuration, logger, the database
 * pool, the bus client and the token verifier with its verified-token cache. They are
 * opened once, on the first invocation (the cold start), and reused by every warm
 * invocation after it; an opening that fails is forgotten, so the next invocation tries
 * again instead of failing forever.
 *
 * Lambda runs PostgreSQL only (`DATABASE_URL`, Aurora through RDS Proxy): the embedded
 * database is one process's and is not part of the bundles (see bench/package-lambda.ts).
 * Migrations are not applied here: they are a deployment step (docs/deployment.md).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../../platform/config/config.js';
import type { Env } from '../../platform/config/config-values.js';
import { tokenVerificationFromConfig } from '../../platform/auth/token-verification.js';
import { withVerifiedTokenCache } from '../../platform/auth/verified-token-cache.js';
import type { TokenVerifier } from '../../platform/auth/jwt-verifier.js';
import type { DevIssuer } from '../../platform/auth/dev-issuer.js';
import { createBus } from '../../platform/bus/create-bus.js';
import type { EventBus } from '../../platform/bus/event-bus.js';
import { connectDatabase } from '../../platform/db/open-database.js';
import type { DatabaseHandle } from '../../platform/db/connect.js';
import { createLogger } from '../../platform/logging/logger.js';
import { consumerTopology } from '../consumers.js';

export interface LambdaResources {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  bus: EventBus;
  /** Already wrapped in the verified-token cache; undefined when no issuer is configured. */
  verifyToken: TokenVerifier | undefined;
  devIssuer: DevIssuer | undefined;
  /** An SQS client (AWS_REGION, SQS_ENDPOINT), made on first use: the consumers change their records' visibility with it. */
  sqs(): Promise<SQSClient>;
  close(): Promise<void>;
}

/** What tests (and only tests) hand in instead of what the environment says. */
export interface LambdaResourceOverrides {
  env?: Env;
  logger?: Logger;
  /** An open database (the handlers then also run on PGlite, in-process). */
  database?: DatabaseHandle;
  /** A raw verifier; the resources add the verified-token cache as in production. */
  verifier?: TokenVerifier;
  /** An SQS client of the caller's (a local SQS-compatible server); left open by `close`. */
  sqs?: SQSClient;
}

export async function openLambdaResources(overrides: LambdaResourceOverrides = {}): Promise<LambdaResources> {
  const config = loadConfig(overrides.env ?? process.env);
  if (!overrides.database && !config.databaseUrl) {
    throw new Error('the Lambda handlers need DATABASE_URL (PostgreSQL): the embedded database is not part of the Lambda bundles');
  }
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const auth = overrides.verifier
    ? { verifyToken: withVerifiedTokenCache(overrides.verifier), devIssuer: undefined }
    : await tokenVerificationFromConfig(config);
  const database = overrides.database ?? (await connectDatabase(config, { logger }));
  try {
    const bus = await createBus(config.eventBus, { config, db: database.db, logger, topology: consumerTopology });
    let sqs: Promise<SQSClient> | undefined = overrides.sqs ? Promise.resolve(overrides.sqs) : undefined;
    return {
      config,
      logger,
      database,
      bus,
      verifyToken: auth.verifyToken,
      devIssuer: auth.devIssuer,
      sqs: () =>
        (sqs ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) => {
          const { region, endpoint } = config.brokers.sqs;
          return new SQSClient({ ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) });
        })),
      async close() {
        if (sqs && !overrides.sqs) (await sqs).destroy();
        await bus.close();
        if (!overrides.database) await database.close();
      },
    };
  } catch (error) {
    if (!overrides.database) await database.close();
    throw error;
  }
}

/** Opens the resources on the first call and hands the same ones to every later call. */
export function onceOpened(open: () => Promise<LambdaResources>): () => Promise<LambdaResources> {
  let opening: Promise<LambdaResources> | undefined;
  return () =>
    (opening ??= open().catch((error: unknown) => {
      opening = undefined;
      throw error;
    }));
}

/** The container's resources, shared by whichever handlers its bundle holds. */
export const containerResources = onceOpened(() => openLambdaResources());

/** Writes out the buffered log lines before the invocation returns (Lambda may freeze the process after it). */
export function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
