/**
 * `npm run docs:events`: writes the event catalog from the registry in code —
 * docs/events/schemas/<type>.v<version>.json (JSON Schema of each version's `data`),
 * docs/events/asyncapi.json (AsyncAPI 3.0: one channel per type, one message per
 * version, the CloudEvents envelope with Nedlia's extensions) and docs/events/README.md.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { eventRegistry as registry } from '../src/entry/event-types.js';

const out = path.resolve(process.argv[2] ?? 'docs/events');
const definitions = registry.all();
const upcasters = registry.upcasters();
const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
const key = (type: string): string => type.replace(/^com\.nedlia\./, '').replace(/[^A-Za-z0-9]/g, '_');
const fileOf = (type: string, version: number): string => `${type}.v${version}.json`;

const envelope = {
  type: 'object',
  description: 'CloudEvents 1.0, structured JSON mode, with Nedlia extensions',
  required: ['specversion', 'id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'data', 'schemaversion'],
  properties: {
    specversion: { const: '1.0' },
    id: { type: 'string', format: 'uuid', description: 'Unique per event; consumers deduplicate on it' },
    source: { type: 'string', description: 'Where it happened, e.g. /placements' },
    type: { type: 'string', description: 'com.nedlia.<aggregate>.<action>' },
    time: { type: 'string', format: 'date-time' },
    subject: { type: 'string', description: 'The aggregate id; order is kept per subject where the bus allows' },
    datacontenttype: { const: 'application/json' },
    data: { description: 'See the message payload for the schema of each type and version' },
    schemaversion: { type: 'integer', minimum: 1, description: 'Extension: major version of the data schema' },
    correlationid: { type: 'string', description: 'Extension: the request (or causing event) this event belongs to' },
    traceparent: { type: 'string', pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$', description: 'Extension: W3C trace context of the producer' },
    actor: { type: 'string', description: 'Extension: the user id (sub) or system:<consumer> that caused it' },
  },
};

await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, 'schemas'), { recursive: true });

for (const d of definitions) {
  await writeFile(
    path.join(out, 'schemas', fileOf(d.type, d.version)),
    json({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: `https://nedlia.dev/events/${fileOf(d.type, d.version)}`,
      title: `${d.type} v${d.version} data`,
      description: d.description,
      ...JSON.parse(JSON.stringify(d.schema)),
    }),
  );
}

const channels: Record<string, unknown> = {};
const operations: Record<string, unknown> = {};
const messages: Record<string, unknown> = {};
for (const type of [...new Set(definitions.map((d) => d.type))]) {
  const versions = definitions.filter((d) => d.type === type);
  const channelKey = key(type);
  const channelMessages: Record<string, unknown> = {};
  for (const d of versions) {
    const messageKey = `${channelKey}_v${d.version}`;
    messages[messageKey] = {
      name: `${type}.v${d.version}`,
      title: `${type} v${d.version}`,
      summary: d.description,
      contentType: 'application/cloudevents+json',
      'x-producer': d.producer,
      payload: {
        allOf: [
          { $ref: '#/components/schemas/CloudEvent' },
          {
            type: 'object',
            properties: { type: { const: type }, schemaversion: { const: d.version }, data: JSON.parse(JSON.stringify(d.schema)) },
          },
        ],
      },
    };
    channelMessages[`v${d.version}`] = { $ref: `#/components/messages/${messageKey}` };
  }
  const upcast = upcasters.filter((u) => u.type === type).map((u) => `v${u.from} → v${u.to}`);
  channels[channelKey] = {
    address: type,
    title: type,
    description: `${versions[versions.length - 1]?.description ?? type}.${upcast.length > 0 ? ` Consumers upcast ${upcast.join(', ')}.` : ''}`,
    messages: channelMessages,
  };
  operations[`publish_${channelKey}`] = {
    action: 'send',
    channel: { $ref: `#/channels/${channelKey}` },
    messages: Object.keys(channelMessages).map((v) => ({ $ref: `#/channels/${channelKey}/messages/${v}` })),
  };
}

await writeFile(
  path.join(out, 'asyncapi.json'),
  json({
    asyncapi: '3.0.0',
    info: {
      title: 'Nedlia events',
      version: '1.0.0',
      description:
        'Every event Nedlia publishes. Events are written to the event log (outbox) in the transaction of the change ' +
        'and published at least once by the relay; consumers deduplicate on the event id.',
    },
    defaultContentType: 'application/cloudevents+json',
    channels,
    operations,
    components: { schemas: { CloudEvent: envelope }, messages },
  }),
);

const rows = definitions.map((d) => `| \`${d.type}\` | ${d.version} | ${d.producer} | ${d.description} | [schema](schemas/${fileOf(d.type, d.version)}) |`);
await writeFile(
  path.join(out, 'README.md'),
  [
    '# Event catalog',
    '',
    'Generated by `npm run docs:events` from the event types listed in src/entry/event-types.ts; do not edit by hand.',
    'The envelope is CloudEvents 1.0 with the extensions `schemaversion`, `correlationid`, `traceparent` and `actor`;',
    '[asyncapi.json](asyncapi.json) describes it all as AsyncAPI 3.0.',
    '',
    '| type | version | producer | meaning | data |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
process.stdout.write(`wrote ${definitions.length} schemas, asyncapi.json and README.md to ${path.relative(process.cwd(), out) || '.'}\n`);
