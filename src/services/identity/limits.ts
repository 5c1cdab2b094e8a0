import type { IdentityDeps } from './common.js';
import type { RegisteredLimitRow, LimitRow } from '../../store/identity-tables.js';
import type { Db } from '../../store/database.js';
import { inTransaction } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, conflict, forbidden, notFound } from '../../errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export type RegisteredLimit = RegisteredLimitRow;
export type Limit = LimitRow;

/** Keystone's enforcement model; only "flat" is offered. */
export const LIMIT_MODEL = {
  name: 'flat',
  description: 'Limit enforcement and validation does not take project hierarchy into consideration.',
} as const;

const MAX_LIMIT = 2147483647;
const REG_KEYS = ['service_id', 'region_id', 'resource_name', 'default_limit', 'description'];
const LIMIT_KEYS = [
  'project_id',
  'domain_id',
  'service_id',
  'region_id',
  'resource_name',
  'resource_limit',
  'description',
];

function only(body: Obj, keys: string[], what: string): void {
  for (const k of Object.keys(body))
    if (!keys.includes(k)) throw badRequest(`Invalid input for ${what}: additional property '${k}' is not allowed.`);
}
function str(v: unknown, field: string, max = 255): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw badRequest(`Invalid input for field '${field}': a string of 1 to ${max} characters is required.`);
  return v;
}
function optStr(v: unknown, field: string, max = 255): string | null {
  return v === undefined || v === null ? null : str(v, field, max);
}
function count(v: unknown, field: string): number {
  if (!Number.isInteger(v) || (v as number) < -1 || (v as number) > MAX_LIMIT) {
    throw badRequest(`Invalid input for field '${field}': an integer from -1 (unlimited) to ${MAX_LIMIT} is required.`);
  }
  return v as number;
}
function description(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw badRequest("Invalid input for field 'description': must be a string or null.");
  return v;
}
function items(body: unknown, key: string): Obj[] {
  if (!Array.isArray(body) || body.length === 0 || !body.every(isObj))
    throw badRequest(`Invalid input for '${key}': a non-empty list of objects is required.`);
  return body as Obj[];
}

/** Unified limits: registered (default) limits per service/region/resource and project or domain overrides. */
export class Limits {
  constructor(private readonly d: IdentityDeps) {}

  private async checkServiceRegion(db: Db, serviceId: string, regionId: string | null): Promise<void> {
    if (!(await db.selectFrom('services').select('id').where('id', '=', serviceId).executeTakeFirst()))
      throw badRequest(`Invalid service_id: could not find service ${serviceId}.`);
    if (regionId && !(await db.selectFrom('regions').select('id').where('id', '=', regionId).executeTakeFirst()))
      throw badRequest(`Invalid region_id: could not find region ${regionId}.`);
  }

  private async findRegistered(
    db: Db,
    serviceId: string,
    regionId: string | null,
    resource: string,
  ): Promise<RegisteredLimitRow | undefined> {
    let q = db
      .selectFrom('registered_limits')
      .selectAll()
      .where('service_id', '=', serviceId)
      .where('resource_name', '=', resource);
    q = regionId ? q.where('region_id', '=', regionId) : q.where('region_id', 'is', null);
    return q.executeTakeFirst();
  }

  /** Creates several registered limits at once: all or none. */
  async createRegistered(list: unknown): Promise<RegisteredLimit[]> {
    const rows: RegisteredLimitRow[] = items(list, 'registered_limits').map((b) => {
      only(b, REG_KEYS, 'registered_limit');
      return {
        id: hexId(),
        service_id: str(b.service_id, 'service_id', 64),
        region_id: optStr(b.region_id, 'region_id', 255),
        resource_name: str(b.resource_name, 'resource_name'),
        default_limit: count(b.default_limit, 'default_limit'),
        description: description(b.description),
      };
    });
    return inTransaction(this.d.db, async (trx) => {
      for (const [i, r] of rows.entries()) {
        await this.checkServiceRegion(trx, r.service_id, r.region_id);
        const dup =
          (await this.findRegistered(trx, r.service_id, r.region_id, r.resource_name)) ??
          rows
            .slice(0, i)
            .find(
              (o) =>
                o.service_id === r.service_id && o.region_id === r.region_id && o.resource_name === r.resource_name,
            );
        if (dup)
          throw conflict(
            `Conflict occurred attempting to store registered_limit - Duplicate entry found with resource_name ` +
              `${r.resource_name} for service ${r.service_id}.`,
          );
        await trx.insertInto('registered_limits').values(r).execute();
      }
      return rows;
    });
  }

