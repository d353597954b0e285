/**
 * The CDK app: `npm run deploy:synth` writes the CloudFormation template to deploy/cdk.out
 * without any AWS access (docs/deployment.md). The consumers are the service's own
 * (src/entry/consumers.ts), read here; each function's code is its zip from
 * `npm run package:lambda` (dist/lambda/).
 *
 * Context (`-c key=value`, or cdk.json): `corsOrigins` (comma-separated exact origins),
 * `stackName` (default Nedlia), `queuePrefix` (default nedlia-).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { allConsumers } from '../src/entry/consumers.js';
import { NedliaStack } from './nedlia-stack.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `-c key=value` / `--context key=value` arguments, as the cdk CLI takes them. */
function contextFromArgs(args: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    if ((args[i] === '-c' || args[i] === '--context') && args[i + 1]) {
      const [key, ...value] = args[++i]!.split('=');
      context[key!] = value.join('=');
    }
  }
  return context;
}

const app = new App({ outdir: process.env.CDK_OUTDIR ?? path.join(root, 'deploy/cdk.out'), context: contextFromArgs(process.argv.slice(2)) });
const context = (key: string): string | undefined => app.node.tryGetContext(key) as string | undefined;
const code = (bundle: string): lambda.Code => {
  const zip = path.join(root, 'dist/lambda', `${bundle}.zip`);
  if (!existsSync(zip)) throw new Error(`${path.relative(root, zip)} is missing: run \`npm run package:lambda\` first`);
  return lambda.Code.fromAsset(zip);
};

const stack = new NedliaStack(app, context('stackName') ?? 'Nedlia', {
  consumers: allConsumers.map((c) => ({ name: c.name, types: c.types, ...(c.maxAttempts ? { maxAttempts: c.maxAttempts } : {}) })),
  code,
  corsOrigins: (context('corsOrigins') ?? '').split(',').map((o) => o.trim()).filter(Boolean),
  ...(context('queuePrefix') ? { queuePrefix: context('queuePrefix') } : {}),
  description: 'Nedlia: API, consumers and relay on Lambda, Aurora PostgreSQL Serverless v2, EventBridge, SQS, S3, Cognito',
});
const assembly = app.synth();
const template = path.relative(root, path.join(assembly.directory, `${stack.stackName}.template.json`));
process.stdout.write(`synthesized ${stack.stackName}: ${template} (${allConsumers.length} consumer(s): ${allConsumers.map((c) => c.name).join(', ')})\n`);
