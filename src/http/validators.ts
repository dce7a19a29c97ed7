import AjvCompiler from '@fastify/ajv-compiler';

type BuildValidator = ReturnType<typeof AjvCompiler>;

const pool = AjvCompiler();

/**
 * Path, query and header values are strings on the wire, so they are coerced to the schema's types;
 * JSON bodies are not: `"size": "10"` is a string, not the integer 10, and is refused.
 */
export const strictBodyValidators: BuildValidator = (externalSchemas, options) => {
  const coercing = pool(externalSchemas, options);
  const strict = pool(externalSchemas, {
    ...options,
    customOptions: { ...options?.customOptions, coerceTypes: false },
  } as typeof options);
  return (route) => (route.httpPart === 'body' ? strict : coercing)(route);
};
