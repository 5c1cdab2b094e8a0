import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { GureumConfig } from '../../config.js';
import { badRequest } from '../../errors.js';

/** What identity modules share. */
export interface IdentityDeps {
  db: Kysely<Database>;
  config: GureumConfig['identity'];
}

/**
 * Keystone's attribute rules for names: 1..max characters (64 for projects and domains, else 255), not only whitespace.
 */
export const PROJECT_NAME_MAX = 64;
export function checkName(name: unknown, what = 'name', max = 255): string {
  if (typeof name !== 'string' || name.trim().length === 0)
    throw badRequest(`Invalid input for field '${what}': must be a non-empty string.`);
  if (name.length > max)
    throw badRequest(`Invalid input for field '${what}': '${name.slice(0, 20)}...' is too long (max ${max}).`);
  return name;
}

/** Splits an entity body into known columns and Keystone's free-form "extra" attributes. */
export function splitExtra(body: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!known.includes(k) && k !== 'links') extra[k] = v;
  return extra;
}

export const nowIso = (): string => new Date().toISOString();

/** Keystone's string-to-boolean rule for query filters ("0", "false", "no" and "" are false). */
export function queryBool(v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  return !['0', 'false', 'no', 'off', ''].includes(String(v).toLowerCase());
}
