/**
 * A subscriber in its own process, for the contract's SIGKILL test: opens the bus named by
 * BUS_ENGINE with BUS_OPTIONS (JSON), subscribes CONSUMER (JSON: consumer, types, leaseMs,
 * concurrency), prints one JSON line per delivery and never settles one, until killed.
 * Run with `node --import tsx test/bus/subscriber-child.ts`.
 */
import type { EventBus } from '../../src/platform/bus/event-bus.js';

async function openBus(engine: string, options: Record<string, unknown>): Promise<EventBus> {
  switch (engine) {
    case 'nats': {
      const { NatsBus } = await import('../../src/platform/bus/nats/nats-bus.js');
      return NatsBus.connect(options as never);
    }
    case 'redis': {
      const { RedisBus } = await import('../../src/platform/bus/redis/redis-bus.js');
      return RedisBus.connect(options as never);
    }
    case 'rabbitmq': {
      const { RabbitMqBus } = await import('../../src/platform/bus/rabbitmq/rabbitmq-bus.js');
      return RabbitMqBus.connect(options as never);
    }
    case 'sqs': {
      const { SqsBus } = await import('../../src/platform/bus/sqs/sqs-bus.js');
      return new SqsBus(options as never);
    }
    // The postgres bus on PostgreSQL (options: { url }).
    case 'postgres': {
      const { PostgresBus } = await import('../../src/platform/bus/postgres/postgres-bus.js');
      const { openPostgres } = await import('../../src/platform/db/connect.js');
      return new PostgresBus(openPostgres({ connectionString: String(options.url), max: 4 }).db);
    }
    default:
      throw new Error(`subscriber-child: unknown BUS_ENGINE ${engine}`);
  }
}

const bus = await openBus(process.env.BUS_ENGINE ?? '', JSON.parse(process.env.BUS_OPTIONS ?? '{}') as Record<string, unknown>);
const consumer = JSON.parse(process.env.CONSUMER ?? '{}') as { consumer: string; types: string[]; leaseMs: number; concurrency: number };
await bus.subscribe(consumer, ({ event, attempt }) => {
  process.stdout.write(`${JSON.stringify({ id: event.id, attempt })}\n`);
  return new Promise<never>(() => undefined);
});
process.stdout.write('{"ready":true}\n');
