// Volume types: public or private (visible to listed projects), extra specs, and the `__DEFAULT__` type Cinder
// has always had since Train (volumes created without a type get it).
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { isUniqueViolation } from '../../store/database.js';
import { uuid } from '../../util/ids.js';
import { now, volumeTypeOf, type VolumeType } from './model.js';

export const DEFAULT_TYPE_NAME = '__DEFAULT__';

export class VolumeTypes {
  constructor(private readonly db: Kysely<Database>) {}

  /** Makes sure the default type exists (first start). */
  async bootstrap(): Promise<void> {
    const have = await this.db
      .selectFrom('volume_types')
      .select('id')
      .where('name', '=', DEFAULT_TYPE_NAME)
      .executeTakeFirst();
    if (have) return;
    await this.db
      .insertInto('volume_types')
      .values({
        id: uuid(),
        name: DEFAULT_TYPE_NAME,
        description: 'Default Volume Type',
        is_public: 1,
        extra_specs: '{}',
        qos_specs_id: null,
        created_at: now(),
        updated_at: null,
      })
      .execute()
      .catch((e) => {
        if (!isUniqueViolation(e)) throw e;
      });
  }

  private async visible(a: AuthContext, t: VolumeType): Promise<boolean> {
    if (t.isPublic || isAdmin(a)) return true;
    if (!a.projectId) return false;
    return !!(await this.db
      .selectFrom('volume_type_access')
      .select('project_id')
      .where('volume_type_id', '=', t.id)
      .where('project_id', '=', a.projectId)
      .executeTakeFirst());
  }

  /** Visible types; `isPublic` (admin filter): true, false or null for both. */
  async list(a: AuthContext, opts: { isPublic?: boolean | null } = {}): Promise<VolumeType[]> {
    const rows = await this.db.selectFrom('volume_types').selectAll().orderBy('created_at').orderBy('id').execute();
    const out: VolumeType[] = [];
    for (const r of rows) {
      const t = volumeTypeOf(r);
      if (isAdmin(a)) {
        const want = opts.isPublic === undefined ? undefined : opts.isPublic;
        if (want === true && !t.isPublic) continue;
        if (want === false && t.isPublic) continue;
        out.push(t);
      } else if (await this.visible(a, t)) out.push(t);
    }
    return out;
  }

  /** By id or (as the CLI sends) by name; 404 when not visible. */
  async get(a: AuthContext, idOrName: string): Promise<VolumeType> {
    const r = await this.db
      .selectFrom('volume_types')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
    const t = r ? volumeTypeOf(r) : null;
    if (!t || !(await this.visible(a, t))) throw notFound(`Volume type ${idOrName} could not be found.`);
    return t;
  }

  /** By id without access checks (for rendering a volume's type). */
  async find(id: string): Promise<VolumeType | null> {
    const r = await this.db.selectFrom('volume_types').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? volumeTypeOf(r) : null;
  }

  async defaultType(): Promise<VolumeType> {
    const r = await this.db
      .selectFrom('volume_types')
      .selectAll()
      .where('name', '=', DEFAULT_TYPE_NAME)
      .executeTakeFirst();
    if (!r) throw notFound('Default volume type can not be found.');
    return volumeTypeOf(r);
  }

