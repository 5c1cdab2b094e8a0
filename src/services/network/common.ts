// What the networking modules share: dependencies, options, Neutron errors, visibility and small validators.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { Db, Dialect } from '../../store/database.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import { CloudError, type ErrorKind } from '../../errors.js';
import type { NetDispatcher } from '../../net/index.js';
import { isoSeconds } from '../../util/ids.js';
import { defaults, type GureumConfig } from '../../config.js';

/** Networking settings: the config's `network` section plus Neutron's fixed defaults (zones, quotas). */
export type NetworkOptions = GureumConfig['network'] & {
  availabilityZones: string[];
  /** Default quotas per project (-1 = unlimited). */
  quotas: Record<string, number>;
};

/** The service's options from its config section. */
export function networkOptions(section: GureumConfig['network']): NetworkOptions {
  return {
    ...section,
    availabilityZones: ['nova'],
    quotas: {
      network: 100,
      subnet: 100,
      port: 500,
      router: 10,
      floatingip: 50,
      security_group: 10,
      security_group_rule: 100,
      subnetpool: -1,
      rbac_policy: 10,
    },
  };
}

export const defaultNetworkOptions: NetworkOptions = networkOptions(defaults.network);

/** What every networking module gets. */
export interface NetworkDeps {
  db: Kysely<Database>;
  dialect: Dialect;
  options: NetworkOptions;
  events: NetDispatcher;
  /** The data plane reports port status (bound ports start DOWN and go ACTIVE once wired). */
  driverSetsPortStatus?: boolean;
}

export type { Db };
export type Obj = Record<string, unknown>;

/** A Neutron error: kind for the status, `type` for NeutronError.type. */
export function nerr(kind: ErrorKind, type: string, message: string, status?: number): CloudError {
  return new CloudError(kind, message, { code: type, ...(status ? { status } : {}) });
}
export const badInput = (message: string) =>
  nerr('BadRequest', 'InvalidInput', `Invalid input for operation: ${message}`);
export const notFoundType = (type: string, message: string) => nerr('NotFound', type, message);

export const now = (): string => isoSeconds();
export const admin = (a: AuthContext): boolean => isAdmin(a);
export const projectOf = (a: AuthContext): string => a.projectId ?? '';

/** The project a new resource belongs to: the caller's, or (admin only) the one named in the body. */
export function ownerFor(a: AuthContext, body: Obj): string {
  const asked = (body.project_id ?? body.tenant_id) as unknown;
  if (body.project_id !== undefined && body.tenant_id !== undefined && body.project_id !== body.tenant_id) {
    throw badInput('tenant_id and project_id must be the same.');
  }
  if (asked === undefined || asked === null) return projectOf(a);
  if (typeof asked !== 'string' || asked.length > 255) throw badInput("'project_id' must be a string.");
  if (asked !== projectOf(a) && !admin(a)) {
    throw nerr(
      'BadRequest',
      'HTTPBadRequest',
      "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin " +
        'privileges',
    );
  }
  return asked;
}

/** Refuses an attribute only admins may set. */
export function adminOnly(a: AuthContext, body: Obj, keys: string[], action: string): void {
  if (admin(a)) return;
  for (const k of keys) {
    if (body[k] !== undefined) {
      throw nerr(
        'Forbidden',
        'PolicyNotAuthorized',
        `(rule:${action} and rule:${action}:${k}) is disallowed by policy`,
      );
    }
  }
}

/** Unknown attributes are refused, as Neutron's attribute maps do. */
export function onlyKnown(body: Obj, known: readonly string[], what: string): void {
  for (const k of Object.keys(body)) {
    if (!known.includes(k)) throw nerr('BadRequest', 'HTTPBadRequest', `Unrecognized attribute(s) '${k}'`);
  }
  void what;
}

export function str(body: Obj, key: string, max = 255): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (v === null && (key === 'name' || key === 'description')) return '';
  if (typeof v !== 'string') throw badInput(`'${String(v)}' is not a valid string for ${key}.`);
  if (v.length > max) throw badInput(`'${v.slice(0, 30)}...' exceeds maximum length of ${max} for ${key}.`);
  return v;
}

/** Neutron's convert_to_boolean: true/false, "true"/"false" (any case), 0/1. */
export function boolOf(body: Obj, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string' && ['true', 'false', '0', '1'].includes(v.toLowerCase()))
    return ['true', '1'].includes(v.toLowerCase());
  throw badInput(`'${String(v)}' cannot be converted to boolean for ${key}.`);
}

export function intOf(body: Obj, key: string, min: number, max: number): number | undefined {
  let v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badInput(`'${String(v)}' is not an integer for ${key}.`);
  if (v < min || v > max) throw badInput(`'${v}' is out of range for ${key} (${min}..${max}).`);
  return v;
}

export function listOf(body: Obj, key: string): unknown[] | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (v === null) return [];
  if (!Array.isArray(v)) throw badInput(`'${JSON.stringify(v)}' is not a list for ${key}.`);
  return v;
}

export const j = <T>(text: string | null | undefined, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);

/** The standard attributes every resource view carries. */
export function standardView(
  r: {
    id: string;
    project_id: string;
    name: string;
    description: string;
    created_at: string;
    updated_at: string;
    revision_number: number;
  },
  tags: string[],
): Obj {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.project_id,
    project_id: r.project_id,
    description: r.description,
    tags,
    created_at: r.created_at,
    updated_at: r.updated_at,
    revision_number: r.revision_number,
  };
}

/** True when the caller may see a resource of `projectId` (Neutron answers 404 otherwise). */
export const owns = (a: AuthContext, projectId: string): boolean => admin(a) || projectId === projectOf(a);

/** Throws 403 when a caller without write roles tries to change something (reader tokens). */
export function needWriter(a: AuthContext): void {
  if (!admin(a) && !a.roleNames.has('member')) {
    throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:member is disallowed by policy');
  }
}
