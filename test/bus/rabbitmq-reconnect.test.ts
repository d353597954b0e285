/**
 * The RabbitMQ bus survives a lost connection: connections are cut for real, by the broker
 * (`rabbitmqctl close_connection`, found by the bus's `connection_name`, so parallel tests
 * are not disturbed) or by a TCP relay between the bus and the broker that is torn down.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from 'amqplib';
import type { Outcome } from '../../src/platform/bus/event-bus.js';
import { RabbitMqBus, type RabbitMqBusOptions, type RestoreInfo } from '../../src/platform/bus/rabbitmq/rabbitmq-bus.js';
import { deleteRabbitMqTopology } from './rabbitmq-cleanup.js';
import { CREATED, makeEvent, waitFor } from './bus-contract.js';

const url = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const run = promisify(execFile);
const prefixes: string[] = [];
const ack: Outcome = { kind: 'ack' };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function newPrefix(): string {
  const prefix = `test-rc-${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return prefix;
}

/** A bus with its own connection name, recording what it reports. */
async function openBus(prefix: string, options: Partial<RabbitMqBusOptions> = {}) {
  const connectionName = `${prefix}-bus`;
  const errors: Error[] = [];
  const restores: RestoreInfo[] = [];
  const bus = await RabbitMqBus.connect({
    url,
    prefix,
    connectionName,
    onError: (error) => errors.push(error as Error),
    onRestore: (info) => restores.push(info),
    ...options,
  });
  return { bus, connectionName, errors, restores };
}

/** Has the broker close the one connection named `connectionName`. */
async function cutConnection(connectionName: string): Promise<void> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', '--no-table-headers', 'pid', 'client_properties'], { timeout: 30_000 });
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${connectionName}"}`))
    .map((line) => line.split('\t')[0] as string);
  expect(pids).toHaveLength(1);
  await run('rabbitmqctl', ['-q', 'close_connection', pids[0] as string, 'reconnect test'], { timeout: 30_000 });
}

/** Retries `publish` (rejected while the bus reconnects) a bounded number of times. */
async function publishUntilAccepted(bus: RabbitMqBus, event: ReturnType<typeof makeEvent>): Promise<void> {
  for (let i = 0; ; i += 1) {
    try {
      await bus.publish([event]);
      return;
    } catch (error) {
      if (i >= 200) throw error;
      await pause(100);
    }
  }
}

