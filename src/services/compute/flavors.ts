import { badRequest, conflict, notFound } from '../../errors.js';
import { isUniqueViolation } from '../../store/database.js';
import type { FlavorRow } from '../../store/compute-tables.js';
import { uuid } from '../../util/ids.js';
import { type AuthContext, type ComputeDeps, isAdmin, nowIso, parseJson } from './common.js';

/** A flavor as the service hands it out. */
export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  rxtxFactor: number;
  isPublic: boolean;
  disabled: boolean;
  description: string | null;
  extraSpecs: Record<string, string>;
}

export const toFlavor = (r: FlavorRow): Flavor => ({
  id: r.id,
  name: r.name,
  vcpus: r.vcpus,
  ram: r.memory_mb,
  disk: r.root_gb,
  ephemeral: r.ephemeral_gb,
  swap: r.swap,
  rxtxFactor: r.rxtx_factor,
  isPublic: r.is_public === 1,
  disabled: r.disabled === 1,
  description: r.description,
  extraSpecs: parseJson<Record<string, string>>(r.extra_specs, {}),
});

/** devstack's flavors (plus m1.nano/m1.micro that devstack makes for Tempest). */
export const DEFAULT_FLAVORS: [id: string, name: string, ram: number, disk: number, vcpus: number][] = [
  ['1', 'm1.tiny', 512, 1, 1],
  ['2', 'm1.small', 2048, 20, 1],
  ['3', 'm1.medium', 4096, 40, 2],
  ['4', 'm1.large', 8192, 80, 4],
  ['5', 'm1.xlarge', 16384, 160, 8],
  ['42', 'm1.nano', 128, 1, 1],
  ['84', 'm1.micro', 192, 1, 1],
  ['c1', 'cirros256', 256, 1, 1],
  ['d1', 'ds512M', 512, 5, 1],
  ['d2', 'ds1G', 1024, 10, 1],
  ['d3', 'ds2G', 2048, 10, 2],
  ['d4', 'ds4G', 4096, 20, 4],
];

const NAME_RE = /^(?! )[\p{L}\p{N}\p{P}\p{S} ]+(?<! )$/u;
const ID_RE = /^(?! )[a-zA-Z0-9. _-]+(?<! )$/;
const SPEC_KEY_RE = /^[a-zA-Z0-9-_:. ]{1,255}$/;

export interface FlavorCreate {
  name: string;
  ram: number;
  vcpus: number;
  disk: number;
  id?: string | null;
  ephemeral?: number;
  swap?: number;
  rxtxFactor?: number;
  isPublic?: boolean;
  description?: string | null;
}

export interface FlavorListQuery {
  isPublic?: boolean | null;
  minRam?: number;
  minDisk?: number;
  sortKey?: string;
  sortDir?: 'asc' | 'desc';
  limit?: number;
  marker?: string;
}

const SORT_COLUMNS: Record<string, keyof FlavorRow> = {
  flavorid: 'id',
  id: 'id',
  name: 'name',
  memory_mb: 'memory_mb',
  ram: 'memory_mb',
  root_gb: 'root_gb',
  disk: 'root_gb',
  vcpus: 'vcpus',
  created_at: 'created_at',
  swap: 'swap',
  ephemeral_gb: 'ephemeral_gb',
  rxtx_factor: 'rxtx_factor',
  is_public: 'is_public',
  description: 'description',
};

/** Flavors, their extra specs and project access. */
export class FlavorService {
  constructor(private readonly d: ComputeDeps) {}

  /** Creates the default flavors on first start; existing names or ids are left alone. */
  async ensureDefaults(): Promise<void> {
    for (const [id, name, ram, disk, vcpus] of DEFAULT_FLAVORS) {
      const hit = await this.d.db
        .selectFrom('compute_flavors')
        .select('id')
        .where((eb) => eb.or([eb('id', '=', id), eb('name', '=', name)]))
        .executeTakeFirst();
      if (hit) continue;
      try {
        await this.insert({ id, name, ram, disk, vcpus });
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
      }
    }
  }

