/**
 * A stand-in for Amazon EventBridge's `PutEvents` (JSON 1.1 protocol over HTTP), for tests
 * only: no EventBridge emulator exists on npm or Debian. It does what the SQS adapter
 * relies on: routes each entry by detail-type to the SQS queues of matching rules, wrapped
 * in EventBridge's envelope, and fails some entries the first time they are seen
 * (`FailedEntryCount` > 0, `ErrorCode` on the entry) so the resend path runs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface StubRule {
  queueName: string;
  detailTypes: readonly string[];
}

interface PutEventsEntry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
}

export interface EventBridgeStub {
  endpoint: string;
  /** Rules per event bus name. */
  rules: Map<string, StubRule[]>;
  /** Every PutEvents request: the event ids it carried and those it failed. */
  requests: Array<{ bus: string; ids: string[]; failed: string[] }>;
  close(): Promise<void>;
}

export async function startEventBridgeStub(
  sqs: SQSClient,
  shouldFailFirst: (eventId: string) => boolean,
): Promise<EventBridgeStub> {
  const rules = new Map<string, StubRule[]>();
  const requests: EventBridgeStub['requests'] = [];
  const failedOnce = new Set<string>();
  const urls = new Map<string, string>();

  async function queueUrl(QueueName: string): Promise<string> {
    let url = urls.get(QueueName);
    if (!url) {
      url = (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!;
      urls.set(QueueName, url);
    }
    return url;
  }

  async function putEvents(entries: PutEventsEntry[]) {
    const ids: string[] = [];
    const failed: string[] = [];
    const results = [];
    for (const entry of entries) {
      const detail = JSON.parse(entry.Detail ?? '{}') as { id?: string };
      const id = detail.id ?? '';
      ids.push(id);
      if (shouldFailFirst(id) && !failedOnce.has(id)) {
        failedOnce.add(id);
        failed.push(id);
        results.push({ ErrorCode: 'InternalFailure', ErrorMessage: 'stub: transient failure' });
        continue;
      }
      const envelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: '123456789012',
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail,
      };
      for (const rule of rules.get(entry.EventBusName ?? 'default') ?? []) {
        if (!rule.detailTypes.includes(entry.DetailType ?? '')) continue;
        await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl(rule.queueName), MessageBody: JSON.stringify(envelope) }));
      }
      results.push({ EventId: envelope.id });
    }
    requests.push({ bus: entries[0]?.EventBusName ?? 'default', ids, failed });
    return { FailedEntryCount: failed.length, Entries: results };
  }

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(body));
      };
      if (target !== 'AWSEvents.PutEvents') {
        reply(400, { __type: 'UnknownOperationException', message: `stub does not implement ${target}` });
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries?: PutEventsEntry[] };
      putEvents(body.Entries ?? []).then(
        (result) => reply(200, result),
        (error: unknown) => reply(500, { __type: 'InternalException', message: String(error) }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    rules,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