async function queueDepth(queue: string): Promise<number> {
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

/**
 * A TCP relay to the broker: `drop()` drops its connections (new ones get through),
 * `cut()` also stops listening (new ones are refused).
 */
async function startRelay(): Promise<{ url: string; drop(): void; cut(): Promise<void> }> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    const upstream = connectTcp(Number(target.port || 5672), target.hostname);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const relayed = new URL(url);
  relayed.host = `127.0.0.1:${port}`;
  return {
    url: relayed.toString(),
    drop() {
      for (const socket of sockets) socket.destroy();
    },
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describe('RabbitMQ adapter: lost connection', () => {
  it('reconnects after the broker closes its connection; the subscription receives again without re-subscribing', async () => {
    const prefix = newPrefix();
    const consumers = [{ consumer: 'reader', types: [CREATED] }];
    let whileDown: Promise<unknown[]> | undefined;
    const { bus, connectionName, errors, restores } = await openBus(prefix, {
      consumers,
      onError: (error) => {
        errors.push(error as Error);
        // What callers see during the outage, asked the moment it is reported.
        whileDown ??= Promise.all([bus.publish([makeEvent(CREATED, 'r-0')]), bus.ping()].map((p) => p.then(() => 'resolved', (e: unknown) => e)));
      },
    });
    try {
      const received: string[] = [];
      await bus.subscribe({ ...consumers[0]!, leaseMs: 5000, concurrency: 2 }, async ({ event }) => {
        received.push(event.id);
        return ack;
      });
      const first = makeEvent(CREATED, 'r-1');
      await bus.publish([first]);
      await waitFor('the first event', () => received.includes(first.id), 10_000);

      await cutConnection(connectionName);
      await waitFor('the loss to be reported', () => errors.length > 0, 10_000);
      const [publishDown, pingDown] = (await whileDown) as [Error, Error];
      expect(publishDown).toBeInstanceOf(Error);
      expect(publishDown.message).toMatch(/not connected/);
      expect(pingDown).toBeInstanceOf(Error);

      const second = makeEvent(CREATED, 'r-2');
      await publishUntilAccepted(bus, second);
      await waitFor('the event published after the reconnect', () => received.includes(second.id), 15_000);
      await bus.ping();
      expect(errors.map((e) => e.message)).toEqual(['RabbitMQ connection lost; reconnecting']);
      expect((errors[0]?.cause as Error).message).toMatch(/CONNECTION_FORCED/);
      expect(restores).toHaveLength(1);
      expect(restores[0]!.attempts).toBeGreaterThanOrEqual(1);
    } finally {
      await bus.close();
    }
  });

  it('redelivers and handles a delivery that was in hand, unacked, when the connection was cut; its late ack is dropped', async () => {
    const prefix = newPrefix();
    const consumers = [{ consumer: 'holder', types: [CREATED] }];
    const { bus, connectionName, errors, restores } = await openBus(prefix, { consumers });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: Array<{ id: string; attempt: number }> = [];
    try {
      await bus.subscribe({ ...consumers[0]!, leaseMs: 30_000, concurrency: 1 }, async ({ event, attempt }) => {
        seen.push({ id: event.id, attempt });
        if (seen.length === 1) await gate; // held until its channel is gone
        return ack;
      });
      const event = makeEvent(CREATED, 'h-1');
      await bus.publish([event]);
      await waitFor('the delivery in hand', () => seen.length === 1, 10_000);

      await cutConnection(connectionName);
      await waitFor('the loss to be reported', () => errors.length > 0, 10_000);
      release(); // acks on a channel that is gone

      await waitFor('the redelivery after the reconnect', () => seen.length >= 2, 20_000);
      expect(seen[1]!.id).toBe(event.id);
      expect(seen[1]!.attempt).toBeGreaterThan(1);
      await waitFor('the restore to be reported', () => restores.length === 1, 10_000);
      expect(errors.map((e) => e.message)).toEqual(['RabbitMQ connection lost; reconnecting']);
    } finally {
      release();
      await bus.close();
    }
    // The redelivery's ack stuck: nothing returns to the queue once the bus is gone.
    expect(await queueDepth(`${prefix}.holder`)).toBe(0);
  });

  it('reconnects after the broker closes the publisher channel (exchange deleted) and declares the topology again', async () => {
    const prefix = newPrefix();
    const consumers = [{ consumer: 'again', types: [CREATED] }];
    const { bus, errors, restores } = await openBus(prefix, { consumers });
    try {
      const received: string[] = [];
      await bus.subscribe({ ...consumers[0]!, leaseMs: 5000, concurrency: 1 }, async ({ event }) => {
        received.push(event.id);
        return ack;
      });
      const admin = await connect(url);
      try {
        await (await admin.createChannel()).deleteExchange(`${prefix}.events`);
      } finally {
        await admin.close();
      }
      // Publishing to the missing exchange makes the broker close the publisher channel.
      await expect(bus.publish([makeEvent(CREATED, 'x-0')])).rejects.toThrow();
      const event = makeEvent(CREATED, 'x-1');
      await publishUntilAccepted(bus, event);
      await waitFor('the event published after the reconnect', () => received.includes(event.id), 15_000);
      expect(errors.map((e) => e.message)).toEqual(['RabbitMQ connection lost; reconnecting']);
      expect((errors[0]?.cause as Error).message).toMatch(/publisher channel/);
      expect(restores).toHaveLength(1);
    } finally {
      await bus.close();
    }
  });

  it('close() while reconnect attempts fail stops them: no timer or socket is left and the process exits', async () => {
    const prefix = newPrefix();
    const relay = await startRelay();
    const moduleUrl = pathToFileURL(fileURLToPath(new URL('../../src/platform/bus/rabbitmq/rabbitmq-bus.ts', import.meta.url))).href;
    // In a child process: a delivery is in hand (lease 10 min) when the connection is first
    // dropped, and its handler then throws (left to the lease, like a crash); the bus
    // reconnects and the delivery comes again. Then the relay stops
    // listening, and the child lets the reconnect attempts fail for a while, closes the
    // bus and ends its script. It exits only if nothing is left behind: no reconnect
    // timer, no lease timer (of the first channel either), no socket.
    const script = `
      const { RabbitMqBus } = await import(process.env.BUS_MODULE);
      const say = (line) => process.stdout.write(line + '\\n');
      const event = JSON.parse(process.env.EVENT);
      const consumers = [{ consumer: 'child', types: [event.type] }];
      const losses = [];
      const lossSeen = [0, 1].map(() => new Promise((resolve) => losses.push(resolve)));
      let lost = 0;
      const bus = await RabbitMqBus.connect({
        url: process.env.BUS_URL, prefix: process.env.BUS_PREFIX, consumers,
        onError: (error) => {
          say('error ' + error.message);
          if (error.message.startsWith('RabbitMQ connection lost')) losses[lost++]?.();
        },
        onRestore: () => say('restored'),
      });
      let deliveries = 0;
      await bus.subscribe({ ...consumers[0], leaseMs: 600000, concurrency: 1 }, async () => {
        deliveries += 1;
        say('handling ' + deliveries);
        if (deliveries === 1) {
          await lossSeen[0];
          throw new Error('gave up');
        }
        return { kind: 'ack' };
      });
      await bus.publish([event]);
      await lossSeen[1];
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await bus.close();
      say('closed');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, BUS_MODULE: moduleUrl, BUS_URL: relay.url, BUS_PREFIX: prefix, EVENT: JSON.stringify(makeEvent(CREATED, 'c-1')) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitFor('the child to hold a delivery', () => stdout.includes('handling 1\n'), 30_000);
      relay.drop();
      await waitFor('the delivery again after the reconnect', () => stdout.includes('handling 2\n'), 30_000);
      await relay.cut();
      const outcome = await Promise.race([exit, pause(30_000).then(() => 'still running after 30 s')]);
      expect(outcome, stderr).toEqual({ code: 0, signal: null });
      // One report per outage (not per failed attempt), one restore, and the script's end.
      const lines = stdout.trim().split('\n').map((line) => line.replace(/ threw on .*/, ' threw'));
      expect([...lines].sort()).toEqual([
        'closed',
        'error RabbitMQ connection lost; reconnecting',
        'error RabbitMQ connection lost; reconnecting',
        'error RabbitMQ: handler of child threw',
        'handling 1',
        'handling 2',
        'restored',
      ]);
      expect(lines.at(-1)).toBe('closed');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await relay.cut().catch(() => undefined);
    }
  });
});

afterAll(() => deleteRabbitMqTopology(url, prefixes), 60_000);
