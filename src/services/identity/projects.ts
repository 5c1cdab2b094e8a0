import type { IdentityDeps } from './common.js';
import { checkName, splitExtra, nowIso, PROJECT_NAME_MAX } from './common.js';
import type { ProjectRow } from '../../store/identity-tables.js';
import { bool, fromJson, isUniqueViolation, inTransaction } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, conflict, forbidden, notFound } from '../../errors.js';

export interface Project {
  id: string;
  name: string;
  domain_id: string;
  parent_id: string | null;
  description: string;
  enabled: boolean;
  tags: string[];
  extra: Record<string, unknown>;
}

const KNOWN = [
  'id',
  'name',
  'domain_id',
  'parent_id',
  'description',
  'enabled',
  'is_domain',
  'tags',
  'options',
] as const;
const MAX_TAGS = 80;

/** Keystone's tag rules: 1..255 characters, no "/" or ",", at most 80 per project. */
export function checkTags(tags: unknown): string[] {
  if (!Array.isArray(tags)) throw badRequest("Invalid input for field 'tags': must be a list.");
  if (tags.length > MAX_TAGS) throw badRequest(`Invalid input for field 'tags': at most ${MAX_TAGS} tags.`);
  for (const t of tags) checkTag(t);
  return [...new Set(tags as string[])];
}

export function checkTag(t: unknown): string {
  if (typeof t !== 'string' || t.length === 0 || t.length > 255 || /[/,]/.test(t)) {
    throw badRequest(
      `Invalid input for field 'tags': '${String(t).slice(0, 40)}' must be 1-255 characters without '/' or ','.`,
    );
  }
  return t;
}

export interface ProjectFilter {
  name?: string;
  domain_id?: string;
  enabled?: boolean;
  parent_id?: string;
  ids?: string[];
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
}

/** Projects, their hierarchy (parent_id) and tags. */
export class Projects {
  constructor(
    private readonly d: IdentityDeps,
    private readonly onDisable: (projectId: string) => Promise<void>,
  ) {}

  private async rowToProject(r: ProjectRow): Promise<Project> {
    const tags = await this.d.db
      .selectFrom('project_tags')
      .select('tag')
      .where('project_id', '=', r.id)
      .orderBy('tag')
      .execute();
    return {
      id: r.id,
      name: r.name,
      domain_id: r.domain_id,
      parent_id: r.parent_id,
      description: r.description,
      enabled: !!r.enabled,
      tags: tags.map((t) => t.tag),
      extra: fromJson(r.extra, {}),
    };
  }

