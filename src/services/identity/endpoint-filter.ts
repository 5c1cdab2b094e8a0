import type { IdentityDeps } from './common.js';
import { checkName } from './common.js';
import type { EndpointGroupRow } from '../../store/identity-extra-tables.js';
import type { EndpointRow } from '../../store/identity-tables.js';
import { fromJson } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, notFound } from '../../errors.js';

export interface EndpointGroup { id: string; name: string; description: string; filters: Record<string, string> }

const FILTER_KEYS = new Set(['service_id', 'interface', 'region_id']);
const toGroup = (r: EndpointGroupRow): EndpointGroup => ({ id: r.id, name: r.name, description: r.description, filters: fromJson(r.filters, {}) });

function checkFilters(f: unknown): Record<string, string> {
  if (typeof f !== 'object' || f === null || Array.isArray(f) || Object.keys(f).length === 0) {
    throw badRequest("Invalid input for field 'filters': must be a non-empty object.");
  }
  for (const [k, v] of Object.entries(f)) {
    if (!FILTER_KEYS.has(k)) throw badRequest(`Invalid input for field 'filters': unknown key '${k}' (service_id, interface, region_id).`);
    if (typeof v !== 'string') throw badRequest(`Invalid input for field 'filters.${k}': must be a string.`);
  }
  return f as Record<string, string>;
}

/**
 * OS-EP-FILTER: endpoint groups and project associations. When a project has any association,
 * its catalog shows only the associated endpoints (as Keystone's SQL catalog does); otherwise all.
 */
export class EndpointFilter {
  constructor(private readonly d: IdentityDeps) {}

  async create(body: Record<string, unknown>): Promise<EndpointGroup> {
    const row: EndpointGroupRow = {
      id: hexId(), name: checkName(body.name), description: typeof body.description === 'string' ? body.description : '',
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
    if (Object.keys(patch).length) await this.d.db.updateTable('endpoint_groups').set(patch).where('id', '=', id).execute();
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

  private async checkProject(projectId: string): Promise<void> {
    if (!(await this.d.db.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst())) throw notFound(`Could not find project: ${projectId}.`);
  }
  private async checkEndpoint(endpointId: string): Promise<void> {
    if (!(await this.d.db.selectFrom('endpoints').select('id').where('id', '=', endpointId).executeTakeFirst())) throw notFound(`Could not find endpoint: ${endpointId}.`);
  }

  // Endpoint group <-> project.
  async addGroupProject(groupId: string, projectId: string): Promise<void> {
    await this.get(groupId);
    await this.checkProject(projectId);
    if (!(await this.hasGroupProject(groupId, projectId))) {
      await this.d.db.insertInto('project_endpoint_groups').values({ endpoint_group_id: groupId, project_id: projectId }).execute();
    }
  }
  async hasGroupProject(groupId: string, projectId: string): Promise<boolean> {
    return !!(await this.d.db.selectFrom('project_endpoint_groups').select('project_id')
      .where('endpoint_group_id', '=', groupId).where('project_id', '=', projectId).executeTakeFirst());
  }
  async checkGroupProject(groupId: string, projectId: string): Promise<void> {
    await this.get(groupId);
    await this.checkProject(projectId);
    if (!(await this.hasGroupProject(groupId, projectId))) throw notFound(`Project ${projectId} is not associated with endpoint group ${groupId}.`);
  }
  async removeGroupProject(groupId: string, projectId: string): Promise<void> {
    await this.checkGroupProject(groupId, projectId);
    await this.d.db.deleteFrom('project_endpoint_groups').where('endpoint_group_id', '=', groupId).where('project_id', '=', projectId).execute();
  }
  async projectIdsOfGroup(groupId: string): Promise<string[]> {
    await this.get(groupId);
    return (await this.d.db.selectFrom('project_endpoint_groups').select('project_id').where('endpoint_group_id', '=', groupId).execute()).map((r) => r.project_id);
  }
  async groupsOfProject(projectId: string): Promise<EndpointGroup[]> {
    await this.checkProject(projectId);
    const ids = (await this.d.db.selectFrom('project_endpoint_groups').select('endpoint_group_id').where('project_id', '=', projectId).execute()).map((r) => r.endpoint_group_id);
    return ids.length ? (await this.d.db.selectFrom('endpoint_groups').selectAll().where('id', 'in', ids).execute()).map(toGroup) : [];
  }

  // Endpoint <-> project.
  async addEndpointProject(endpointId: string, projectId: string): Promise<void> {
    await this.checkEndpoint(endpointId);
    await this.checkProject(projectId);
    if (!(await this.hasEndpointProject(endpointId, projectId))) {
      await this.d.db.insertInto('project_endpoints').values({ endpoint_id: endpointId, project_id: projectId }).execute();
    }
  }
  async hasEndpointProject(endpointId: string, projectId: string): Promise<boolean> {
    return !!(await this.d.db.selectFrom('project_endpoints').select('project_id')
      .where('endpoint_id', '=', endpointId).where('project_id', '=', projectId).executeTakeFirst());
  }
  async checkEndpointProject(endpointId: string, projectId: string): Promise<void> {
    await this.checkEndpoint(endpointId);
    await this.checkProject(projectId);
    if (!(await this.hasEndpointProject(endpointId, projectId))) throw notFound(`Endpoint ${endpointId} is not associated with project ${projectId}.`);
  }
  async removeEndpointProject(endpointId: string, projectId: string): Promise<void> {
    await this.checkEndpointProject(endpointId, projectId);
    await this.d.db.deleteFrom('project_endpoints').where('endpoint_id', '=', endpointId).where('project_id', '=', projectId).execute();
  }
  async projectIdsOfEndpoint(endpointId: string): Promise<string[]> {
    await this.checkEndpoint(endpointId);
    return (await this.d.db.selectFrom('project_endpoints').select('project_id').where('endpoint_id', '=', endpointId).execute()).map((r) => r.project_id);
  }

  /** The endpoint ids a project's catalog may show, or undefined when the project has no associations (show all). */
  async allowedEndpointIds(projectId: string): Promise<Set<string> | undefined> {
    const direct = await this.d.db.selectFrom('project_endpoints').select('endpoint_id').where('project_id', '=', projectId).execute();
    const groups = await this.d.db.selectFrom('project_endpoint_groups').select('endpoint_group_id').where('project_id', '=', projectId).execute();
    if (!direct.length && !groups.length) return undefined;
    const ids = new Set(direct.map((r) => r.endpoint_id));
    for (const g of groups) for (const e of await this.endpointsOf(g.endpoint_group_id)) ids.add(e.id);
    return ids;
  }
}
