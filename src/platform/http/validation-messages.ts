/**
 * Field errors a client can act on, from the schema validator's errors: one per
 * invalid field, saying what to send (`must be one of "draft", "active"`, `must be a
 * decimal string such as "1500.00", not a number`), never a regular expression.
 * The errors carry their schema and data (the validator runs `verbose`).
 */
import type { FieldError } from '../errors.js';
import { EXPECTED } from './validation.js';

export interface ValidationIssue {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
  /** The keyword's value (for `anyOf`, its branches). */
  schema?: unknown;
  /** The schema holding the keyword. */
  parentSchema?: Record<string, unknown>;
  /** The value that failed. */
  data?: unknown;
}

type Schema = Record<string, unknown>;

const quoted = (values: unknown[]): string => values.map((v) => JSON.stringify(v)).join(', ');

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const NAMES: Record<string, string> = {
  string: 'a string', number: 'a number', integer: 'an integer', boolean: 'true or false', object: 'an object', array: 'an array', null: 'null',
};
const nameOfType = (type: unknown): string => NAMES[String(type)] ?? String(type);
const nameOfValue = (value: unknown): string => (jsonTypeOf(value) === 'integer' ? 'a number' : nameOfType(jsonTypeOf(value)));

/** What a schema accepts, in words. */
function describe(schema: Schema): string {
  if (typeof schema[EXPECTED] === 'string') return schema[EXPECTED];
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${quoted(schema.enum)}`;
  return nameOfType(schema.type);
}

function accepts(schema: Schema, value: unknown): boolean {
  const type = jsonTypeOf(value);
  return schema.type === type || (schema.type === 'number' && type === 'integer');
}

function messageOf(issue: ValidationIssue): string {
  const expected = issue.parentSchema?.[EXPECTED];
  const params = issue.params ?? {};
  switch (issue.keyword) {
    case 'enum':
      return `must be one of ${quoted(Array.isArray(params.allowedValues) ? params.allowedValues : [])}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'type':
      return `must be ${typeof expected === 'string' ? expected : nameOfType(params.type)}, not ${nameOfValue(issue.data)}`;
    case 'pattern':
      return typeof expected === 'string' ? `must be ${expected}` : 'is not in the expected format';
    case 'format':
      return typeof expected === 'string' ? `must be ${expected}` : `must be a valid ${String(params.format)}`;
    case 'minProperties':
      return params.limit === 1 ? 'must have at least one field' : (issue.message ?? 'has too few fields');
    default:
      return issue.message ?? 'is invalid';
  }
}

function fieldErrorOf(issue: ValidationIssue): FieldError {
  const base = issue.instancePath ?? '';
  const params = issue.params ?? {};
  if (issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return { path: `${base}/${params.additionalProperty}`, message: 'is not allowed' };
  }
  if (issue.keyword === 'required' && typeof params.missingProperty === 'string') {
    return { path: `${base}/${params.missingProperty}`, message: 'is required' };
  }
  return { path: base || '/', message: messageOf(issue) };
}

const within = (issue: ValidationIssue, outer: ValidationIssue): boolean =>
  issue !== outer && (issue.schemaPath ?? '').startsWith(`${outer.schemaPath ?? ''}/`);

/**
 * An `anyOf` (a nullable field, a union): when the value's type is that of one
 * alternative, that alternative's errors say what is wrong; otherwise one error
 * lists the alternatives.
 */
function alternativeErrors(anyOf: ValidationIssue, inner: ValidationIssue[]): FieldError[] {
  const branches = (Array.isArray(anyOf.schema) ? anyOf.schema : []) as Schema[];
  const matching = branches.flatMap((branch, index) => (accepts(branch, anyOf.data) ? [index] : []));
  if (matching.length === 1) {
    const own = inner.filter((issue) => (issue.schemaPath ?? '').startsWith(`${anyOf.schemaPath ?? ''}/${matching[0]}/`));
    if (own.length > 0) return fieldErrors(own);
  }
  const consts = branches.every((branch) => 'const' in branch);
  const message = consts ? `one of ${quoted(branches.map((b) => b.const))}` : branches.map(describe).join(' or ');
  return [{ path: anyOf.instancePath || '/', message: `must be ${message}` }];
}

/** One error per invalid field (duplicates merged), each saying what to send. */
export function fieldErrors(issues: ValidationIssue[]): FieldError[] {
  const unions = issues.filter((issue) => issue.keyword === 'anyOf' && !issues.some((outer) => outer.keyword === 'anyOf' && within(issue, outer)));
  const errors: FieldError[] = [];
  for (const issue of issues) {
    if (unions.some((union) => within(issue, union))) continue;
    errors.push(...(unions.includes(issue) ? alternativeErrors(issue, issues.filter((inner) => within(inner, issue))) : [fieldErrorOf(issue)]));
  }
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    return !seen.has(key) && Boolean(seen.add(key));
  });
}
