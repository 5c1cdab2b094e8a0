// Image records: create, read with visibility, JSON-patch updates, tags, delete.
import type { Transaction } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { ImageRow } from '../../store/image-tables.js';
import type { AuthContext } from '../auth-context.js';
import { bool, inTransaction, isUniqueViolation } from '../../store/database.js';
import { badRequest, conflict, forbidden, notFound, CloudError } from '../../errors.js';
import { uuid } from '../../util/ids.js';
import { allowed } from '../policy.js';
import { admin, isUuid, now, type Image, type ImageDeps } from './common.js';
import { CORE, checkProperty, checkTag, checkWritableName, coreValue } from './validate.js';

/** One JSON-patch operation, path already split ("/name" -> ["name"], "/tags/-" -> ["tags", "-"]). */
export interface PatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string[];
  value?: unknown;
}

type Columns = Partial<Omit<ImageRow, 'id' | 'created_at'>>;

export class Images {
  constructor(private readonly d: ImageDeps) {}

  async find(id: string): Promise<ImageRow | undefined> {
    if (!isUuid(id)) return undefined;
    return this.d.db.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Rows to images, with their tags and properties in two queries. */
  async hydrate(rows: ImageRow[]): Promise<Image[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [tags, props] = await Promise.all([
      this.d.db.selectFrom('image_tags').select(['image_id', 'tag']).where('image_id', 'in', ids).execute(),
      this.d.db
        .selectFrom('image_properties')
        .select(['image_id', 'name', 'value'])
        .where('image_id', 'in', ids)
        .execute(),
    ]);
    const tagsOf = new Map<string, string[]>();
    for (const t of tags) (tagsOf.get(t.image_id) ?? tagsOf.set(t.image_id, []).get(t.image_id)!).push(t.tag);
    const propsOf = new Map<string, Record<string, string>>();
    for (const p of props) (propsOf.get(p.image_id) ?? propsOf.set(p.image_id, {}).get(p.image_id)!)[p.name] = p.value;
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      status: r.status,
      visibility: r.visibility,
      protected: !!r.protected,
      os_hidden: !!r.os_hidden,
      owner: r.owner,
      disk_format: r.disk_format,
      container_format: r.container_format,
      size: r.size,
      virtual_size: r.virtual_size,
      checksum: r.checksum,
      os_hash_algo: r.os_hash_algo,
      os_hash_value: r.os_hash_value,
      min_disk: r.min_disk,
      min_ram: r.min_ram,
      created_at: r.created_at,
      updated_at: r.updated_at,
      tags: (tagsOf.get(r.id) ?? []).sort(),
      stores: r.stores ? r.stores.split(',') : [],
      properties: propsOf.get(r.id) ?? {},
    }));
  }

  /** True when the caller may see the image (Glance's visibility rules). */
  async canSee(a: AuthContext, r: ImageRow): Promise<boolean> {
    if (admin(a)) return true;
    if (r.visibility === 'public' || r.visibility === 'community') return true;
    if (a.projectId && r.owner === a.projectId) return true;
    if (r.visibility === 'shared' && a.projectId) {
      const m = await this.d.db
        .selectFrom('image_members')
        .select('status')
        .where('image_id', '=', r.id)
        .where('member_id', '=', a.projectId)
        .executeTakeFirst();
      return !!m;
    }
    return false;
  }

  /** True when the caller owns the image (or is admin) and holds a writing role. */
  canModify(a: AuthContext, r: ImageRow): boolean {
    if (admin(a)) return true;
    return !!a.projectId && r.owner === a.projectId && allowed(a, 'image:write', { project_id: r.owner });
  }

  /** The row if the caller may see it, else 404. */
  async visibleRow(a: AuthContext, id: string): Promise<ImageRow> {
    const r = await this.find(id);
    if (!r || !(await this.canSee(a, r))) throw notFound(`No image found with ID ${id}`);
    return r;
  }

  /** The row if the caller may change it: 404 when invisible, 403 when visible but not theirs. */
  async writableRow(a: AuthContext, id: string, what = 'modify'): Promise<ImageRow> {
    const r = await this.visibleRow(a, id);
    if (!this.canModify(a, r)) throw forbidden(`You are not permitted to ${what} this image.`);
    return r;
  }

  async get(a: AuthContext, id: string): Promise<Image> {
    return (await this.hydrate([await this.visibleRow(a, id)]))[0]!;
  }

  /** Loads an image without a caller (internal use: tasks, recovery). */
  async load(id: string): Promise<Image | undefined> {
    const r = await this.find(id);
    return r ? (await this.hydrate([r]))[0] : undefined;
  }

  /** POST /v2/images: validates the whole body before anything is written. */
  async create(a: AuthContext, body: Record<string, unknown>): Promise<Image> {
    const cols: Columns = {};
    const props: Record<string, string> = {};
    let tags: string[] = [];
    let id: string = uuid();
    for (const [k, v] of Object.entries(body)) {
      checkWritableName(k, true);
      if (k === 'id') {
        if (typeof v !== 'string' || !isUuid(v)) throw badRequest("Invalid value for 'id': must be a UUID.");
        id = v.toLowerCase();
      } else if (k === 'tags') {
        tags = coreValue(k, v) as string[];
      } else if (CORE.has(k)) {
        const val = coreValue(k, v);
        (cols as Record<string, unknown>)[k] = typeof val === 'boolean' ? bool(val) : val;
      } else {
        props[k] = checkProperty(k, v);
      }
    }
    if (tags.length > this.d.options.maxTags)
      throw new CloudError('PayloadTooLarge', `Maximum number of tags (${this.d.options.maxTags}) exceeded.`);
    if (Object.keys(props).length > this.d.options.maxProperties) {
      throw new CloudError(
        'PayloadTooLarge',
        `Maximum number of image properties (${this.d.options.maxProperties}) exceeded.`,
      );
    }
    // Glance's add_image: admin, or a member of the project (a reader only reads).
    if (!allowed(a, 'image:write', { project_id: a.projectId ?? null }))
      throw forbidden('You are not authorized to create images.');
    const visibility = (cols.visibility as string | undefined) ?? 'shared';
    if (visibility === 'public' && !allowed(a, 'image:publicize'))
      throw forbidden('You are not authorized to create public images.');
    if (cols.owner !== undefined && cols.owner !== a.projectId && !admin(a)) {
      throw forbidden('You are not permitted to create images owned by another project.');
    }
    const ts = now();
    const row: ImageRow = {
      id,
      name: null,
      status: 'queued',
      visibility,
      protected: 0,
      os_hidden: 0,
      owner: a.projectId ?? null,
      disk_format: null,
      container_format: null,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      min_disk: 0,
      min_ram: 0,
      stores: '',
      staged_size: 0,
      created_at: ts,
      updated_at: ts,
      ...cols,
    };
    try {
      await inTransaction(this.d.db, async (trx) => {
        await trx.insertInto('images').values(row).execute();
        if (tags.length)
          await trx
            .insertInto('image_tags')
            .values(tags.map((tag) => ({ image_id: id, tag })))
            .execute();
        const entries = Object.entries(props);
        if (entries.length)
          await trx
            .insertInto('image_properties')
            .values(entries.map(([name, value]) => ({ image_id: id, name, value })))
            .execute();
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`An image with identifier ${id} already exists`);
      throw e;
    }
    return (await this.hydrate([row]))[0]!;
  }

  /** PATCH /v2/images/{id}: applies every operation to a copy, checks the result, then writes it at once. */
  async update(a: AuthContext, id: string, ops: PatchOp[]): Promise<Image> {
    const row = await this.writableRow(a, id);
    const img = (await this.hydrate([row]))[0]!;
    const cols: Columns = {};
    const props = { ...img.properties };
    let tags = [...img.tags];
    for (const op of ops) {
      const [name, sub, ...rest] = op.path;
      if (!name || rest.length) throw badRequest(`Invalid JSON pointer for this resource: '/${op.path.join('/')}'`);
      checkWritableName(name);
      if (name === 'tags') {
        if (sub === undefined) {
          if (op.op === 'remove') throw forbidden("Attribute 'tags' cannot be removed.");
          tags = coreValue('tags', op.value) as string[];
        } else if (op.op === 'add' && (sub === '-' || /^\d+$/.test(sub))) {
          const t = checkTag(op.value);
          if (!tags.includes(t)) tags.push(t);
        } else if (op.op === 'remove' && /^\d+$/.test(sub) && Number(sub) < tags.length) {
          tags.splice(Number(sub), 1);
        } else {
          throw badRequest(`Invalid JSON pointer for this resource: '/${op.path.join('/')}'`);
        }
        continue;
      }
      if (sub !== undefined) throw badRequest(`Invalid JSON pointer for this resource: '/${op.path.join('/')}'`);
      if (CORE.has(name)) {
        if (op.op === 'remove') throw forbidden(`Attribute '${name}' is a core attribute and cannot be removed.`);
        const val = coreValue(name, op.value);
        if ((name === 'disk_format' || name === 'container_format') && row.status !== 'queued' && val !== row[name]) {
          throw forbidden(`Attribute '${name}' can be only replaced for a queued image.`);
        }
        if (
          name === 'visibility' &&
          val === 'public' &&
          row.visibility !== 'public' &&
          !allowed(a, 'image:publicize')
        ) {
          throw forbidden('You are not authorized to publicize images.');
        }
        if (name === 'owner' && val !== row.owner && !admin(a))
          throw forbidden("You are not permitted to change the image's owner.");
        (cols as Record<string, unknown>)[name] = typeof val === 'boolean' ? bool(val) : val;
        continue;
      }
      if (op.op === 'remove') {
        if (!(name in props)) throw conflict(`Property ${name} does not exist.`);
        delete props[name];
      } else {
        if (op.op === 'replace' && !(name in props)) throw conflict(`Property ${name} does not exist.`);
        props[name] = checkProperty(name, op.value);
      }
    }
    const userProps = Object.keys(props).filter((k) => !k.startsWith('os_glance'));
    if (userProps.length > this.d.options.maxProperties) {
      throw new CloudError(
        'PayloadTooLarge',
        `Maximum number of image properties (${this.d.options.maxProperties}) exceeded.`,
      );
    }
    if (tags.length > this.d.options.maxTags)
      throw new CloudError('PayloadTooLarge', `Maximum number of tags (${this.d.options.maxTags}) exceeded.`);
    await inTransaction(this.d.db, async (trx) => {
      await trx
        .updateTable('images')
        .set({ ...cols, updated_at: now() })
        .where('id', '=', id)
        .execute();
      await this.replaceSets(trx, id, img, props, tags);
    });
    return (await this.load(id))!;
  }

  private async replaceSets(
    trx: Transaction<Database>,
    id: string,
    before: Image,
    props: Record<string, string>,
    tags: string[],
  ): Promise<void> {
    const gone = Object.keys(before.properties).filter((k) => !(k in props));
    if (gone.length)
      await trx.deleteFrom('image_properties').where('image_id', '=', id).where('name', 'in', gone).execute();
    for (const [name, value] of Object.entries(props)) {
      if (before.properties[name] === value) continue;
      if (name in before.properties) {
        await trx
          .updateTable('image_properties')
          .set({ value })
          .where('image_id', '=', id)
          .where('name', '=', name)
          .execute();
      } else {
        await trx.insertInto('image_properties').values({ image_id: id, name, value }).execute();
      }
    }
    const oldTags = new Set(before.tags);
    const removed = before.tags.filter((t) => !tags.includes(t));
    if (removed.length)
      await trx.deleteFrom('image_tags').where('image_id', '=', id).where('tag', 'in', removed).execute();
    const added = tags.filter((t) => !oldTags.has(t));
    if (added.length)
      await trx
        .insertInto('image_tags')
        .values(added.map((tag) => ({ image_id: id, tag })))
        .execute();
  }

  /** Sets internal properties (os_glance_*) without the user-facing checks. */
  async setInternalProps(id: string, props: Record<string, string>): Promise<void> {
    await inTransaction(this.d.db, async (trx) => {
      for (const [name, value] of Object.entries(props)) {
        await trx.deleteFrom('image_properties').where('image_id', '=', id).where('name', '=', name).execute();
        await trx.insertInto('image_properties').values({ image_id: id, name, value }).execute();
      }
    });
  }

  async addTag(a: AuthContext, id: string, tag: string): Promise<void> {
    const row = await this.writableRow(a, id);
    checkTag(tag);
    const have = await this.d.db.selectFrom('image_tags').select('tag').where('image_id', '=', row.id).execute();
    if (have.some((t) => t.tag === tag)) return;
    if (have.length >= this.d.options.maxTags)
      throw new CloudError('PayloadTooLarge', `Maximum number of tags (${this.d.options.maxTags}) exceeded.`);
    await this.d.db
      .insertInto('image_tags')
      .values({ image_id: row.id, tag })
      .execute()
      .catch((e) => {
        if (!isUniqueViolation(e)) throw e;
      });
    await this.touch(row.id);
  }

  async removeTag(a: AuthContext, id: string, tag: string): Promise<void> {
    const row = await this.writableRow(a, id);
    const res = await this.d.db
      .deleteFrom('image_tags')
      .where('image_id', '=', row.id)
      .where('tag', '=', tag)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound(`Tag ${tag} not found.`);
    await this.touch(row.id);
  }

  async touch(id: string): Promise<void> {
    await this.d.db.updateTable('images').set({ updated_at: now() }).where('id', '=', id).execute();
  }

  /** Moves an image from one status to another only if it is still in `from`; false when it was not. */
  async transition(id: string, from: string[], set: Columns): Promise<boolean> {
    const res = await this.d.db
      .updateTable('images')
      .set({ ...set, updated_at: now() })
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Removes the record and everything hanging off it (the data files are the caller's). */
  async purge(id: string): Promise<void> {
    await inTransaction(this.d.db, async (trx) => {
      await trx.deleteFrom('image_tags').where('image_id', '=', id).execute();
      await trx.deleteFrom('image_properties').where('image_id', '=', id).execute();
      await trx.deleteFrom('image_members').where('image_id', '=', id).execute();
      await trx.deleteFrom('image_tasks').where('image_id', '=', id).execute();
      await trx.deleteFrom('images').where('id', '=', id).execute();
    });
  }
}
