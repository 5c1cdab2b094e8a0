// Metadata definitions (metadefs): namespaces grouping property definitions, objects and tags, and the
// resource types (OS::Glance::Image, OS::Nova::Flavor, ...) they apply to. Admins write, everyone reads public ones.
import type { AuthContext } from '../auth-context.js';
import type { MetadefNamespaceRow } from '../../store/image-tables.js';
import { bool, fromJson, inTransaction, isUniqueViolation, type Db } from '../../store/database.js';
import { badRequest, conflict, forbidden, notFound } from '../../errors.js';
import { allowed } from '../policy.js';
import { admin, now, type ImageDeps } from './common.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Namespace {
  namespace: string;
  display_name: string | null;
  description: string | null;
  visibility: string;
  protected: boolean;
  owner: string | null;
  created_at: string;
  updated_at: string;
}
export interface Association {
  name: string;
  prefix: string | null;
  properties_target: string | null;
  created_at: string;
  updated_at: string;
}
export interface NamedDef {
  name: string;
  body: Obj;
  created_at: string;
  updated_at: string;
}
export interface MetadefTag {
  name: string;
  created_at: string;
  updated_at: string;
}

function name(v: unknown, what: string, max = 80): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max)
    throw badRequest(`Invalid value for '${what}': a string of 1 to ${max} characters.`);
  return v;
}
function optText(v: unknown, what: string, max: number): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > max)
    throw badRequest(`Invalid value for '${what}': a string of at most ${max} characters.`);
  return v;
}
const toNs = (r: MetadefNamespaceRow): Namespace => ({ ...r, protected: !!r.protected });

export class Metadefs {
  constructor(private readonly d: ImageDeps) {}

  private canWrite(a: AuthContext): void {
    if (!allowed(a, 'image:metadef_admin')) throw forbidden('You are not authorized to change metadata definitions.');
  }

  private visible(a: AuthContext, r: MetadefNamespaceRow): boolean {
    return admin(a) || r.visibility === 'public' || (!!a.projectId && r.owner === a.projectId);
  }

  private async nsRow(a: AuthContext, ns: string): Promise<MetadefNamespaceRow> {
    const r = await this.d.db
      .selectFrom('metadef_namespaces')
      .selectAll()
      .where('namespace', '=', ns)
      .executeTakeFirst();
    if (!r || !this.visible(a, r)) throw notFound(`Metadata definition namespace=${ns} was not found.`);
    return r;
  }

  private nsFields(body: Obj, base?: MetadefNamespaceRow): Omit<MetadefNamespaceRow, 'created_at' | 'updated_at'> {
    const vis = body.visibility ?? base?.visibility ?? 'private';
    if (vis !== 'public' && vis !== 'private') throw badRequest("Invalid value for 'visibility': public or private.");
    if (body.protected !== undefined && typeof body.protected !== 'boolean')
      throw badRequest("Invalid value for 'protected': must be a boolean.");
    return {
      namespace: name(body.namespace ?? base?.namespace, 'namespace'),
      display_name:
        body.display_name !== undefined ? optText(body.display_name, 'display_name', 80) : (base?.display_name ?? null),
      description:
        body.description !== undefined ? optText(body.description, 'description', 500) : (base?.description ?? null),
      visibility: vis as string,
      protected: body.protected !== undefined ? bool(body.protected as boolean) : (base?.protected ?? 0),
      owner: body.owner !== undefined ? optText(body.owner, 'owner', 255) : (base?.owner ?? null),
    };
  }

