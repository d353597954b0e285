/**
 * Request validation. A body is taken as sent: `"name": 12345` or `"end_time": true`
 * is refused, never converted. Path, query and header values are strings on the
 * wire, so they are coerced to the types their schemas declare (`?limit=10`). Every
 * invalid field is reported (`allErrors`), each error with its schema (`verbose`)
 * so that its message can say what to send (validation-messages.ts).
 *
 * A schema may say in words what it expects with `x-expected` (e.g. `a decimal
 * string such as "1500.00"`): messages use it instead of a pattern.
 */
import AjvCompiler from '@fastify/ajv-compiler';

/** The annotation naming, in words, what a schema expects. */
export const EXPECTED = 'x-expected';

type Compile = ReturnType<AjvCompiler.BuildCompilerFromPool>;
/** What Fastify hands a compiler: the schema and which part of the request it is for. */
interface RouteSchema {
  schema: unknown;
  httpPart?: string;
}

const pool = AjvCompiler();
const common = { removeAdditional: false, useDefaults: true, allErrors: true, verbose: true } as const;
const onCreate = (ajv: AjvCompiler.Ajv): void => {
  ajv.addKeyword({ keyword: EXPECTED, schemaType: 'string' });
};

export const buildValidator: AjvCompiler.BuildCompilerFromPool = (externalSchemas) => {
  const asSent = pool(externalSchemas, { customOptions: { ...common, coerceTypes: false }, onCreate });
  const coercing = pool(externalSchemas, { customOptions: { ...common, coerceTypes: 'array' }, onCreate });
  // Fastify calls a compiler with its route schema definition, whatever the pool's declared signature says.
  const compile = (route: RouteSchema) => ((route.httpPart === 'body' ? asSent : coercing) as unknown as (r: RouteSchema) => ReturnType<Compile>)(route);
  return compile as unknown as Compile;
};
