/** Every consumer the service runs; `CONSUMERS=a,b` picks some by name. */
import type { Consumer } from '../platform/consumers/consumer.js';
import { catalogConsumers } from '../features/catalog/index.js';
import { analysisConsumers } from '../features/analysis/index.js';
import { ingestionConsumers } from '../features/ingestion/index.js';
import { notificationConsumers } from '../features/notifications/index.js';
import { placementFileConsumers } from '../features/placement-files/index.js';
import { validationConsumers } from '../features/validation/index.js';
import './event-types.js';

export const allConsumers: readonly Consumer[] = [
  ...catalogConsumers,
  ...validationConsumers,
  ...placementFileConsumers,
  ...notificationConsumers,
  ...analysisConsumers,
  ...ingestionConsumers,
];

/** What RabbitMQ and SQS declare before publishing (every consumer of the deployment, whatever this process runs). */
export const consumerTopology = allConsumers.map((c) => ({ consumer: c.name, types: c.types }));

/** The consumers named in `names` (all when empty); an unknown name is an error. */
export function selectConsumers(names: readonly string[], from: readonly Consumer[] = allConsumers): Consumer[] {
  if (names.length === 0) return [...from];
  const unknown = names.filter((n) => !from.some((c) => c.name === n));
  if (unknown.length > 0) {
    throw new Error(`CONSUMERS names unknown consumers: ${unknown.join(', ')} (known: ${from.map((c) => c.name).join(', ')})`);
  }
  return from.filter((c) => names.includes(c.name));
}