  async listRegistered(f: {
    service_id?: string;
    region_id?: string;
    resource_name?: string;
  }): Promise<RegisteredLimit[]> {
    let q = this.d.db.selectFrom('registered_limits').selectAll().orderBy('resource_name').orderBy('id');
    if (f.service_id !== undefined) q = q.where('service_id', '=', f.service_id);
    if (f.region_id !== undefined) q = q.where('region_id', '=', f.region_id);
    if (f.resource_name !== undefined) q = q.where('resource_name', '=', f.resource_name);
    return q.execute();
  }

  async getRegistered(id: string): Promise<RegisteredLimit> {
    const r = await this.d.db.selectFrom('registered_limits').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find registered limit for ${id}.`);
    return r;
  }

  /** Limits that override a registered limit (same service, region and resource). */
  private async overrides(db: Db, r: RegisteredLimitRow): Promise<number> {
    let q = db
      .selectFrom('limits')
      .select('id')
      .where('service_id', '=', r.service_id)
      .where('resource_name', '=', r.resource_name);
    q = r.region_id ? q.where('region_id', '=', r.region_id) : q.where('region_id', 'is', null);
    return (await q.execute()).length;
  }

  async updateRegistered(id: string, b: Obj): Promise<RegisteredLimit> {
    only(b, [...REG_KEYS, 'id'], 'registered_limit');
    return inTransaction(this.d.db, async (trx) => {
      const cur = await trx.selectFrom('registered_limits').selectAll().where('id', '=', id).executeTakeFirst();
      if (!cur) throw notFound(`Could not find registered limit for ${id}.`);
      const next: RegisteredLimitRow = {
        ...cur,
        ...(b.service_id !== undefined ? { service_id: str(b.service_id, 'service_id', 64) } : {}),
        ...(b.region_id !== undefined ? { region_id: optStr(b.region_id, 'region_id') } : {}),
        ...(b.resource_name !== undefined ? { resource_name: str(b.resource_name, 'resource_name') } : {}),
        ...(b.default_limit !== undefined ? { default_limit: count(b.default_limit, 'default_limit') } : {}),
        ...(b.description !== undefined ? { description: description(b.description) } : {}),
      };
      const moved =
        next.service_id !== cur.service_id ||
        next.region_id !== cur.region_id ||
        next.resource_name !== cur.resource_name;
      if (moved) {
        if (await this.overrides(trx, cur))
          throw forbidden(
            'Cannot update the service, region or resource of a registered limit that project or domain limits ' +
              'refer to.',
          );
        await this.checkServiceRegion(trx, next.service_id, next.region_id);
        const dup = await this.findRegistered(trx, next.service_id, next.region_id, next.resource_name);
        if (dup && dup.id !== id)
          throw conflict(
            `Conflict occurred attempting to update registered_limit - Duplicate entry found with resource_name ` +
              `${next.resource_name}.`,
          );
      }
      await trx.updateTable('registered_limits').set(next).where('id', '=', id).execute();
      return next;
    });
  }

  async deleteRegistered(id: string): Promise<void> {
    await inTransaction(this.d.db, async (trx) => {
      const cur = await trx.selectFrom('registered_limits').selectAll().where('id', '=', id).executeTakeFirst();
      if (!cur) throw notFound(`Could not find registered limit for ${id}.`);
      if (await this.overrides(trx, cur))
        throw forbidden(`Cannot delete registered limit ${id}: project or domain limits refer to it.`);
      await trx.deleteFrom('registered_limits').where('id', '=', id).execute();
    });
  }

  // Project and domain limits.
  async createLimits(list: unknown): Promise<Limit[]> {
    const rows: LimitRow[] = items(list, 'limits').map((b) => {
      only(b, LIMIT_KEYS, 'limit');
      const projectId = optStr(b.project_id, 'project_id', 64);
      const domainId = optStr(b.domain_id, 'domain_id', 64);
      if (!!projectId === !!domainId)
        throw badRequest('Invalid limit: exactly one of project_id and domain_id is required.');
      return {
        id: hexId(),
        project_id: projectId,
        domain_id: domainId,
        service_id: str(b.service_id, 'service_id', 64),
        region_id: optStr(b.region_id, 'region_id'),
        resource_name: str(b.resource_name, 'resource_name'),
        resource_limit: count(b.resource_limit, 'resource_limit'),
        description: description(b.description),
      };
    });
    return inTransaction(this.d.db, async (trx) => {
      for (const [i, r] of rows.entries()) {
        await this.checkServiceRegion(trx, r.service_id, r.region_id);
        if (
          r.project_id &&
          !(await trx.selectFrom('projects').select('id').where('id', '=', r.project_id).executeTakeFirst())
        ) {
          throw badRequest(`Invalid project_id: could not find project ${r.project_id}.`);
        }
        if (
          r.domain_id &&
          !(await trx.selectFrom('domains').select('id').where('id', '=', r.domain_id).executeTakeFirst())
        ) {
          throw badRequest(`Invalid domain_id: could not find domain ${r.domain_id}.`);
        }
        if (!(await this.findRegistered(trx, r.service_id, r.region_id, r.resource_name))) {
          throw forbidden(
            `The limit for ${r.resource_name} of service ` +
              `${r.service_id}${r.region_id ? ` in region ${r.region_id}` : ''} has no registered limit to refer to.`,
          );
        }
        let q = trx
          .selectFrom('limits')
          .select('id')
          .where('service_id', '=', r.service_id)
          .where('resource_name', '=', r.resource_name);
        q = r.region_id ? q.where('region_id', '=', r.region_id) : q.where('region_id', 'is', null);
        q = r.project_id ? q.where('project_id', '=', r.project_id) : q.where('domain_id', '=', r.domain_id!);
        const same = (o: LimitRow) =>
          o.service_id === r.service_id &&
          o.region_id === r.region_id &&
          o.resource_name === r.resource_name &&
          o.project_id === r.project_id &&
          o.domain_id === r.domain_id;
        if ((await q.executeTakeFirst()) || rows.slice(0, i).some(same)) {
          throw conflict(
            `Conflict occurred attempting to store limit - Duplicate entry found with resource_name ` +
              `${r.resource_name} for ${r.project_id ? `project ${r.project_id}` : `domain ${r.domain_id}`}.`,
          );
        }
        await trx.insertInto('limits').values(r).execute();
      }
      return rows;
    });
  }

  async listLimits(f: {
    service_id?: string;
    region_id?: string;
    resource_name?: string;
    project_id?: string;
    domain_id?: string;
  }): Promise<Limit[]> {
    let q = this.d.db.selectFrom('limits').selectAll().orderBy('resource_name').orderBy('id');
    if (f.service_id !== undefined) q = q.where('service_id', '=', f.service_id);
    if (f.region_id !== undefined) q = q.where('region_id', '=', f.region_id);
    if (f.resource_name !== undefined) q = q.where('resource_name', '=', f.resource_name);
    if (f.project_id !== undefined) q = q.where('project_id', '=', f.project_id);
    if (f.domain_id !== undefined) q = q.where('domain_id', '=', f.domain_id);
    return q.execute();
  }

  async getLimit(id: string): Promise<Limit> {
    const r = await this.d.db.selectFrom('limits').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find limit for ${id}.`);
    return r;
  }

  /** Only resource_limit and description may change, as in Keystone. */
  async updateLimit(id: string, b: Obj): Promise<Limit> {
    only(b, ['resource_limit', 'description', 'id'], 'limit');
    const cur = await this.getLimit(id);
    const patch: Partial<LimitRow> = {};
    if (b.resource_limit !== undefined) patch.resource_limit = count(b.resource_limit, 'resource_limit');
    if (b.description !== undefined) patch.description = description(b.description);
    if (Object.keys(patch).length) await this.d.db.updateTable('limits').set(patch).where('id', '=', id).execute();
    return { ...cur, ...patch };
  }

  async deleteLimit(id: string): Promise<void> {
    await this.getLimit(id);
    await this.d.db.deleteFrom('limits').where('id', '=', id).execute();
  }
}