  private async insert(f: FlavorCreate): Promise<Flavor> {
    const row: FlavorRow = {
      id: f.id ?? uuid(),
      name: f.name,
      vcpus: f.vcpus,
      memory_mb: f.ram,
      root_gb: f.disk,
      ephemeral_gb: f.ephemeral ?? 0,
      swap: f.swap ?? 0,
      rxtx_factor: f.rxtxFactor ?? 1,
      is_public: f.isPublic === false ? 0 : 1,
      disabled: 0,
      description: f.description ?? null,
      extra_specs: '{}',
      created_at: nowIso(),
      updated_at: null,
    };
    await this.d.db.insertInto('compute_flavors').values(row).execute();
    return toFlavor(row);
  }

  /** Admin create with Nova's checks and messages. */
  async create(f: FlavorCreate): Promise<Flavor> {
    const name = f.name;
    if (name.trim().length === 0 || name.length > 255 || !NAME_RE.test(name))
      throw badRequest(`Invalid input for field/attribute name. Value: ${name}.`);
    if (f.id !== undefined && f.id !== null && f.id !== 'auto' && (f.id.length > 255 || !ID_RE.test(f.id))) {
      throw badRequest(`Invalid input for field/attribute id. Value: ${f.id}.`);
    }
    const id = f.id === undefined || f.id === null || f.id === 'auto' ? uuid() : f.id;
    if (await this.d.db.selectFrom('compute_flavors').select('id').where('id', '=', id).executeTakeFirst()) {
      throw conflict(`Flavor with ID ${id} already exists.`, { code: 'FlavorIdExists' });
    }
    if (await this.d.db.selectFrom('compute_flavors').select('id').where('name', '=', name).executeTakeFirst()) {
      throw conflict(`Flavor with name ${name} already exists.`, { code: 'FlavorExists' });
    }
    try {
      return await this.insert({ ...f, id });
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Flavor with name ${name} already exists.`, { code: 'FlavorExists' });
      throw e;
    }
  }

  /** A flavor by id, regardless of access (servers keep using flavors their project lost access to). */
  async getRaw(id: string): Promise<Flavor> {
    const r = await this.d.db.selectFrom('compute_flavors').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Flavor ${id} could not be found.`, { code: 'FlavorNotFound' });
    return toFlavor(r);
  }

  /** A flavor the caller may see: public, or private with access, or any for admin. */
  async get(ctx: AuthContext, id: string): Promise<Flavor> {
    const f = await this.getRaw(id);
    if (!f.isPublic && !isAdmin(ctx) && !(await this.hasAccess(f.id, ctx.projectId))) {
      throw notFound(`Flavor ${id} could not be found.`, { code: 'FlavorNotFound' });
    }
    return f;
  }

  private async hasAccess(flavorId: string, projectId: string | undefined): Promise<boolean> {
    if (!projectId) return false;
    return !!(await this.d.db
      .selectFrom('compute_flavor_projects')
      .select('flavor_id')
      .where('flavor_id', '=', flavorId)
      .where('project_id', '=', projectId)
      .executeTakeFirst());
  }

  /** Nova's list: public plus accessible private ones; admins filter with is_public (null = all). */
  async list(ctx: AuthContext, q: FlavorListQuery): Promise<Flavor[]> {
    let query = this.d.db.selectFrom('compute_flavors').selectAll().where('disabled', '=', 0);
    const admin = isAdmin(ctx);
    const isPublic = admin ? q.isPublic : true;
    if (isPublic === true && !admin) {
      const pid = ctx.projectId ?? '';
      query = query.where((eb) =>
        eb.or([
          eb('is_public', '=', 1),
          eb('id', 'in', eb.selectFrom('compute_flavor_projects').select('flavor_id').where('project_id', '=', pid)),
        ]),
      );
    } else if (isPublic === true) {
      query = query.where('is_public', '=', 1);
    } else if (isPublic === false) {
      query = query.where('is_public', '=', 0);
    }
    if (q.minRam !== undefined) query = query.where('memory_mb', '>=', q.minRam);
    if (q.minDisk !== undefined) query = query.where('root_gb', '>=', q.minDisk);
    const col = SORT_COLUMNS[q.sortKey ?? 'flavorid'];
    if (!col) throw badRequest(`Invalid sort_key: ${q.sortKey}`);
    const dir = q.sortDir ?? 'asc';
    let rows = await query.orderBy(col, dir).orderBy('id', dir).execute();
    if (q.marker !== undefined) {
      const i = rows.findIndex((r) => r.id === q.marker);
      if (i < 0) throw badRequest(`marker [${q.marker}] not found`);
      rows = rows.slice(i + 1);
    }
    if (q.limit !== undefined) rows = rows.slice(0, q.limit);
    return rows.map(toFlavor);
  }

