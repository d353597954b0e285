// Invokes a bundled Lambda handler in this (fresh) Node process, the way the Lambda
// runtime does: import the module, then call `handler(event, context)` once per event.
//   node scripts/packaging/invoke-bundle.mjs <bundle>/index.mjs <plan.json>
// plan: { "events": [event, …], "repeat"?: { "event": event, "count": n } }
// Prints one JSON line: load time, each answer with its time, and the repeat's rate.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const [bundle, planFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));

const context = (timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'nedlia-bundle',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:nedlia-bundle',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/nedlia-bundle',
    logStreamName: 'bundle',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
};

const started = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const loadMs = performance.now() - started;
const answers = [];
for (const event of plan.events ?? []) {
  const at = performance.now();
  const answer = await handler(event, context());
  answers.push({ ms: performance.now() - at, answer });
}
let repeat;
if (plan.repeat) {
  const at = performance.now();
  let failed = 0;
  for (let i = 0; i < plan.repeat.count; i++) {
    const answer = await handler(plan.repeat.event, context());
    if (answer && typeof answer.statusCode === 'number' && answer.statusCode >= 400) failed++;
  }
  const seconds = (performance.now() - at) / 1000;
  repeat = { count: plan.repeat.count, failed, perSecond: plan.repeat.count / seconds };
}
process.stdout.write(`${JSON.stringify({ loadMs, answers, repeat })}\n`);
process.exit(0);
