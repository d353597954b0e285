/**
 * Chooses the event bus from `EVENT_BUS`. Each engine lives in `bus/<engine>/<engine>-bus.ts`
 * and implements the port in ./event-bus.ts; add a case here for each.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config, EventBusKind } from '../config/config.js';
import type { Database } from '../db/schema.js';
import type { EventBus, SubscribeOptions } from './event-bus.js';
import { PostgresBus } from './postgres/postgres-bus.js';

export interface BusDependencies {
  config: Config;
  db: Kysely<Database>;
  /**
   * The deployment's consumers (all of them, whatever this process runs): RabbitMQ and
   * SQS declare their queues before publishing, so none misses an event.
   */
  topology: ReadonlyArray<Pick<SubscribeOptions, 'consumer' | 'types'>>;
  /** Where the bus reports what goes wrong outside any call (lost connections, failed fetches); stderr without one. */
  logger?: Logger;
}

export async function createBus(kind: EventBusKind, deps: BusDependencies): Promise<EventBus> {
  const { logger } = deps;
  const reporting = logger ? { onError: (error: unknown) => logger.error({ err: error }, 'event bus error') } : {};
  const restoring = logger ? { onRestore: (restored: object) => logger.info(restored, 'event bus connection restored') } : {};
  switch (kind) {
    case 'postgres':
      return new PostgresBus(deps.db, logger ? { logger } : {});
    // Brokers (bus/<engine>/): imported on demand, so a process loads only the client it uses.
    case 'nats': {
      const { NatsBus } = await import('./nats/nats-bus.js');
      const { natsUrl: url, namespace } = deps.config.brokers;
      return NatsBus.connect({ url, stream: `${namespace.toUpperCase()}_EVENTS`, subjectRoot: `${namespace}.events`, ...reporting, ...restoring });
    }
    case 'redis': {
      const { RedisBus } = await import('./redis/redis-bus.js');
      return RedisBus.connect({ url: deps.config.brokers.redisUrl, prefix: deps.config.brokers.namespace, ...reporting, ...restoring });
    }
    case 'rabbitmq': {
      const { RabbitMqBus } = await import('./rabbitmq/rabbitmq-bus.js');
      return RabbitMqBus.connect({
        url: deps.config.brokers.rabbitmqUrl,
        prefix: deps.config.brokers.namespace,
        consumers: deps.topology,
        ...reporting,
        ...restoring,
      });
    }
    case 'sqs': {
      const { SqsBus } = await import('./sqs/sqs-bus.js');
      const { region, endpoint, queuePrefix, eventBridgeBusName } = deps.config.brokers.sqs;
      return new SqsBus({ region, endpoint, queuePrefix, eventBridgeBusName, consumers: deps.topology, ...reporting, ...restoring });
    }
    default:
      throw new Error(`EVENT_BUS=${String(kind)} is not available in this build`);
  }
}
