// Route validators that compile their schema on first use instead of at start-up.
// Why: compiling every route's TypeBox schema with ajv when Fastify registers the routes was the largest single cost
// of `gureum up` reaching /healthz (CPU profile: ajv's compile and codegen ~20 % of the start), and a process only
// ever validates the routes that are called. Semantics are unchanged: the same ajv instance, options and schema.
import type { Ajv, ValidateFunction } from 'ajv';

export interface LazyValidate {
  (data: unknown): boolean;
  /** ajv's errors of the last call, where Fastify reads them. */
  errors: ValidateFunction['errors'];
}

export function lazyValidator(ajv: Ajv, schema: object): LazyValidate {
  let compiled: ValidateFunction | undefined;
  const validate = ((data: unknown) => {
    compiled ??= ajv.compile(schema);
    const ok = compiled(data) as boolean;
    validate.errors = compiled.errors;
    return ok;
  }) as LazyValidate;
  validate.errors = null;
  return validate;
}
