/**
 * What a feature brings to the HTTP application: its routes, the OpenAPI tags they use
 * and what its tables' CHECK constraints mean. src/entry/routes.ts lists every feature's;
 * `buildApp` registers them after the kernel's plugins (authentication, limits, OpenAPI,
 * route table, idempotency), so each route gets all of those.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { EventBus } from '../bus/event-bus.js';
import type { ConstraintTable } from '../db/database-errors.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { Metrics } from '../metrics/metrics.js';
import type { OpenApiTag } from './openapi.js';

/** What a feature's routes are registered with. */
export interface FeatureContext {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  /** The event side of this process, when it has one (dead-letter replay publishes on it). */
  bus?: EventBus;
  /** The process's metrics, when it serves them (a feature may report its own gauges). */
  metrics?: Metrics;
}

export interface FeatureRoutes {
  /** For logs and errors: the feature's folder name. */
  name: string;
  routes: FastifyPluginAsyncTypebox<FeatureContext>;
  tags?: readonly OpenApiTag[];
  constraints?: ConstraintTable;
}
