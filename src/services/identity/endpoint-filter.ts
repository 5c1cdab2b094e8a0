import type { IdentityDeps } from './common.js';
import { checkName } from './common.js';
import type { EndpointGroupRow } from '../../store/identity-extra-tables.js';
import type { EndpointRow } from '../../store/identity-tables.js';
import type { Kysely } from 'kysely';
import { fromJson } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, notFound } from '../../errors.js';

export interface EndpointGroup {
  id: string;
  name: string;
  description: string;
  filters: Record<string, string>;
}

const FILTER_KEYS = new Set(['service_id', 'interface', 'region_id']);
const toGroup = (r: EndpointGroupRow): EndpointGroup => ({
  id: r.id,
  name: r.name,
  description: r.description,
  filters: fromJson(r.filters, {}),
});

function checkFilters(f: unknown): Record<string, string> {
  if (typeof f !== 'object' || f === null || Array.isArray(f) || Object.keys(f).length === 0) {
    throw badRequest("Invalid input for field 'filters': must be a non-empty object.");
  }
  for (const [k, v] of Object.entries(f)) {
    if (!FILTER_KEYS.has(k))
      throw badRequest(`Invalid input for field 'filters': unknown key '${k}' (service_id, interface, region_id).`);
    if (typeof v !== 'string') throw badRequest(`Invalid input for field 'filters.${k}': must be a string.`);
  }
  return f as Record<string, string>;
}

/**
 * OS-EP-FILTER: endpoint groups and project associations. When a project has any association,
 * its catalog shows only the associated endpoints (as Keystone's SQL catalog does); otherwise all.
 */
export class EndpointFilter {
  constructor(private readonly d: IdentityDeps) {
    this.groupProjects = new Association(
      d,
      'project_endpoint_groups',
      'endpoint_group_id',
      (id) => this.get(id).then(() => undefined),
      'endpoint group',
    );
    this.endpointProjects = new Association(
      d,
      'project_endpoints',
      'endpoint_id',
      async (id) => {
        if (!(await d.db.selectFrom('endpoints').select('id').where('id', '=', id).executeTakeFirst()))
          throw notFound(`Could not find endpoint: ${id}.`);
      },
      'endpoint',
    );
  }

