/**
 * RFC 9457 problem details. Every error the API sends goes through `toProblem`, so
 * clients always get `application/problem+json` with a stable shape and never a
 * stack trace or SQL.
 */
import { STATUS_CODES } from 'node:http';
import { Type, type Static } from 'typebox';
import { DomainError, type ErrorKind, type FieldError } from '../errors.js';
import { isConnectionFault, unavailable } from '../db/connection-faults.js';
import { translateDatabaseError, type ConstraintTable } from '../db/database-errors.js';
import { fieldErrors, type ValidationIssue } from './validation-messages.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof ProblemSchema>;

const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 422,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  precondition_required: 428,
  unauthorized: 401,
  forbidden: 403,
  unavailable: 503,
};

export function problem(
  status: number,
  detail: string | undefined,
  instance: string,
  extra: { code?: string; errors?: FieldError[] } = {},
): Problem {
  const code = extra.code;
  return {
    type: code ? `https://nedlia.dev/problems/${code.toLowerCase().replace(/[._]/g, '-')}` : 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    ...(detail ? { detail } : {}),
    instance,
    ...(code ? { code } : {}),
    ...(extra.errors && extra.errors.length > 0 ? { errors: extra.errors } : {}),
  };
}

/** A request refused by HTTP rules rather than domain rules (a malformed header): its own status and code. */
export class RequestProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
    this.name = 'RequestProblem';
  }
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: ValidationIssue[];
  validationContext?: string;
}

/** Where in the request an invalid field is: body fields by their own path, the others under their part. */
const PART: Record<string, string> = { body: '', querystring: '/query', params: '/params', headers: '/headers' };
const PART_NAME: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'headers' };

/** The status and problem for any error thrown while handling `instance`; `constraints` explain violated CHECKs. */
export function toProblem(error: unknown, instance: string, constraints: ConstraintTable = {}): Problem {
  const domain =
    error instanceof DomainError ? error : isConnectionFault(error) ? unavailable(error) : translateDatabaseError(error, constraints);
  if (domain) {
    return problem(STATUS_OF[domain.kind], domain.message, instance, { code: domain.code, errors: domain.errors });
  }
  if (error instanceof RequestProblem) return problem(error.status, error.message, instance, { code: error.code, errors: error.errors });
  const e = error as FastifyLikeError;
  if (e && Array.isArray(e.validation)) {
    // Every invalid field answers 422, wherever it is (body, path, query or header).
    const where = e.validationContext ?? 'body';
    const prefix = PART[where] ?? `/${where}`;
    return problem(422, `the ${PART_NAME[where] ?? where} is invalid`, instance, {
      code: 'REQUEST.INVALID',
      errors: fieldErrors(e.validation).map((x) => ({ ...x, path: prefix === '' ? x.path : `${prefix}${x.path === '/' ? '' : x.path}` })),
    });
  }
  const status = typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, 'the content type is not supported: send application/json (on PATCH also application/merge-patch+json)', instance, {
        code: 'REQUEST.CONTENT_TYPE',
      });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, 'the request body is too large', instance, { code: 'REQUEST.TOO_LARGE' });
    case 'REQUEST.RATE_LIMITED': // thrown by the rate limiter (plugins/limits.ts), retry-after already set
      return problem(429, e.message, instance, { code: 'REQUEST.RATE_LIMITED' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem(400, 'the body is not valid JSON', instance, { code: 'REQUEST.MALFORMED_JSON' });
  }
  if (status === 400 && e instanceof SyntaxError) {
    return problem(400, 'the body is not valid JSON', instance, { code: 'REQUEST.MALFORMED_JSON' });
  }
  if (status >= 500) return problem(status, 'an unexpected error occurred; it has been logged', instance);
  return problem(status, e?.message, instance);
}
