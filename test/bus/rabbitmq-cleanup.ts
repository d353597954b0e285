/** Test clean-up for RabbitMQ: what a run declared under its prefixes is deleted afterwards. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from 'amqplib';

/** Deletes the queues and exchanges under each prefix; queue names come from rabbitmqctl (no management API here). */
export async function deleteRabbitMqTopology(url: string, prefixes: readonly string[]): Promise<void> {
  const names = await promisify(execFile)('rabbitmqctl', ['-q', 'list_queues', 'name'], { timeout: 30_000 })
    .then(({ stdout }) => stdout.split('\n').map((line) => line.trim()))
    .catch(() => [] as string[]);
  const connection = await connect(url);
  const channel = await connection.createChannel();
  for (const prefix of prefixes) {
    for (const name of names.filter((n) => n.startsWith(`${prefix}.`))) await channel.deleteQueue(name);
    await channel.deleteExchange(`${prefix}.events`);
    await channel.deleteExchange(`${prefix}.dead-letter`);
  }
  await connection.close();
}
