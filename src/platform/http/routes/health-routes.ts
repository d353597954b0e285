import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { DatabaseHandle } from '../../db/connect.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from '../../db/connection-faults.js';
import { PROBLEM_CONTENT_TYPE, problem } from '../problem.js';

const Status = Type.Object({ status: Type.Literal('ok'), checks: Type.Optional(Type.Record(Type.String(), Type.String())) });

export interface HealthOptions {
  database: DatabaseHandle;
  /** Further readiness checks (e.g. the event bus); each throws when not ready. */
  checks?: Record<string, () => Promise<void>>;
  /** Longest wait for the checks, which run at once (ms); a check still running then counts as down. Default 800. */
  readyTimeoutMs?: number;
}

/** Why a check failed: `did not answer within N ms`, or `failed` (with the error, for the log). */
type CheckResult = { ok: true } | { ok: false; reason: string; error?: unknown };

async function runCheck(check: () => Promise<void>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `did not answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const answered = check().then(
    (): CheckResult => ({ ok: true }),
    // The error stays in the log: the answer, public, says no more than that it failed.
    (error: unknown): CheckResult => ({ ok: false, reason: 'failed', error }),
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { database, checks = {}, readyTimeoutMs = 800 }) => {
  // Probes come every few seconds: a dependency that goes down is logged when it does,
  // and when it is back, not on every probe in between.
  const down = new Set<string>();

  app.get(
    '/health/live',
    {
      schema: {
        tags: ['operations'],
        summary: 'The process is up',
        description: 'Liveness for an orchestrator: 200 while the process runs and serves HTTP, whatever its dependencies do (an outage of the database or the bus never makes it fail).',
        response: { 200: Status },
      },
      logLevel: 'warn',
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'The service can take traffic (database and bus answer); 503 names what did not, within a second',
        description:
          'Readiness for a load balancer: every dependency is checked at once and the answer comes within a second. ' +
          '503 problem+json with `retry-after` lists each dependency that failed or did not answer in `errors` (`/checks/database`, `/checks/bus`); the error itself is only logged.',
        response: { 200: Status, 503: { $ref: 'Problem#' } },
      },
      logLevel: 'warn',
    },
    async (request, reply) => {
      const all: Record<string, () => Promise<void>> = {
        database: async () => {
          await sql`select 1`.execute(database.db);
        },
        ...checks,
      };
      const names = Object.keys(all);
      const results = await Promise.all(names.map((name) => runCheck(all[name] as () => Promise<void>, readyTimeoutMs)));
      const failed: Array<{ name: string; reason: string }> = [];
      results.forEach((result, i) => {
        const name = names[i] as string;
        if (result.ok) {
          if (down.delete(name)) app.log.info({ check: name }, 'readiness check passes again');
          return;
        }
        failed.push({ name, reason: result.reason });
        if (!down.has(name)) {
          down.add(name);
          app.log.warn({ err: result.error, check: name, reason: result.reason }, 'readiness check failed');
        }
      });
      if (failed.length > 0) {
        const detail = `not ready: ${failed.map((f) => f.name).join(', ')} did not answer`;
        return reply
          .code(503)
          .header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS))
          .type(PROBLEM_CONTENT_TYPE)
          .send(
            problem(503, detail, request.url, {
              code: 'SERVICE.NOT_READY',
              errors: failed.map((f) => ({ path: `/checks/${f.name}`, message: f.reason })),
            }),
          );
      }
      return { status: 'ok' as const, checks: Object.fromEntries(names.map((name) => [name, 'ok'])) };
    },
  );
};
