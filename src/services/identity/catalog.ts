import type { IdentityDeps } from './common.js';
import { splitExtra } from './common.js';
import type { EndpointRow, RegionRow, ServiceRow } from '../../store/identity-tables.js';
import { bool, fromJson, isUniqueViolation } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, conflict, notFound, forbidden } from '../../errors.js';

/** The catalog's records as the API renders them. */
export type {
  RegionRow as Region,
  ServiceRow as CatalogService,
  EndpointRow as Endpoint,
} from '../../store/identity-tables.js';

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: { id: string; interface: string; region: string | null; region_id: string | null; url: string }[];
}

const INTERFACES = new Set(['public', 'internal', 'admin']);

/** `enabled` must be a real JSON boolean ("False" as a string is a 400, as Keystone's schema says). */
function checkBool(v: unknown): boolean {
  if (typeof v !== 'boolean') throw badRequest("Invalid input for field 'enabled': must be a boolean.");
  return v;
}
const SERVICE_KNOWN = ['id', 'type', 'name', 'description', 'enabled'] as const;
const ENDPOINT_KNOWN = ['id', 'service_id', 'interface', 'url', 'region_id', 'region', 'enabled'] as const;
const REGION_KNOWN = ['id', 'description', 'parent_region_id'] as const;

/** Regions, services and endpoints, and the catalog built from them. */
export class Catalog {
  /** `allowedFor` narrows a project's catalog (OS-EP-FILTER); undefined from it means "all endpoints". */
  constructor(
    private readonly d: IdentityDeps,
    private readonly allowedFor: (projectId: string) => Promise<Set<string> | undefined> = async () => undefined,
  ) {}

  // Regions.
  async createRegion(body: Record<string, unknown>, id?: string): Promise<RegionRow> {
    const rid = id ?? (typeof body.id === 'string' && body.id ? body.id : hexId());
    if (rid.length > 255) throw badRequest('Region id too long.');
    const parent = (body.parent_region_id as string | null | undefined) ?? null;
    if (parent && !(await this.findRegion(parent))) throw notFound(`Could not find region: ${parent}.`);
    const row: RegionRow = {
      id: rid,
      description: typeof body.description === 'string' ? body.description : '',
      parent_region_id: parent,
      extra: JSON.stringify(splitExtra(body, REGION_KNOWN)),
    };
    try {
      await this.d.db.insertInto('regions').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Conflict occurred attempting to store region - Duplicate ID, ${rid}.`);
      throw e;
    }
    return row;
  }
  findRegion(id: string) {
    return this.d.db.selectFrom('regions').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async getRegion(id: string): Promise<RegionRow> {
    const r = await this.findRegion(id);
    if (!r) throw notFound(`Could not find region: ${id}.`);
    return r;
  }
  async listRegions(f: { parent_region_id?: string }): Promise<RegionRow[]> {
    let q = this.d.db.selectFrom('regions').selectAll().orderBy('id');
    if (f.parent_region_id !== undefined) q = q.where('parent_region_id', '=', f.parent_region_id);
    return q.execute();
  }
  async updateRegion(id: string, body: Record<string, unknown>): Promise<RegionRow> {
    const cur = await this.getRegion(id);
    const patch: Partial<RegionRow> = {
      extra: JSON.stringify({ ...fromJson(cur.extra, {}), ...splitExtra(body, REGION_KNOWN) }),
    };
    if (body.description !== undefined) patch.description = String(body.description ?? '');
    if (body.parent_region_id !== undefined) {
      const p = body.parent_region_id as string | null;
      if (p === id) throw badRequest('A region cannot be its own parent.');
      if (p && !(await this.findRegion(p))) throw notFound(`Could not find region: ${p}.`);
      patch.parent_region_id = p;
    }
    await this.d.db.updateTable('regions').set(patch).where('id', '=', id).execute();
    return this.getRegion(id);
  }
  async deleteRegion(id: string): Promise<void> {
    await this.getRegion(id);
    const child = await this.d.db
      .selectFrom('regions')
      .select('id')
      .where('parent_region_id', '=', id)
      .executeTakeFirst();
    if (child)
      throw forbidden(`Unable to delete region ${id} because it or its child regions have associated endpoints.`);
    await this.d.db.deleteFrom('regions').where('id', '=', id).execute();
  }

  // Services.
  async createService(body: Record<string, unknown>): Promise<ServiceRow> {
    if (typeof body.type !== 'string' || !body.type || body.type.length > 255)
      throw badRequest("Invalid input for field 'type': must be a non-empty string.");
    if (body.enabled !== undefined && typeof body.enabled !== 'boolean')
      throw badRequest("Invalid input for field 'enabled': must be a boolean.");
    const row: ServiceRow = {
      id: hexId(),
      type: body.type,
      name: typeof body.name === 'string' ? body.name : '',
      description: typeof body.description === 'string' ? body.description : '',
      enabled: bool(body.enabled ?? true),
      extra: JSON.stringify(splitExtra(body, SERVICE_KNOWN)),
    };
    await this.d.db.insertInto('services').values(row).execute();
    return row;
  }
  async getService(id: string): Promise<ServiceRow> {
    const r = await this.d.db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find service: ${id}.`);
    return r;
  }
  async listServices(f: { type?: string; name?: string }): Promise<ServiceRow[]> {
    let q = this.d.db.selectFrom('services').selectAll().orderBy('type');
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    return q.execute();
  }
  async updateService(id: string, body: Record<string, unknown>): Promise<ServiceRow> {
    const cur = await this.getService(id);
    const patch: Partial<ServiceRow> = {
      extra: JSON.stringify({ ...fromJson(cur.extra, {}), ...splitExtra(body, SERVICE_KNOWN) }),
    };
    if (body.type !== undefined) {
      if (typeof body.type !== 'string' || !body.type) throw badRequest("Invalid input for field 'type'.");
      patch.type = body.type;
    }
    if (body.name !== undefined) patch.name = String(body.name ?? '');
    if (body.description !== undefined) patch.description = String(body.description ?? '');
    if (body.enabled !== undefined) patch.enabled = bool(checkBool(body.enabled));
    await this.d.db.updateTable('services').set(patch).where('id', '=', id).execute();
    return this.getService(id);
  }
  async deleteService(id: string): Promise<void> {
    await this.getService(id);
    await this.d.db.deleteFrom('endpoints').where('service_id', '=', id).execute();
    await this.d.db.deleteFrom('services').where('id', '=', id).execute();
  }

