// Nova picks a body schema per microversion; here each route declares, in one table next to its schema, which
// fields a version adds, removes or makes required. The route's TypeBox schema is the widest one (every field of
// every version, validated by Fastify); this check, run as the route's preHandler, narrows it to the request's
// version with Nova's own messages. Handlers then read the typed body without version `if`s for its shape.
import type { FastifyRequest } from 'fastify';
import { badRequest } from '../../../errors.js';
import { mv } from '../microversion.js';

/**
 * Paths are dotted from the body's top ("server.description"); "[]" steps into every element of an array
 * ("server.networks[].tag"). The last step names the field.
 */
export interface FieldVersions {
  /** Field → first microversion that accepts it. */
  since?: Record<string, string>;
  /** Field → first microversion that no longer accepts it. */
  removedIn?: Record<string, string>;
  /** Field → first microversion that requires it. */
  requiredSince?: Record<string, string>;
  /** Field → first microversion that no longer requires it (required before). */
  requiredUntil?: Record<string, string>;
}

/** The objects a path's parent reaches, and the field name. */
function parents(body: unknown, path: string): { objs: Record<string, unknown>[]; field: string; parent: string } {
  const steps = path.split('.');
  const field = steps.pop()!;
  let objs: unknown[] = [body];
  for (const step of steps) {
    const isArray = step.endsWith('[]');
    const key = isArray ? step.slice(0, -2) : step;
    objs = objs.flatMap((o) => {
      const v = o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>)[key] : undefined;
      return isArray ? (Array.isArray(v) ? v : []) : [v];
    });
  }
  const plain = objs.filter((o): o is Record<string, unknown> => !!o && typeof o === 'object' && !Array.isArray(o));
  return { objs: plain, field, parent: steps.length ? steps[steps.length - 1]!.replace('[]', '') : 'body' };
}

/** Throws Nova's 400 when the body uses a field its version does not have, or lacks one it requires. */
export function checkFieldVersions(body: unknown, fv: FieldVersions, version: { atLeast(v: string): boolean }): void {
  const unexpected = (path: string) => {
    const { objs, field, parent } = parents(body, path);
    if (objs.some((o) => Object.hasOwn(o, field))) {
      throw badRequest(
        `Invalid input for field/attribute ${parent}. Additional properties are not allowed ('${field}' was ` +
          `unexpected)`,
      );
    }
  };
  for (const [path, v] of Object.entries(fv.since ?? {})) if (!version.atLeast(v)) unexpected(path);
  for (const [path, v] of Object.entries(fv.removedIn ?? {})) if (version.atLeast(v)) unexpected(path);
  const required = (path: string) => {
    const { objs, field, parent } = parents(body, path);
    if (objs.some((o) => !Object.hasOwn(o, field)))
      throw badRequest(`Invalid input for field/attribute ${parent}. '${field}' is a required property`);
  };
  for (const [path, v] of Object.entries(fv.requiredSince ?? {})) if (version.atLeast(v)) required(path);
  for (const [path, v] of Object.entries(fv.requiredUntil ?? {})) if (!version.atLeast(v)) required(path);
}

/** The route option that applies a version table: `op(rule, { schema: { body }, ...versioned({...}) })`. */
export const versioned = (fv: FieldVersions) => ({
  preHandler: async (req: FastifyRequest) => checkFieldVersions(req.body, fv, mv(req)),
});

/** For maps whose keys a version's resource list decides (quota sets): Nova's message for a key outside it. */
export function onlyResources(obj: object, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k))
      throw badRequest(
        `Invalid input for field/attribute ${where}. Additional properties are not allowed ('${k}' was unexpected)`,
      );
  }
}