  async create(body: Record<string, unknown>, defaultDomainId: string): Promise<Project> {
    const name = checkName(body.name, 'name', PROJECT_NAME_MAX);
    let domainId = (body.domain_id as string | undefined) ?? undefined;
    const parentId = (body.parent_id as string | null | undefined) ?? null;
    if (parentId) {
      const parent = await this.d.db
        .selectFrom('projects')
        .select(['id', 'domain_id'])
        .where('id', '=', parentId)
        .executeTakeFirst();
      if (!parent) {
        // The parent may be the domain itself (Keystone: parent_id of a top-level project is its domain).
        const dom = await this.d.db.selectFrom('domains').select('id').where('id', '=', parentId).executeTakeFirst();
        if (!dom) throw notFound(`Could not find project: ${parentId}.`);
        domainId ??= dom.id;
        if (domainId !== dom.id) throw badRequest('Cannot create project: the parent is a different domain.');
      } else {
        domainId ??= parent.domain_id;
        if (domainId !== parent.domain_id)
          throw badRequest("Cannot create project: domain_id differs from the parent's domain.");
      }
    }
    domainId ??= defaultDomainId;
    const dom = await this.d.db
      .selectFrom('domains')
      .select(['id', 'enabled'])
      .where('id', '=', domainId)
      .executeTakeFirst();
    if (!dom) throw notFound(`Could not find domain: ${domainId}.`);
    if (body.enabled !== undefined && typeof body.enabled !== 'boolean')
      throw badRequest("Invalid input for field 'enabled': must be a boolean.");
    const tags = body.tags === undefined ? [] : checkTags(body.tags);
    const row: ProjectRow = {
      id: hexId(),
      name,
      domain_id: domainId,
      parent_id: parentId && parentId !== domainId ? parentId : null,
      description: typeof body.description === 'string' ? body.description : '',
      enabled: bool(body.enabled ?? true),
      extra: JSON.stringify(splitExtra(body, KNOWN)),
      created_at: nowIso(),
    };
    try {
      await inTransaction(this.d.db, async (trx) => {
        await trx.insertInto('projects').values(row).execute();
        if (tags.length)
          await trx
            .insertInto('project_tags')
            .values(tags.map((tag) => ({ project_id: row.id, tag })))
            .execute();
      });
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to store project - it is not permitted to have two projects with the same ` +
            `name in the same domain : ${name}.`,
        );
      throw e;
    }
    return this.rowToProject(row);
  }

  async find(id: string): Promise<ProjectRow | undefined> {
    return this.d.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(id: string): Promise<Project> {
    const r = await this.find(id);
    if (!r) throw notFound(`Could not find project: ${id}.`);
    return this.rowToProject(r);
  }

  async findByName(name: string, domainId: string): Promise<ProjectRow | undefined> {
    return this.d.db
      .selectFrom('projects')
      .selectAll()
      .where('name', '=', name)
      .where('domain_id', '=', domainId)
      .executeTakeFirst();
  }

  async list(f: ProjectFilter): Promise<Project[]> {
    let q = this.d.db.selectFrom('projects').selectAll().orderBy('name');
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.domain_id !== undefined) q = q.where('domain_id', '=', f.domain_id);
    if (f.enabled !== undefined) q = q.where('enabled', '=', bool(f.enabled));
    if (f.parent_id !== undefined) {
      const isDomain = await this.d.db
        .selectFrom('domains')
        .select('id')
        .where('id', '=', f.parent_id)
        .executeTakeFirst();
      q = isDomain
        ? q.where('parent_id', 'is', null).where('domain_id', '=', f.parent_id)
        : q.where('parent_id', '=', f.parent_id);
    }
    if (f.ids) q = f.ids.length ? q.where('id', 'in', f.ids) : q.where('id', '=', '\u0000');
    const rows = await q.execute();
    const all = await Promise.all(rows.map((r) => this.rowToProject(r)));
    return all.filter((p) => {
      const has = (t: string) => p.tags.includes(t);
      if (f.tags && !f.tags.every(has)) return false;
      if (f.tagsAny && !f.tagsAny.some(has)) return false;
      if (f.notTags?.every(has)) return false;
      if (f.notTagsAny?.some(has)) return false;
      return true;
    });
  }

  /** Ancestors, nearest first. */
  async ancestors(id: string): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    let cur = await this.find(id);
    const seen = new Set<string>();
    while (cur?.parent_id && !seen.has(cur.parent_id)) {
      seen.add(cur.parent_id);
      cur = await this.find(cur.parent_id);
      if (cur) out.push(cur);
    }
    return out;
  }

  /** All descendants, breadth first. */
  async descendants(id: string): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    let frontier = [id];
    while (frontier.length) {
      const kids = await this.d.db.selectFrom('projects').selectAll().where('parent_id', 'in', frontier).execute();
      out.push(...kids);
      frontier = kids.map((k) => k.id);
    }
    return out;
  }

  async update(id: string, body: Record<string, unknown>): Promise<Project> {
    const cur = await this.get(id);
    if (body.domain_id !== undefined && body.domain_id !== cur.domain_id)
      throw badRequest('Cannot change the domain_id of a project.');
    if (body.parent_id !== undefined && body.parent_id !== cur.parent_id)
      throw forbidden('Cannot change the parent_id of a project.');
    if (body.is_domain !== undefined && body.is_domain !== false)
      throw badRequest('Cannot change is_domain of a project.');
    const patch: Partial<ProjectRow> = {};
    if (body.name !== undefined) patch.name = checkName(body.name, 'name', PROJECT_NAME_MAX);
    if (body.description !== undefined) patch.description = String(body.description ?? '');
    if (body.enabled !== undefined) {
      if (typeof body.enabled !== 'boolean') throw badRequest("Invalid input for field 'enabled': must be a boolean.");
      patch.enabled = bool(body.enabled);
      if (!body.enabled && cur.enabled) {
        const kids = await this.d.db
          .selectFrom('projects')
          .select('id')
          .where('parent_id', '=', id)
          .where('enabled', '=', 1)
          .execute();
        if (kids.length) throw forbidden(`Cannot disable project ${id} since its subtree contains enabled projects.`);
      }
      if (body.enabled && !cur.enabled && cur.parent_id) {
        const parent = await this.find(cur.parent_id);
        if (parent && !parent.enabled) throw forbidden(`Cannot enable project ${id} since it has disabled parents.`);
      }
    }
    const tags = body.tags === undefined ? undefined : checkTags(body.tags);
    patch.extra = JSON.stringify({ ...cur.extra, ...splitExtra(body, KNOWN) });
    try {
      await inTransaction(this.d.db, async (trx) => {
        await trx.updateTable('projects').set(patch).where('id', '=', id).execute();
        if (tags) {
          await trx.deleteFrom('project_tags').where('project_id', '=', id).execute();
          if (tags.length)
            await trx
              .insertInto('project_tags')
              .values(tags.map((tag) => ({ project_id: id, tag })))
              .execute();
        }
      });
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to update project - it is not permitted to have two projects with the same ` +
            `name in the same domain : ${String(body.name)}.`,
        );
      throw e;
    }
    if (cur.enabled && patch.enabled === 0) await this.onDisable(id);
    return this.get(id);
  }

  async delete(id: string, cascade: (trx: IdentityDeps['db'], projectIds: string[]) => Promise<void>): Promise<void> {
    await this.get(id);
    const kids = await this.d.db.selectFrom('projects').select('id').where('parent_id', '=', id).execute();
    if (kids.length)
      throw forbidden(
        `Cannot delete the project ${id} since it is not a leaf in the hierarchy. Use the cascade option if you ` +
          `want to delete a whole subtree.`,
      );
    await inTransaction(this.d.db, async (trx) => {
      await cascade(trx as unknown as IdentityDeps['db'], [id]);
      await trx.deleteFrom('project_tags').where('project_id', '=', id).execute();
      await trx.deleteFrom('projects').where('id', '=', id).execute();
    });
  }

  // Tags, one at a time.
  async addTag(id: string, tag: string): Promise<void> {
    checkTag(tag);
    await this.get(id);
    const n = await this.d.db
      .selectFrom('project_tags')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', id)
      .executeTakeFirstOrThrow();
    const exists = await this.d.db
      .selectFrom('project_tags')
      .select('tag')
      .where('project_id', '=', id)
      .where('tag', '=', tag)
      .executeTakeFirst();
    if (exists) return;
    if (Number(n.n) >= MAX_TAGS) throw badRequest(`A project can have at most ${MAX_TAGS} tags.`);
    await this.d.db.insertInto('project_tags').values({ project_id: id, tag }).execute();
  }

  async hasTag(id: string, tag: string): Promise<boolean> {
    await this.get(id);
    return !!(await this.d.db
      .selectFrom('project_tags')
      .select('tag')
      .where('project_id', '=', id)
      .where('tag', '=', tag)
      .executeTakeFirst());
  }

  async removeTag(id: string, tag: string): Promise<void> {
    if (!(await this.hasTag(id, tag))) throw notFound(`Tag ${tag} not found for project ${id}.`);
    await this.d.db.deleteFrom('project_tags').where('project_id', '=', id).where('tag', '=', tag).execute();
  }

  async setTags(id: string, tags: unknown): Promise<string[]> {
    await this.update(id, { tags });
    return (await this.get(id)).tags;
  }
}