  // Endpoints.
  async createEndpoint(body: Record<string, unknown>): Promise<EndpointRow> {
    if (typeof body.service_id !== 'string') throw badRequest("Invalid input for field 'service_id'.");
    await this.getService(body.service_id);
    if (typeof body.interface !== 'string' || !INTERFACES.has(body.interface))
      throw badRequest("Invalid input for field 'interface': must be public, internal or admin.");
    if (typeof body.url !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(body.url))
      throw badRequest("Invalid input for field 'url': must be a URL.");
    if (body.enabled !== undefined) checkBool(body.enabled);
    const regionId =
      (body.region_id as string | null | undefined) ?? (body.region as string | null | undefined) ?? null;
    if (regionId && !(await this.findRegion(regionId))) {
      // Keystone creates a region named only by the legacy `region` attribute; an explicit region_id must exist.
      if (body.region_id !== undefined && body.region_id !== null)
        throw badRequest(`Region ${regionId} does not exist.`);
      await this.createRegion({}, regionId);
    }
    const row: EndpointRow = {
      id: hexId(),
      service_id: body.service_id,
      interface: body.interface,
      url: body.url,
      region_id: regionId,
      enabled: bool((body.enabled ?? true) as boolean),
      extra: JSON.stringify(splitExtra(body, ENDPOINT_KNOWN)),
    };
    await this.d.db.insertInto('endpoints').values(row).execute();
    return row;
  }
  async getEndpoint(id: string): Promise<EndpointRow> {
    const r = await this.d.db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find endpoint: ${id}.`);
    return r;
  }
  async listEndpoints(f: { service_id?: string; interface?: string; region_id?: string }): Promise<EndpointRow[]> {
    let q = this.d.db.selectFrom('endpoints').selectAll().orderBy('id');
    if (f.service_id !== undefined) q = q.where('service_id', '=', f.service_id);
    if (f.interface !== undefined) q = q.where('interface', '=', f.interface);
    if (f.region_id !== undefined) q = q.where('region_id', '=', f.region_id);
    return q.execute();
  }
  async updateEndpoint(id: string, body: Record<string, unknown>): Promise<EndpointRow> {
    const cur = await this.getEndpoint(id);
    const patch: Partial<EndpointRow> = {
      extra: JSON.stringify({ ...fromJson(cur.extra, {}), ...splitExtra(body, ENDPOINT_KNOWN) }),
    };
    if (body.service_id !== undefined) {
      await this.getService(String(body.service_id));
      patch.service_id = String(body.service_id);
    }
    if (body.interface !== undefined) {
      if (typeof body.interface !== 'string' || !INTERFACES.has(body.interface))
        throw badRequest("Invalid input for field 'interface'.");
      patch.interface = body.interface;
    }
    if (body.url !== undefined) {
      if (typeof body.url !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(body.url))
        throw badRequest("Invalid input for field 'url'.");
      patch.url = body.url;
    }
    const region = body.region_id !== undefined ? body.region_id : body.region;
    if (region !== undefined) {
      if (region && !(await this.findRegion(String(region)))) {
        if (body.region_id !== undefined) throw badRequest(`Region ${String(region)} does not exist.`);
        await this.createRegion({}, String(region));
      }
      patch.region_id = (region as string | null) ?? null;
    }
    if (body.enabled !== undefined) patch.enabled = bool(checkBool(body.enabled));
    await this.d.db.updateTable('endpoints').set(patch).where('id', '=', id).execute();
    return this.getEndpoint(id);
  }
  async deleteEndpoint(id: string): Promise<void> {
    await this.getEndpoint(id);
    await this.d.db.deleteFrom('project_endpoints').where('endpoint_id', '=', id).execute();
    await this.d.db.deleteFrom('endpoints').where('id', '=', id).execute();
  }

  /** The catalog as tokens carry it; project-templated URLs filled in, or dropped when there is no project. */
  async build(projectId?: string): Promise<CatalogEntry[]> {
    const services = await this.d.db
      .selectFrom('services')
      .selectAll()
      .where('enabled', '=', 1)
      .orderBy('type')
      .execute();
    const all = await this.d.db.selectFrom('endpoints').selectAll().where('enabled', '=', 1).execute();
    const allowed = projectId ? await this.allowedFor(projectId) : undefined;
    const endpoints = allowed ? all.filter((e) => allowed.has(e.id)) : all;
    const out: CatalogEntry[] = [];
    for (const s of services) {
      const eps = endpoints
        .filter((e) => e.service_id === s.id)
        .flatMap((e) => {
          const templated = /[%$]\((project_id|tenant_id)\)s/.test(e.url);
          if (templated && !projectId) return [];
          const url = e.url.replace(/[%$]\((project_id|tenant_id)\)s/g, projectId ?? '');
          return [{ id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url }];
        });
      out.push({ id: s.id, type: s.type, name: s.name, endpoints: eps });
    }
    return out;
  }

  /** Ensures a service managed by Gureum itself exists with one public/internal/admin endpoint at `url`. */
  async ensureManaged(type: string, name: string, url: string, region: string): Promise<void> {
    if (!(await this.findRegion(region))) await this.createRegion({}, region);
    let svc = (await this.listServices({ type })).find(
      (s) => fromJson<Record<string, unknown>>(s.extra, {}).gureum_managed === true,
    );
    if (!svc) svc = await this.createService({ type, name, enabled: true, gureum_managed: true });
    const eps = await this.listEndpoints({ service_id: svc.id });
    for (const iface of ['public', 'internal', 'admin']) {
      const ep = eps.find((e) => e.interface === iface);
      if (!ep) await this.createEndpoint({ service_id: svc.id, interface: iface, url, region_id: region });
      else if (ep.url !== url) await this.d.db.updateTable('endpoints').set({ url }).where('id', '=', ep.id).execute();
    }
  }
}