  async create(spec: {
    name: string;
    description?: string | null;
    isPublic?: boolean;
    extraSpecs?: Record<string, string>;
  }): Promise<VolumeType> {
    const id = uuid();
    try {
      await this.db
        .insertInto('volume_types')
        .values({
          id,
          name: spec.name,
          description: spec.description ?? null,
          is_public: spec.isPublic === false ? 0 : 1,
          extra_specs: JSON.stringify(spec.extraSpecs ?? {}),
          qos_specs_id: null,
          created_at: now(),
          updated_at: null,
        })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Volume Type ${spec.name} already exists.`);
      throw e;
    }
    return (await this.find(id))!;
  }

  async update(
    id: string,
    spec: { name?: string; description?: string | null; isPublic?: boolean },
  ): Promise<VolumeType> {
    const t = await this.find(id);
    if (!t) throw notFound(`Volume type ${id} could not be found.`);
    if (t.name === DEFAULT_TYPE_NAME && spec.name !== undefined && spec.name !== t.name)
      throw badRequest('The default volume type cannot be renamed.');
    try {
      await this.db
        .updateTable('volume_types')
        .set({
          ...(spec.name !== undefined ? { name: spec.name } : {}),
          ...(spec.description !== undefined ? { description: spec.description } : {}),
          ...(spec.isPublic !== undefined ? { is_public: spec.isPublic ? 1 : 0 } : {}),
          updated_at: now(),
        })
        .where('id', '=', id)
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Volume Type ${spec.name} already exists.`);
      throw e;
    }
    return (await this.find(id))!;
  }

  async delete(id: string): Promise<void> {
    const t = await this.find(id);
    if (!t) throw notFound(`Volume type ${id} could not be found.`);
    if (t.name === DEFAULT_TYPE_NAME) throw badRequest('Default volume type can not be deleted.');
    const inUse = await this.db
      .selectFrom('volume_volumes')
      .select('id')
      .where('volume_type_id', '=', id)
      .executeTakeFirst();
    if (inUse) throw badRequest(`Target volume type is still in use. Volume type ${id} has volumes.`);
    await this.db.deleteFrom('volume_type_access').where('volume_type_id', '=', id).execute();
    await this.db.deleteFrom('volume_types').where('id', '=', id).execute();
  }

  async setExtraSpecs(id: string, specs: Record<string, string>): Promise<Record<string, string>> {
    const t = await this.find(id);
    if (!t) throw notFound(`Volume type ${id} could not be found.`);
    const merged = { ...t.extraSpecs, ...specs };
    await this.db
      .updateTable('volume_types')
      .set({ extra_specs: JSON.stringify(merged), updated_at: now() })
      .where('id', '=', id)
      .execute();
    return merged;
  }

  async deleteExtraSpec(id: string, key: string): Promise<void> {
    const t = await this.find(id);
    if (!t) throw notFound(`Volume type ${id} could not be found.`);
    if (!(key in t.extraSpecs)) throw notFound(`Volume Type ${id} has no extra specs with key ${key}.`);
    const rest = { ...t.extraSpecs };
    delete rest[key];
    await this.db
      .updateTable('volume_types')
      .set({ extra_specs: JSON.stringify(rest), updated_at: now() })
      .where('id', '=', id)
      .execute();
  }

  async listAccess(id: string): Promise<{ volumeTypeId: string; projectId: string }[]> {
    const t = await this.find(id);
    if (!t) throw notFound(`Volume type ${id} could not be found.`);
    if (t.isPublic) throw notFound(`Access list not available for public volume types.`);
    const rows = await this.db.selectFrom('volume_type_access').selectAll().where('volume_type_id', '=', id).execute();
    return rows.map((r) => ({ volumeTypeId: r.volume_type_id, projectId: r.project_id }));
  }

  async addAccess(id: string, projectId: string): Promise<void> {
    const t = await this.find(id);
    if (!t) throw notFound(`Volume type ${id} could not be found.`);
    if (t.isPublic)
      throw badRequest('Invalid volume type: Type access modification is not applicable to public volume type.');
    try {
      await this.db.insertInto('volume_type_access').values({ volume_type_id: id, project_id: projectId }).execute();
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(`Volume type access for ${id} / ${projectId} combination already exists.`);
      throw e;
    }
  }

  async removeAccess(id: string, projectId: string): Promise<void> {
    const t = await this.find(id);
    if (!t) throw notFound(`Volume type ${id} could not be found.`);
    if (t.isPublic)
      throw badRequest('Invalid volume type: Type access modification is not applicable to public volume type.');
    const r = await this.db
      .deleteFrom('volume_type_access')
      .where('volume_type_id', '=', id)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0)
      throw notFound(`Volume type access not found for ${id} / ${projectId} combination.`);
  }
}
