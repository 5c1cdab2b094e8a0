import type { Region as RegionRow, CatalogService as ServiceRow, Endpoint as EndpointRow } from '../../services/identity/catalog.js';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { AuthContext } from '../../services/auth-context.js';
import { enforce } from '../../services/policy.js';
import { registerCrud } from './crud.js';
import type { Views } from './views.js';
import { ctxOf } from '../http/service-api.js';

const admin = (a: AuthContext) => enforce(a, 'identity:admin');

/** Regions (readable by anyone with a token), services and endpoints (admin). */
export function catalogRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const c = deps.identity.catalog;
  registerCrud<RegionRow>(app, v, {
    path: '/regions', member: 'region', view: (r) => v.region(r),
    create: async (a, b) => { admin(a); return c.createRegion(b); },
    list: async (_a, q) => c.listRegions(q.parent_region_id !== undefined ? { parent_region_id: q.parent_region_id } : {}),
    get: async (_a, rid) => c.getRegion(rid),
    update: async (a, rid, b) => { admin(a); return c.updateRegion(rid, b); },
    remove: async (a, rid) => { admin(a); await c.deleteRegion(rid); },
  });
  // PUT /regions/{id} creates a region with a chosen id.
  app.put('/v3/regions/:region_id', { schema: { body: { type: 'object', required: ['region'], properties: { region: { type: 'object' } } } } }, async (req, reply) => {
    admin(ctxOf(req).auth);
    const { region_id } = req.params as { region_id: string };
    const r = await c.createRegion((req.body as { region: Record<string, unknown> }).region, region_id);
    reply.code(201);
    return { region: v.region(r) };
  });
  registerCrud<ServiceRow>(app, v, {
    path: '/services', member: 'service', view: (s) => v.service(s),
    create: async (a, b) => { admin(a); return c.createService(b); },
    list: async (a, q) => { admin(a); return c.listServices({ ...(q.type !== undefined ? { type: q.type } : {}), ...(q.name !== undefined ? { name: q.name } : {}) }); },
    get: async (a, sid) => { admin(a); return c.getService(sid); },
    update: async (a, sid, b) => { admin(a); return c.updateService(sid, b); },
    remove: async (a, sid) => { admin(a); await c.deleteService(sid); },
  });
  registerCrud<EndpointRow>(app, v, {
    path: '/endpoints', member: 'endpoint', view: (e) => v.endpoint(e),
    create: async (a, b) => { admin(a); return c.createEndpoint(b); },
    list: async (a, q) => {
      admin(a);
      return c.listEndpoints({
        ...(q.service_id !== undefined ? { service_id: q.service_id } : {}), ...(q.interface !== undefined ? { interface: q.interface } : {}),
        ...(q.region_id !== undefined ? { region_id: q.region_id } : {}),
      });
    },
    get: async (a, eid) => { admin(a); return c.getEndpoint(eid); },
    update: async (a, eid, b) => { admin(a); return c.updateEndpoint(eid, b); },
    remove: async (a, eid) => { admin(a); await c.deleteEndpoint(eid); },
  });
}