  async create(body: Record<string, unknown>): Promise<EndpointGroup> {
    const row: EndpointGroupRow = {
      id: hexId(),
      name: checkName(body.name),
      description: typeof body.description === 'string' ? body.description : '',
      filters: JSON.stringify(checkFilters(body.filters)),
    };
    await this.d.db.insertInto('endpoint_groups').values(row).execute();
    return toGroup(row);
  }
  async get(id: string): Promise<EndpointGroup> {
    const r = await this.d.db.selectFrom('endpoint_groups').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find endpoint group: ${id}.`);
    return toGroup(r);
  }
  async list(f: { name?: string }): Promise<EndpointGroup[]> {
    let q = this.d.db.selectFrom('endpoint_groups').selectAll().orderBy('name');
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    return (await q.execute()).map(toGroup);
  }
  async update(id: string, body: Record<string, unknown>): Promise<EndpointGroup> {
    await this.get(id);
    const patch: Partial<EndpointGroupRow> = {};
    if (body.name !== undefined) patch.name = checkName(body.name);
    if (body.description !== undefined) patch.description = String(body.description ?? '');
    if (body.filters !== undefined) patch.filters = JSON.stringify(checkFilters(body.filters));
    if (Object.keys(patch).length)
      await this.d.db.updateTable('endpoint_groups').set(patch).where('id', '=', id).execute();
    return this.get(id);
  }
  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.d.db.deleteFrom('project_endpoint_groups').where('endpoint_group_id', '=', id).execute();
    await this.d.db.deleteFrom('endpoint_groups').where('id', '=', id).execute();
  }

  /** The endpoints a group's filters select. */
  async endpointsOf(groupId: string): Promise<EndpointRow[]> {
    const g = await this.get(groupId);
    let q = this.d.db.selectFrom('endpoints').selectAll();
    if (g.filters.service_id) q = q.where('service_id', '=', g.filters.service_id);
    if (g.filters.interface) q = q.where('interface', '=', g.filters.interface);
    if (g.filters.region_id) q = q.where('region_id', '=', g.filters.region_id);
    return q.execute();
  }

  /** Group <-> project associations. */
  readonly groupProjects: Association;
  /** Endpoint <-> project associations. */
  readonly endpointProjects: Association;

  async groupsOfProject(projectId: string): Promise<EndpointGroup[]> {
    const ids = await this.groupProjects.leftIdsOf(projectId);
    return ids.length
      ? (await this.d.db.selectFrom('endpoint_groups').selectAll().where('id', 'in', ids).execute()).map(toGroup)
      : [];
  }

  /** The endpoint ids a project's catalog may show, or undefined when the project has no associations (show all). */
  async allowedEndpointIds(projectId: string): Promise<Set<string> | undefined> {
    const direct = await this.endpointProjects.leftIdsOf(projectId, false);
    const groups = await this.groupProjects.leftIdsOf(projectId, false);
    if (!direct.length && !groups.length) return undefined;
    const ids = new Set(direct);
    for (const g of groups) for (const e of await this.endpointsOf(g)) ids.add(e.id);
    return ids;
  }
}

/**
 * A many-to-many link between something (an endpoint group or an endpoint: the "left" side) and projects.
 * Both OS-EP-FILTER association kinds share these rules: both sides must exist, adding twice is fine,
 * checking or removing a missing link is 404.
 */
class Association {
  // The two tables differ only in the left column's name; a loosely typed handle keeps one implementation.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  private readonly db: Kysely<any>;

  constructor(
    d: IdentityDeps,
    private readonly table: 'project_endpoint_groups' | 'project_endpoints',
    private readonly leftColumn: 'endpoint_group_id' | 'endpoint_id',
    private readonly checkLeft: (id: string) => Promise<void>,
    private readonly leftName: string,
  ) {
    // biome-ignore lint/suspicious/noExplicitAny: see the field
    this.db = d.db as unknown as Kysely<any>;
  }

  private async checkBoth(leftId: string, projectId: string): Promise<void> {
    await this.checkLeft(leftId);
    if (!(await this.db.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst()))
      throw notFound(`Could not find project: ${projectId}.`);
  }

  private async has(leftId: string, projectId: string): Promise<boolean> {
    return !!(await this.db
      .selectFrom(this.table)
      .select('project_id')
      .where(this.leftColumn, '=', leftId)
      .where('project_id', '=', projectId)
      .executeTakeFirst());
  }

  async add(leftId: string, projectId: string): Promise<void> {
    await this.checkBoth(leftId, projectId);
    if (!(await this.has(leftId, projectId)))
      await this.db
        .insertInto(this.table)
        .values({ [this.leftColumn]: leftId, project_id: projectId })
        .execute();
  }

  async check(leftId: string, projectId: string): Promise<void> {
    await this.checkBoth(leftId, projectId);
    if (!(await this.has(leftId, projectId)))
      throw notFound(`Project ${projectId} is not associated with ${this.leftName} ${leftId}.`);
  }

  async remove(leftId: string, projectId: string): Promise<void> {
    await this.check(leftId, projectId);
    await this.db
      .deleteFrom(this.table)
      .where(this.leftColumn, '=', leftId)
      .where('project_id', '=', projectId)
      .execute();
  }

  async projectIdsOf(leftId: string): Promise<string[]> {
    await this.checkLeft(leftId);
    return (
      await this.db.selectFrom(this.table).select('project_id').where(this.leftColumn, '=', leftId).execute()
    ).map((r) => r.project_id as string);
  }

  /** The left-side ids linked to a project; `strict` first checks that the project exists. */
  async leftIdsOf(projectId: string, strict = true): Promise<string[]> {
    if (strict && !(await this.db.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst()))
      throw notFound(`Could not find project: ${projectId}.`);
    return (
      await this.db.selectFrom(this.table).select(this.leftColumn).where('project_id', '=', projectId).execute()
    ).map((r) => r[this.leftColumn] as string);
  }
}
