import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type BuildSerializer = ReturnType<typeof SerializerSelector>;
type Compile = ReturnType<BuildSerializer>;
type Serialize = ReturnType<Compile>;

/**
 * Fastify's own response serializer factory (fast-json-stringify), except that each route's
 * serializer is generated on its first reply instead of at start-up, as lazyValidatorFactory does
 * for validators: generating the management API's response serializers was the largest part of
 * Fastify's `ready`, on the path of a new replica's first answer. Replies are byte-identical to
 * the eager serializers' (test/unit/lazy-serializers.test.ts); a broken response schema now fails
 * its route's first reply instead of the start.
 */
export function lazySerializerFactory(): BuildSerializer {
  const build = SerializerSelector();
  return (externalSchemas, options) => {
    let compile: Compile | undefined;
    return (route) => {
      let compiled: Serialize | undefined;
      return ((data: unknown) => (compiled ??= (compile ??= build(externalSchemas, options))(route))(data)) as Serialize;
    };
  };
}
