/**
 * Schema compilers that compile a route's validator and serializer on the route's first
 * request instead of at start. A long-running process compiles everything at start
 * (a schema mistake then stops it at once, and tests catch it); a Lambda function, whose
 * cold start is paid by a waiting request and which often serves a few routes only,
 * turns this on (`AppDependencies.compileSchemasOnFirstUse`).
 */
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type AjvCompiler from '@fastify/ajv-compiler';

type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type ValidatorFactory = AjvCompiler.BuildCompilerFromPool;

export function lazyValidators(build: ValidatorFactory): ValidatorFactory {
  return ((externalSchemas: unknown, options: unknown) => {
    const compile = (build as unknown as (e: unknown, o: unknown) => (route: unknown) => Validate)(externalSchemas, options);
    return (route: unknown) => {
      let validate: Validate | undefined;
      const lazy: Validate = (data, context) => {
        validate ??= compile(route);
        const result = context === undefined ? validate(data) : validate(data, context);
        lazy.errors = validate.errors;
        return result;
      };
      // Ajv's functions have one: Fastify then hands over the parent, so defaults can apply at the root.
      lazy.schemaEnv = true;
      return lazy;
    };
  }) as unknown as ValidatorFactory;
}

type Serialize = (data: unknown) => string;

export function lazySerializers(): (externalSchemas: unknown, options: unknown) => (route: unknown) => Serialize {
  const build = SerializerSelector() as unknown as (e: unknown, o: unknown) => (route: unknown) => Serialize;
  return (externalSchemas, options) => {
    const compile = build(externalSchemas, options);
    return (route) => {
      let serialize: Serialize | undefined;
      return (data) => (serialize ??= compile(route))(data);
    };
  };
}
