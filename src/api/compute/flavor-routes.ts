import type { FastifyInstance } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import { enforce } from '../../services/policy.js';
import { isAdmin } from '../../services/auth-context.js';
import { badRequest, CloudError, notFound } from '../../errors.js';
import { ctxOf } from '../http/service-api.js';
import { qBool, qInt, qStr, type Json } from './body.js';
import { toBool, toInt } from './schemas/common.js';
import {
  ExtraSpecItemBody,
  ExtraSpecsBody,
  FlavorActionBody,
  FlavorCreateBody,
  flavorCreateVersions,
  FlavorUpdateBody,
} from './schemas/resources.js';
import { versioned } from './schemas/versions.js';
import { mv } from './microversion.js';
import type { ComputeViews } from './views.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';

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
    if (sortDir !== undefined && sortDir !== 'asc' && sortDir !== 'desc')
      throw badRequest(`Invalid sort direction: ${sortDir}`);
    return {
      isPublic,
      minRam: qInt(q, 'minRam'),
      minDisk: qInt(q, 'minDisk'),
      sortKey: qStr(q, 'sort_key'),
      sortDir: sortDir as 'asc' | 'desc' | undefined,
      limit: qInt(q, 'limit'),
      marker: qStr(q, 'marker'),
    };
  };
  const nextLink = (path: string, items: { id: string }[], limit: number | undefined) =>
    limit !== undefined && items.length === limit && items.length > 0
      ? {
          flavors_links: [
            { rel: 'next', href: `${v.base}/${path}?limit=${limit}&marker=${items[items.length - 1]!.id}` },
          ],
        }
      : {};

  app.get('/flavors', op('compute:flavors:index', { schema: { querystring: pagedQuery() } }), async (req) => {
    const a = ctxOf(req).auth;
    const q = listQuery(req.query as Json, isAdmin(a));
    const list = await f.list(a, q);
    return { flavors: list.map((x) => v.flavorBrief(x, mv(req))), ...nextLink('flavors', list, q.limit) };
  });
  app.get('/flavors/detail', op('compute:flavors:index', { schema: { querystring: pagedQuery() } }), async (req) => {
    const a = ctxOf(req).auth;
    const q = listQuery(req.query as Json, isAdmin(a));
    const list = await f.list(a, q);
    return { flavors: list.map((x) => v.flavor(x, mv(req), true)), ...nextLink('flavors/detail', list, q.limit) };
  });
  app.get('/flavors/:id', op('compute:flavors:show'), async (req) => {
    const a = ctxOf(req).auth;
    return { flavor: v.flavor(await f.get(a, (req.params as { id: string }).id), mv(req), true) };
  });
  app.post(
    '/flavors',
    op('compute:os-flavor-manage:create', { schema: { body: FlavorCreateBody }, ...versioned(flavorCreateVersions) }),
    async (req) => {
      const a = ctxOf(req).auth;
      enforce(a, 'compute:admin');
      const b = (req.body as FlavorCreateBody).flavor;
      const created = await f.create({
        name: b.name,
        ram: toInt(b.ram),
        vcpus: toInt(b.vcpus),
        disk: toInt(b.disk),
        id: b.id === undefined || b.id === null ? b.id : String(b.id),
        ephemeral: toInt(b['OS-FLV-EXT-DATA:ephemeral']),
        swap: toInt(b.swap),
        rxtxFactor: b.rxtx_factor === undefined ? undefined : Number(b.rxtx_factor),
        isPublic: toBool(b['os-flavor-access:is_public']),
        description: b.description ?? null,
      });
      return { flavor: v.flavor(created, mv(req), true) };
    },
  );
  app.put(
    '/flavors/:id',
    op('compute:os-flavor-manage:update', { schema: { body: FlavorUpdateBody } }),
    async (req) => {
      const a = ctxOf(req).auth;
      enforce(a, 'compute:admin');
      const ver = mv(req);
      if (!ver.atLeast('2.55')) throw new CloudError('MethodNotAllowed', 'Method not allowed.');
      const d = (req.body as FlavorUpdateBody).flavor.description;
      return { flavor: v.flavor(await f.updateDescription((req.params as { id: string }).id, d), ver, true) };
    },
  );
  app.delete('/flavors/:id', op('compute:os-flavor-manage:delete'), async (req, reply) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    await f.delete((req.params as { id: string }).id);
    return reply.code(202).send();
  });

  // extra specs
  app.get('/flavors/:id/os-extra_specs', op('compute:os-flavor-extra-specs:index'), async (req) => {
    const a = ctxOf(req).auth;
    return { extra_specs: (await f.get(a, (req.params as { id: string }).id)).extraSpecs };
  });
  app.post(
    '/flavors/:id/os-extra_specs',
    op('compute:os-flavor-extra-specs:create', { schema: { body: ExtraSpecsBody } }),
    async (req) => {
      enforce(ctxOf(req).auth, 'compute:admin');
      return {
        extra_specs: await f.setExtraSpecs((req.params as { id: string }).id, (req.body as ExtraSpecsBody).extra_specs),
      };
    },
  );
  app.get('/flavors/:id/os-extra_specs/:key', op('compute:os-flavor-extra-specs:show'), async (req) => {
    const a = ctxOf(req).auth;
    const { id, key } = req.params as { id: string; key: string };
    await f.get(a, id);
    return { [key]: await f.getExtraSpec(id, key) };
  });
  app.put(
    '/flavors/:id/os-extra_specs/:key',
    op('compute:os-flavor-extra-specs:update', { schema: { body: ExtraSpecItemBody } }),
    async (req) => {
      enforce(ctxOf(req).auth, 'compute:admin');
      const { id, key } = req.params as { id: string; key: string };
      const b = req.body as ExtraSpecItemBody;
      if (!Object.hasOwn(b, key)) throw badRequest('Request body and URI mismatch');
      await f.setExtraSpecs(id, { [key]: b[key] });
      return { [key]: String(b[key]) };
    },
  );
  app.delete('/flavors/:id/os-extra_specs/:key', op('compute:os-flavor-extra-specs:delete'), async (req, reply) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    const { id, key } = req.params as { id: string; key: string };
    await f.deleteExtraSpec(id, key);
    return reply.code(200).send();
  });

  // access
  const accessView = (list: { flavorId: string; projectId: string }[]) => ({
    flavor_access: list.map((x) => ({ flavor_id: x.flavorId, tenant_id: x.projectId })),
  });
  app.get('/flavors/:id/os-flavor-access', op('compute:os-flavor-access'), async (req) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    return accessView(await f.listAccess((req.params as { id: string }).id));
  });
  app.post(
    '/flavors/:id/action',
    op(
      {
        byAction: {
          addTenantAccess: 'compute:os-flavor-access:add_tenant_access',
          removeTenantAccess: 'compute:os-flavor-access:remove_tenant_access',
        },
        otherwise: 'compute:os-flavor-access',
      },
      { schema: { body: FlavorActionBody } },
    ),
    async (req) => {
      enforce(ctxOf(req).auth, 'compute:admin');
      const id = (req.params as { id: string }).id;
      const b = req.body as FlavorActionBody;
      if (b.addTenantAccess) return accessView(await f.addAccess(id, b.addTenantAccess.tenant));
      return accessView(await f.removeAccess(id, b.removeTenantAccess!.tenant));
    },
  );
  void notFound;
}
