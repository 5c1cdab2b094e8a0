import type { Roles, Role } from './roles.js';
import { badRequest, notFound } from '../../errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses an expiry timestamp as Keystone does (ISO 8601; no zone means UTC) into the stored form
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ", keeping microseconds. Malformed → 400; in the past → 400.
 */
export function parseExpiry(value: unknown, field = 'expires_at'): string | null {
  if (value === undefined || value === null) return null;
  const m = typeof value === 'string' ? ISO.exec(value.trim()) : null;
  if (!m)
    throw badRequest(
      `Timestamp not in expected format for '${field}': ${String(value)}. The server could not comply with the ` +
        `request since it is either malformed or otherwise incorrect.`,
    );
  const [, y, mo, d, h, mi, s = '00', frac = '', zone = 'Z'] = m;
  const z = zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${z}`);
  if (Number.isNaN(ms)) throw badRequest(`Invalid timestamp for '${field}': ${String(value)}.`);
  const micro = `${frac}000000`.slice(0, 6);
  const stored = `${new Date(ms).toISOString().slice(0, 19)}.${micro}Z`;
  if (ms + Number(micro) / 1000 <= Date.now()) throw badRequest(`The '${field}' must not be before now.`);
  return stored;
}

/** A stored expiry ("...ffffffZ", or an older "...fffZ") with six fraction digits and the Z. */
export function expiryWithZ(stored: string | null): string | null {
  if (!stored) return null;
  const m = /^(.{19})(?:\.(\d+))?Z$/.exec(stored);
  return m ? `${m[1]}.${(`${m[2] ?? ''}000000`).slice(0, 6)}Z` : stored;
}

/** True when a stored expiry has passed. */
export function isExpired(stored: string | null, now = Date.now()): boolean {
  return stored !== null && Date.parse(stored) <= now;
}

/**
 * Resolves `[{id}]` or `[{name, domain_id?}]` role references to roles. Unknown roles → 404, as Keystone
 * answers; a malformed list → 400. Duplicates collapse.
 */
export async function resolveRoleRefs(roles: Roles, refs: unknown, field = 'roles'): Promise<Role[]> {
  if (!Array.isArray(refs)) throw badRequest(`Invalid input for field '${field}': must be a list.`);
  const out = new Map<string, Role>();
  for (const ref of refs) {
    if (!isObj(ref))
      throw badRequest(`Invalid input for field '${field}': each role must be an object with 'id' or 'name'.`);
    let role: Role | undefined;
    if (typeof ref.id === 'string') {
      role = await roles.get(ref.id);
    } else if (typeof ref.name === 'string') {
      const domainId =
        typeof ref.domain_id === 'string'
          ? ref.domain_id
          : isObj(ref.domain) && typeof ref.domain.id === 'string'
            ? ref.domain.id
            : null;
      role = await roles.findByName(ref.name, domainId);
      if (!role) throw notFound(`Could not find role: ${ref.name}.`);
    } else {
      throw badRequest(`Invalid input for field '${field}': each role needs an 'id' or a 'name'.`);
    }
    out.set(role.id, role);
  }
  return [...out.values()];
}

/** Rejects body keys outside `allowed` (Keystone's additionalProperties: false). */
export function rejectUnknown(body: Obj, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw badRequest(`Invalid input for ${what}: additional property '${k}' is not allowed.`);
  }
}

/** Checks an optional string field's type and length. */
export function optString(body: Obj, key: string, max = 255): string | null | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') throw badRequest(`Invalid input for field '${key}': must be a string.`);
  if (v.length > max) throw badRequest(`Invalid input for field '${key}': too long (max ${max}).`);
  return v;
}
