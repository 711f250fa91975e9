import { AjvCompiler, type BuildCompilerFromPool } from '@fastify/ajv-compiler';

type Compile = ReturnType<BuildCompilerFromPool>;
type Validate = ReturnType<Compile>;

/**
 * Fastify's own Ajv validator factory, except that each route's validator is compiled on its
 * first request instead of at start-up. Compiling the management API's schemas (and Ajv's
 * meta-schema) was most of what Fastify did before it listened; a registry that restarts often
 * should not pay for routes nobody has called yet. The price: a broken schema no longer stops the
 * start; its route answers 500 on first use (test/unit/lazy-validators.test.ts shows both, and that
 * answers are otherwise identical to Fastify's eager validators).
 */
export function lazyValidatorFactory(): BuildCompilerFromPool {
  const build = AjvCompiler();
  return (externalSchemas, options) => {
    let compile: Compile | undefined;
    return (route) => {
      let compiled: Validate | undefined;
      const validate = ((data: unknown, context?: unknown) => {
        compiled ??= (compile ??= build(externalSchemas, options))(route);
        const result = (compiled as (data: unknown, context?: unknown) => unknown)(data, context);
        validate.errors = compiled.errors;
        return result;
      }) as Validate;
      // Fastify hands the parent object (which Ajv needs to coerce a root value) only to functions
      // that look like Ajv's, and reads `errors` after each call: the wrapper passes both through.
      (validate as { schemaEnv?: unknown }).schemaEnv = true;
      return validate;
    };
  };
}
