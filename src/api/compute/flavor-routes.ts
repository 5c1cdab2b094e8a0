import type { FastifyInstance } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import { enforce } from '../../services/policy.js';
import { isAdmin } from '../../services/auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import { ctxOf } from '../http/service-api.js';
import { bool, int, member, onlyKeys, qBool, qInt, qStr, str, type Json } from './body.js';
import { mv } from './microversion.js';
import type { ComputeViews } from './views.js';
import { op } from '../http/route-policy.js';

/** /flavors, extra specs and os-flavor-access. */
export function flavorRoutes(app: FastifyInstance, compute: ComputeService, v: ComputeViews): void {
  const f = compute.flavors;
  const listQuery = (q: Json, admin: boolean) => {
    let isPublic: boolean | null | undefined = true;
    const raw = qStr(q, 'is_public');
    if (admin) {
      if (raw === undefined) isPublic = true;
      else if (raw.toLowerCase() === 'none') isPublic = null;
      else isPublic = qBool(q, 'is_public');
    }
    const sortDir = qStr(q, 'sort_dir');
    if (sortDir !== undefined && sortDir !== 'asc' && sortDir !== 'desc') throw badRequest(`Invalid sort direction: ${sortDir}`);
    return {
      isPublic, minRam: qInt(q, 'minRam'), minDisk: qInt(q, 'minDisk'), sortKey: qStr(q, 'sort_key'),
      sortDir: sortDir as 'asc' | 'desc' | undefined, limit: qInt(q, 'limit'), marker: qStr(q, 'marker'),
    };
  };
  const nextLink = (path: string, items: { id: string }[], limit: number | undefined) =>
    limit !== undefined && items.length === limit && items.length > 0
      ? { flavors_links: [{ rel: 'next', href: `${v.base}/${path}?limit=${limit}&marker=${items[items.length - 1]!.id}` }] } : {};

  app.get('/flavors', op('compute:flavors:index'), async (req) => {
    const a = ctxOf(req).auth;
    const q = listQuery(req.query as Json, isAdmin(a));
    const list = await f.list(a, q);
    return { flavors: list.map((x) => v.flavorBrief(x, mv(req))), ...nextLink('flavors', list, q.limit) };
  });
  app.get('/flavors/detail', op('compute:flavors:index'), async (req) => {
    const a = ctxOf(req).auth;
    const q = listQuery(req.query as Json, isAdmin(a));
    const list = await f.list(a, q);
    return { flavors: list.map((x) => v.flavor(x, mv(req), true)), ...nextLink('flavors/detail', list, q.limit) };
  });
  app.get('/flavors/:id', op('compute:flavors:show'), async (req) => {
    const a = ctxOf(req).auth;
    return { flavor: v.flavor(await f.get(a, (req.params as { id: string }).id), mv(req), true) };
  });
  app.post('/flavors', op('compute:os-flavor-manage:create'), async (req) => {
    const a = ctxOf(req).auth;
    enforce(a, 'compute:admin');
    const b = member(req.body, 'flavor');
    const ver = mv(req);
    onlyKeys(b, ['name', 'ram', 'vcpus', 'disk', 'id', 'OS-FLV-EXT-DATA:ephemeral', 'swap', 'rxtx_factor', 'os-flavor-access:is_public',
      ...(ver.atLeast('2.55') ? ['description'] : [])], 'flavor');
    const name = str(b, 'name', { required: true, min: 1, max: 255 })!;
    const idRaw = typeof b.id === 'number' && Number.isInteger(b.id) ? String(b.id) : b.id;
    if (idRaw !== undefined && idRaw !== null && typeof idRaw !== 'string') throw badRequest(`Invalid input for field/attribute id. Value: ${String(idRaw)}.`);
    const rx = b.rxtx_factor;
    if (rx !== undefined && (typeof rx !== 'number' && !(typeof rx === 'string' && Number.isFinite(Number(rx))) || Number(rx) <= 0)) {
      throw badRequest(`Invalid input for field/attribute rxtx_factor. Value: ${String(rx)}.`);
    }
    const created = await f.create({
      name, ram: int(b, 'ram', { required: true, min: 1, max: 2147483647 })!, vcpus: int(b, 'vcpus', { required: true, min: 1, max: 2147483647 })!,
      disk: int(b, 'disk', { required: true, min: 0, max: 2147483647 })!, id: idRaw as string | null | undefined,
      ephemeral: int(b, 'OS-FLV-EXT-DATA:ephemeral', { min: 0, max: 2147483647 }), swap: int(b, 'swap', { min: 0, max: 2147483647 }),
      rxtxFactor: rx === undefined ? undefined : Number(rx), isPublic: bool(b, 'os-flavor-access:is_public'),
      description: str(b, 'description', { nullable: true, max: 65535 }) ?? null,
    });
    return { flavor: v.flavor(created, ver, true) };
  });
  app.put('/flavors/:id', op('compute:os-flavor-manage:update'), async (req) => {
    const a = ctxOf(req).auth;
    enforce(a, 'compute:admin');
    const ver = mv(req);
    if (!ver.atLeast('2.55')) throw new (await import('../../errors.js')).CloudError('MethodNotAllowed', 'Method not allowed.');
    const b = member(req.body, 'flavor');
    onlyKeys(b, ['description'], 'flavor');
    if (!('description' in b)) throw badRequest("Invalid input for field/attribute flavor. 'description' is a required property");
    const d = str(b, 'description', { nullable: true, max: 65535 }) ?? null;
    return { flavor: v.flavor(await f.updateDescription((req.params as { id: string }).id, d), ver, true) };
  });
  app.delete('/flavors/:id', op('compute:os-flavor-manage:delete'), async (req, reply) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    await f.delete((req.params as { id: string }).id);
    return reply.code(202).send();
  });

  // extra specs
  const specsBody = (body: unknown): Json => {
    const specs = (body as Json | undefined)?.extra_specs;
    if (!specs || typeof specs !== 'object' || Array.isArray(specs)) throw badRequest("Invalid input for field/attribute extra_specs. 'extra_specs' is a required property");
    return specs as Json;
  };
  app.get('/flavors/:id/os-extra_specs', op('compute:os-flavor-extra-specs:index'), async (req) => {
    const a = ctxOf(req).auth;
    return { extra_specs: (await f.get(a, (req.params as { id: string }).id)).extraSpecs };
  });
  app.post('/flavors/:id/os-extra_specs', op('compute:os-flavor-extra-specs:create'), async (req) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    return { extra_specs: await f.setExtraSpecs((req.params as { id: string }).id, specsBody(req.body)) };
  });
  app.get('/flavors/:id/os-extra_specs/:key', op('compute:os-flavor-extra-specs:show'), async (req) => {
    const a = ctxOf(req).auth;
    const { id, key } = req.params as { id: string; key: string };
    await f.get(a, id);
    return { [key]: await f.getExtraSpec(id, key) };
  });
  app.put('/flavors/:id/os-extra_specs/:key', op('compute:os-flavor-extra-specs:update'), async (req) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    const { id, key } = req.params as { id: string; key: string };
    const b = req.body as Json | undefined;
    if (!b || typeof b !== 'object' || Array.isArray(b) || Object.keys(b).length !== 1) throw badRequest('Request body contains too many items.');
    if (!(key in b)) throw badRequest('Request body and URI mismatch');
    await f.setExtraSpecs(id, { [key]: b[key] });
    return { [key]: String(b[key]) };
  });
  app.delete('/flavors/:id/os-extra_specs/:key', op('compute:os-flavor-extra-specs:delete'), async (req, reply) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    const { id, key } = req.params as { id: string; key: string };
    await f.deleteExtraSpec(id, key);
    return reply.code(200).send();
  });

  // access
  const accessView = (list: { flavorId: string; projectId: string }[]) => ({ flavor_access: list.map((x) => ({ flavor_id: x.flavorId, tenant_id: x.projectId })) });
  app.get('/flavors/:id/os-flavor-access', op('compute:os-flavor-access'), async (req) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    return accessView(await f.listAccess((req.params as { id: string }).id));
  });
  app.post('/flavors/:id/action', op({ byAction: { addTenantAccess: 'compute:os-flavor-access:add_tenant_access', removeTenantAccess: 'compute:os-flavor-access:remove_tenant_access' }, otherwise: 'compute:os-flavor-access' }), async (req) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    const id = (req.params as { id: string }).id;
    const b = req.body as Json | undefined;
    if (!b || typeof b !== 'object') throw badRequest('Malformed request body');
    if ('addTenantAccess' in b) {
      const t = member(b, 'addTenantAccess');
      const tenant = str(t, 'tenant', { required: true, min: 1, max: 255 })!;
      return accessView(await f.addAccess(id, tenant));
    }
    if ('removeTenantAccess' in b) {
      const t = member(b, 'removeTenantAccess');
      const tenant = str(t, 'tenant', { required: true, min: 1, max: 255 })!;
      return accessView(await f.removeAccess(id, tenant));
    }
    throw badRequest('Invalid flavor action.');
  });
  void notFound;
}