  async listNamespaces(
    a: AuthContext,
    filter: { visibility?: string; resourceTypes?: string[] },
  ): Promise<Namespace[]> {
    let q = this.d.db.selectFrom('metadef_namespaces').selectAll();
    if (filter.visibility) q = q.where('visibility', '=', filter.visibility);
    if (filter.resourceTypes?.length) {
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('metadef_ns_resource_types')
            .select('metadef_ns_resource_types.namespace')
            .whereRef('metadef_ns_resource_types.namespace', '=', 'metadef_namespaces.namespace')
            .where('metadef_ns_resource_types.resource_type', 'in', filter.resourceTypes!),
        ),
      );
    }
    const rows = await q.orderBy('namespace').execute();
    return rows.filter((r) => this.visible(a, r)).map(toNs);
  }

  async getNamespace(
    a: AuthContext,
    ns: string,
  ): Promise<{
    ns: Namespace;
    associations: Association[];
    properties: NamedDef[];
    objects: NamedDef[];
    tags: MetadefTag[];
  }> {
    const r = await this.nsRow(a, ns);
    return {
      ns: toNs(r),
      associations: await this.listAssociations(a, ns),
      properties: await this.listDefs(a, ns, 'metadef_properties'),
      objects: await this.listDefs(a, ns, 'metadef_objects'),
      tags: await this.listTags(a, ns),
    };
  }

  async createNamespace(a: AuthContext, body: Obj): Promise<Namespace> {
    this.canWrite(a);
    const f = this.nsFields(body);
    const ts = now();
    const row: MetadefNamespaceRow = { ...f, owner: f.owner ?? a.projectId ?? null, created_at: ts, updated_at: ts };
    const assocs = body.resource_type_associations;
    if (assocs !== undefined && !Array.isArray(assocs))
      throw badRequest("Invalid value for 'resource_type_associations': a list.");
    const props = body.properties;
    if (props !== undefined && !isObj(props)) throw badRequest("Invalid value for 'properties': an object.");
    const objects = body.objects;
    if (objects !== undefined && !Array.isArray(objects)) throw badRequest("Invalid value for 'objects': a list.");
    const tags = body.tags;
    if (tags !== undefined && !Array.isArray(tags)) throw badRequest("Invalid value for 'tags': a list.");
    try {
      await inTransaction(this.d.db, async (trx) => {
        await trx.insertInto('metadef_namespaces').values(row).execute();
        for (const as of (assocs ?? []) as unknown[]) {
          if (!isObj(as)) throw badRequest('Invalid resource type association.');
          await this.requireResourceType(name(as.name, 'name'), trx);
          await trx
            .insertInto('metadef_ns_resource_types')
            .values({
              namespace: row.namespace,
              resource_type: as.name as string,
              prefix: optText(as.prefix, 'prefix', 80),
              properties_target: optText(as.properties_target, 'properties_target', 80),
              created_at: ts,
              updated_at: ts,
            })
            .execute();
        }
        for (const [pn, def] of Object.entries(props ?? {})) {
          if (!isObj(def)) throw badRequest(`Invalid property definition '${pn}'.`);
          await trx
            .insertInto('metadef_properties')
            .values({
              namespace: row.namespace,
              name: name(pn, 'name'),
              body: JSON.stringify({ ...def, name: pn }),
              created_at: ts,
              updated_at: ts,
            })
            .execute();
        }
        for (const o of (objects ?? []) as unknown[]) {
          if (!isObj(o)) throw badRequest('Invalid object definition.');
          await trx
            .insertInto('metadef_objects')
            .values({
              namespace: row.namespace,
              name: name(o.name, 'name'),
              body: JSON.stringify(o),
              created_at: ts,
              updated_at: ts,
            })
            .execute();
        }
        for (const t of (tags ?? []) as unknown[]) {
          if (!isObj(t)) throw badRequest('Invalid tag.');
          await trx
            .insertInto('metadef_tags')
            .values({ namespace: row.namespace, name: name(t.name, 'name', 255), created_at: ts, updated_at: ts })
            .execute();
        }
      });
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `A metadata definition namespace, object, property or tag named in the request already exists (namespace ` +
            `${row.namespace}).`,
        );
      throw e;
    }
    return toNs(row);
  }

  async updateNamespace(a: AuthContext, ns: string, body: Obj): Promise<Namespace> {
    this.canWrite(a);
    const r = await this.nsRow(a, ns);
    const f = this.nsFields(body, r);
    const ts = now();
    try {
      await inTransaction(this.d.db, async (trx) => {
        await trx
          .updateTable('metadef_namespaces')
          .set({ ...f, updated_at: ts })
          .where('namespace', '=', ns)
          .execute();
        if (f.namespace !== ns) {
          for (const t of [
            'metadef_ns_resource_types',
            'metadef_objects',
            'metadef_properties',
            'metadef_tags',
          ] as const) {
            await trx.updateTable(t).set({ namespace: f.namespace }).where('namespace', '=', ns).execute();
          }
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Metadata definition namespace=${f.namespace} already exists.`);
      throw e;
    }
    return toNs({ ...r, ...f, updated_at: ts });
  }

  async deleteNamespace(a: AuthContext, ns: string): Promise<void> {
    this.canWrite(a);
    const r = await this.nsRow(a, ns);
    if (r.protected) throw forbidden(`Namespace ${ns} is protected and cannot be deleted.`);
    await inTransaction(this.d.db, async (trx) => {
      for (const t of [
        'metadef_ns_resource_types',
        'metadef_objects',
        'metadef_properties',
        'metadef_tags',
        'metadef_namespaces',
      ] as const) {
        await trx.deleteFrom(t).where('namespace', '=', ns).execute();
      }
    });
  }

  // --- resource types and associations

  async listResourceTypes(): Promise<{ name: string; created_at: string; updated_at: string }[]> {
    return this.d.db
      .selectFrom('metadef_resource_types')
      .select(['name', 'created_at', 'updated_at'])
      .orderBy('name')
      .execute();
  }

  /** Registers a resource type on first use (inside the caller's transaction when given one). */
  private async requireResourceType(n: string, db: Db = this.d.db): Promise<void> {
    const r = await db.selectFrom('metadef_resource_types').select('name').where('name', '=', n).executeTakeFirst();
    if (!r) {
      const ts = now();
      await db
        .insertInto('metadef_resource_types')
        .values({ name: n, protected: 0, created_at: ts, updated_at: ts })
        .execute()
        .catch((e) => {
          if (!isUniqueViolation(e)) throw e;
        });
    }
  }

  async listAssociations(a: AuthContext, ns: string): Promise<Association[]> {
    await this.nsRow(a, ns);
    const rows = await this.d.db
      .selectFrom('metadef_ns_resource_types')
      .selectAll()
      .where('namespace', '=', ns)
      .orderBy('resource_type')
      .execute();
    return rows.map((r) => ({
      name: r.resource_type,
      prefix: r.prefix,
      properties_target: r.properties_target,
      created_at: r.created_at,
      updated_at: r.updated_at,
    }));
  }

  async associate(a: AuthContext, ns: string, body: Obj): Promise<Association> {
    this.canWrite(a);
    await this.nsRow(a, ns);
    const rt = name(body.name, 'name');
    await this.requireResourceType(rt);
    const ts = now();
    const row = {
      namespace: ns,
      resource_type: rt,
      prefix: optText(body.prefix, 'prefix', 80),
      properties_target: optText(body.properties_target, 'properties_target', 80),
      created_at: ts,
      updated_at: ts,
    };
    try {
      await this.d.db.insertInto('metadef_ns_resource_types').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Resource type ${rt} is already associated with namespace ${ns}.`);
      throw e;
    }
    return { name: rt, prefix: row.prefix, properties_target: row.properties_target, created_at: ts, updated_at: ts };
  }

  async dissociate(a: AuthContext, ns: string, rt: string): Promise<void> {
    this.canWrite(a);
    await this.nsRow(a, ns);
    const res = await this.d.db
      .deleteFrom('metadef_ns_resource_types')
      .where('namespace', '=', ns)
      .where('resource_type', '=', rt)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound(`Resource type ${rt} is not associated with namespace ${ns}.`);
  }

  // --- objects and properties (same shape: a name and a JSON definition)

  async listDefs(a: AuthContext, ns: string, table: 'metadef_objects' | 'metadef_properties'): Promise<NamedDef[]> {
    await this.nsRow(a, ns);
    const rows = await this.d.db.selectFrom(table).selectAll().where('namespace', '=', ns).orderBy('name').execute();
    return rows.map((r) => ({
      name: r.name,
      body: fromJson<Obj>(r.body, {}),
      created_at: r.created_at,
      updated_at: r.updated_at,
    }));
  }

  async getDef(
    a: AuthContext,
    ns: string,
    table: 'metadef_objects' | 'metadef_properties',
    n: string,
  ): Promise<NamedDef> {
    await this.nsRow(a, ns);
    const r = await this.d.db
      .selectFrom(table)
      .selectAll()
      .where('namespace', '=', ns)
      .where('name', '=', n)
      .executeTakeFirst();
    if (!r)
      throw notFound(
        `Metadata definition ${table === 'metadef_objects' ? 'object' : 'property'} ${n} was not found in namespace ` +
          `${ns}.`,
      );
    return { name: r.name, body: fromJson<Obj>(r.body, {}), created_at: r.created_at, updated_at: r.updated_at };
  }

  async putDef(
    a: AuthContext,
    ns: string,
    table: 'metadef_objects' | 'metadef_properties',
    body: Obj,
    existing?: string,
  ): Promise<NamedDef> {
    this.canWrite(a);
    await this.nsRow(a, ns);
    const n = name(body.name, 'name', 255);
    if (table === 'metadef_properties') {
      if (typeof body.title !== 'string' || typeof body.type !== 'string')
        throw badRequest("A property definition needs 'title' and 'type'.");
      if (!['array', 'boolean', 'integer', 'number', 'object', 'string'].includes(body.type))
        throw badRequest(`Invalid property type '${String(body.type).slice(0, 32)}'.`);
    } else if (body.required !== undefined && !Array.isArray(body.required)) {
      throw badRequest("Invalid value for 'required': a list.");
    }
    const ts = now();
    const text = JSON.stringify(body);
    try {
      if (existing === undefined) {
        await this.d.db
          .insertInto(table)
          .values({ namespace: ns, name: n, body: text, created_at: ts, updated_at: ts })
          .execute();
        return { name: n, body, created_at: ts, updated_at: ts };
      }
      const before = await this.getDef(a, ns, table, existing);
      await this.d.db
        .updateTable(table)
        .set({ name: n, body: text, updated_at: ts })
        .where('namespace', '=', ns)
        .where('name', '=', existing)
        .execute();
      return { name: n, body, created_at: before.created_at, updated_at: ts };
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`A definition named ${n} already exists in namespace ${ns}.`);
      throw e;
    }
  }

  async deleteDef(
    a: AuthContext,
    ns: string,
    table: 'metadef_objects' | 'metadef_properties',
    n: string,
  ): Promise<void> {
    this.canWrite(a);
    await this.getDef(a, ns, table, n);
    await this.d.db.deleteFrom(table).where('namespace', '=', ns).where('name', '=', n).execute();
  }

  // --- tags

  async listTags(a: AuthContext, ns: string): Promise<MetadefTag[]> {
    await this.nsRow(a, ns);
    return this.d.db
      .selectFrom('metadef_tags')
      .select(['name', 'created_at', 'updated_at'])
      .where('namespace', '=', ns)
      .orderBy('name')
      .execute();
  }

  async getTag(a: AuthContext, ns: string, n: string): Promise<MetadefTag> {
    await this.nsRow(a, ns);
    const r = await this.d.db
      .selectFrom('metadef_tags')
      .select(['name', 'created_at', 'updated_at'])
      .where('namespace', '=', ns)
      .where('name', '=', n)
      .executeTakeFirst();
    if (!r) throw notFound(`Metadata tag ${n} was not found in namespace ${ns}.`);
    return r;
  }

  /** POST .../tags: replaces the tag set unless `append`. */
  async setTags(a: AuthContext, ns: string, tags: unknown, append: boolean): Promise<MetadefTag[]> {
    this.canWrite(a);
    await this.nsRow(a, ns);
    if (!Array.isArray(tags)) throw badRequest('Invalid value for \'tags\': a list of {"name": ...}.');
    const names = tags.map((t) => name(isObj(t) ? t.name : undefined, 'name', 255));
    if (new Set(names).size !== names.length) throw conflict('Duplicate tag names in the request.');
    const ts = now();
    try {
      await inTransaction(this.d.db, async (trx) => {
        if (!append) await trx.deleteFrom('metadef_tags').where('namespace', '=', ns).execute();
        if (names.length)
          await trx
            .insertInto('metadef_tags')
            .values(names.map((n) => ({ namespace: ns, name: n, created_at: ts, updated_at: ts })))
            .execute();
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('A tag in the request already exists in this namespace.');
      throw e;
    }
    return names.map((n) => ({ name: n, created_at: ts, updated_at: ts }));
  }

  async addTag(a: AuthContext, ns: string, n: string): Promise<MetadefTag> {
    return (await this.setTags(a, ns, [{ name: n }], true))[0]!;
  }

  async renameTag(a: AuthContext, ns: string, n: string, body: Obj): Promise<MetadefTag> {
    this.canWrite(a);
    const before = await this.getTag(a, ns, n);
    const to = name(body.name, 'name', 255);
    const ts = now();
    try {
      await this.d.db
        .updateTable('metadef_tags')
        .set({ name: to, updated_at: ts })
        .where('namespace', '=', ns)
        .where('name', '=', n)
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Tag ${to} already exists in namespace ${ns}.`);
      throw e;
    }
    return { name: to, created_at: before.created_at, updated_at: ts };
  }

  async deleteTag(a: AuthContext, ns: string, n: string): Promise<void> {
    this.canWrite(a);
    await this.getTag(a, ns, n);
    await this.d.db.deleteFrom('metadef_tags').where('namespace', '=', ns).where('name', '=', n).execute();
  }

  async deleteTags(a: AuthContext, ns: string): Promise<void> {
    this.canWrite(a);
    await this.nsRow(a, ns);
    await this.d.db.deleteFrom('metadef_tags').where('namespace', '=', ns).execute();
  }
}