  async delete(id: string): Promise<void> {
    await this.getRaw(id);
    await this.d.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('compute_flavor_projects').where('flavor_id', '=', id).execute();
      await trx.deleteFrom('compute_flavors').where('id', '=', id).execute();
    });
  }

  async updateDescription(id: string, description: string | null): Promise<Flavor> {
    await this.getRaw(id);
    await this.d.db
      .updateTable('compute_flavors')
      .set({ description, updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
    return this.getRaw(id);
  }

  // extra specs

  private checkSpecs(specs: Record<string, unknown>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(specs)) {
      if (!SPEC_KEY_RE.test(k))
        throw badRequest(
          `Invalid input for field/attribute extra_specs. Value: ${k}. '${k}' does not match any of the regexes`,
        );
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw badRequest(
          `Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}. It must be a string, number or ` +
            `boolean.`,
        );
      }
      const s = String(v);
      if (s.length > 255) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${s}. is too long`);
      out[k] = s;
    }
    return out;
  }

  async setExtraSpecs(id: string, specs: Record<string, unknown>): Promise<Record<string, string>> {
    const clean = this.checkSpecs(specs);
    const f = await this.getRaw(id);
    const merged = { ...f.extraSpecs, ...clean };
    await this.d.db
      .updateTable('compute_flavors')
      .set({ extra_specs: JSON.stringify(merged), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
    return merged;
  }

  async getExtraSpec(id: string, key: string): Promise<string> {
    const f = await this.getRaw(id);
    const v = f.extraSpecs[key];
    if (v === undefined)
      throw notFound(`Flavor ${id} has no extra specs with key ${key}.`, { code: 'FlavorExtraSpecsNotFound' });
    return v;
  }

  async deleteExtraSpec(id: string, key: string): Promise<void> {
    const f = await this.getRaw(id);
    if (f.extraSpecs[key] === undefined)
      throw notFound(`Flavor ${id} has no extra specs with key ${key}.`, { code: 'FlavorExtraSpecsNotFound' });
    const { [key]: _gone, ...rest } = f.extraSpecs;
    await this.d.db
      .updateTable('compute_flavors')
      .set({ extra_specs: JSON.stringify(rest), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }

  // access

  async listAccess(id: string): Promise<{ flavorId: string; projectId: string }[]> {
    const f = await this.getRaw(id);
    if (f.isPublic) throw notFound('Access list not available for public flavors.', { code: 'FlavorAccessNotFound' });
    const rows = await this.d.db
      .selectFrom('compute_flavor_projects')
      .selectAll()
      .where('flavor_id', '=', id)
      .orderBy('project_id')
      .execute();
    return rows.map((r) => ({ flavorId: r.flavor_id, projectId: r.project_id }));
  }

  async addAccess(id: string, projectId: string): Promise<{ flavorId: string; projectId: string }[]> {
    const f = await this.getRaw(id);
    if (f.isPublic) throw conflict('Can not add access to a public flavor.', { code: 'FlavorAccessExists' });
    try {
      await this.d.db.insertInto('compute_flavor_projects').values({ flavor_id: id, project_id: projectId }).execute();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(`Flavor access already exists for flavor ${id} and project ${projectId} combination.`, {
          code: 'FlavorAccessExists',
        });
      }
      throw e;
    }
    return this.listAccess(id);
  }

  async removeAccess(id: string, projectId: string): Promise<{ flavorId: string; projectId: string }[]> {
    await this.getRaw(id);
    const r = await this.d.db
      .deleteFrom('compute_flavor_projects')
      .where('flavor_id', '=', id)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) {
      throw notFound(`Flavor access not found for ${id} / ${projectId} combination.`, { code: 'FlavorAccessNotFound' });
    }
    return this.listAccess(id);
  }
}
