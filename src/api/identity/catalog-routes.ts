import type {
  Region as RegionRow,
  CatalogService as ServiceRow,
  Endpoint as EndpointRow,
} from '../../services/identity/catalog.js';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { registerCrud, crudRules } from './crud.js';
import type { Views } from './views.js';
import { op } from '../http/route-policy.js';

/** Regions (readable by anyone with a token), services and endpoints (admin). */
export function catalogRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const c = deps.identity.catalog;
  registerCrud<RegionRow>(app, v, {
    path: '/regions',
    member: 'region',
    view: (r) => v.region(r),
    rules: crudRules('region', 'regions'),
    filters: ['parent_region_id'],
    create: async (_a, b) => c.createRegion(b),
    list: async (_a, q) =>
      c.listRegions(q.parent_region_id !== undefined ? { parent_region_id: q.parent_region_id } : {}),
    get: async (_a, rid) => c.getRegion(rid),
    update: async (_a, rid, b) => c.updateRegion(rid, b),
    remove: async (_a, rid) => {
      await c.deleteRegion(rid);
    },
  });
  // PUT /regions/{id} creates a region with a chosen id.
  app.put(
    '/v3/regions/:region_id',
    op('identity:create_region', {
      schema: { body: { type: 'object', required: ['region'], properties: { region: { type: 'object' } } } },
    }),
    async (req, reply) => {
      const { region_id } = req.params as { region_id: string };
      const r = await c.createRegion((req.body as { region: Record<string, unknown> }).region, region_id);
      reply.code(201);
      return { region: v.region(r) };
    },
  );
  registerCrud<ServiceRow>(app, v, {
    path: '/services',
    member: 'service',
    view: (s) => v.service(s),
    rules: crudRules('service', 'services'),
    filters: ['type', 'name'],
    create: async (_a, b) => c.createService(b),
    list: async (_a, q) =>
      c.listServices({
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.name !== undefined ? { name: q.name } : {}),
      }),
    get: async (_a, sid) => c.getService(sid),
    update: async (_a, sid, b) => c.updateService(sid, b),
    remove: async (_a, sid) => {
      await c.deleteService(sid);
    },
  });
  registerCrud<EndpointRow>(app, v, {
    path: '/endpoints',
    member: 'endpoint',
    view: (e) => v.endpoint(e),
    rules: crudRules('endpoint', 'endpoints'),
    filters: ['service_id', 'interface', 'region_id'],
    create: async (_a, b) => c.createEndpoint(b),
    list: async (_a, q) => {
      return c.listEndpoints({
        ...(q.service_id !== undefined ? { service_id: q.service_id } : {}),
        ...(q.interface !== undefined ? { interface: q.interface } : {}),
        ...(q.region_id !== undefined ? { region_id: q.region_id } : {}),
      });
    },
    get: async (_a, eid) => c.getEndpoint(eid),
    update: async (_a, eid, b) => c.updateEndpoint(eid, b),
    remove: async (_a, eid) => {
      await c.deleteEndpoint(eid);
    },
  });
}
