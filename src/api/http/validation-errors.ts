// Turns a schema failure (Ajv's first error) into the message OpenStack services give for it: Nova's and Cinder's
// jsonschema wording, "Invalid input for field/attribute <field>. Value: <value>. <reason>", which names the field.
import type { ErrorObject } from 'ajv';

const shown = (v: unknown): string => {
  if (v === undefined) return 'None';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
};

/** The last named step of a JSON pointer ("/server/networks/0/uuid" → "uuid"; array indexes are skipped). */
function fieldOf(pointer: string, fallback: string): string {
  const steps = pointer
    .split('/')
    .filter((s) => s !== '' && !/^\d+$/.test(s))
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return steps[steps.length - 1] ?? fallback;
}

function reason(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `'${String(p.missingProperty)}' is a required property`;
    case 'additionalProperties':
      return `Additional properties are not allowed ('${String(p.additionalProperty)}' was unexpected)`;
    case 'type':
      return `${shown(e.data)} is not of type '${String(p.type)}'`;
    case 'enum':
      return `${shown(e.data)} is not one of ${JSON.stringify(p.allowedValues)}`;
    case 'const':
      return `${shown(e.data)} is not ${JSON.stringify(p.allowedValue)}`;
    case 'maxLength':
      return `${shown(e.data)} is too long`;
    case 'minLength':
      return `${shown(e.data)} is too short`;
    case 'maxItems':
      return `${shown(e.data)} is too long`;
    case 'minItems':
      return `${shown(e.data)} is too short`;
    case 'minProperties':
      return `${shown(e.data)} does not have enough properties`;
    case 'maxProperties':
      return `${shown(e.data)} has too many properties`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `${shown(e.data)} is less than the minimum of ${String(p.limit)}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `${shown(e.data)} is greater than the maximum of ${String(p.limit)}`;
    case 'pattern':
      return `${shown(e.data)} does not match '${String(p.pattern)}'`;
    default:
      return e.message ?? 'is not valid';
  }
}

/** The message for a failed body, query or params schema; `part` is Fastify's validationContext. */
export function validationMessage(errors: readonly ErrorObject[], part: string | undefined): string {
  // Ajv reports a failed union as each branch's error then "anyOf"; the anyOf line names the field best.
  const e = errors.find((x) => x.keyword === 'anyOf') ?? errors[0];
  if (!e) return 'Invalid input.';
  const where = part === 'querystring' ? 'query parameters' : 'field/attribute';
  if (e.keyword === 'required' || e.keyword === 'additionalProperties') {
    const parent = fieldOf(e.instancePath, part === 'body' || part === undefined ? 'body' : part);
    return `Invalid input for ${where} ${parent}. ${reason(e)}`;
  }
  const field = fieldOf(e.instancePath, part ?? 'body');
  const value = e.keyword === 'anyOf' ? `${shown(e.data)} is not valid under any of the given schemas` : reason(e);
  return `Invalid input for ${where} ${field}. Value: ${shown(e.data)}. ${value}`;
}
