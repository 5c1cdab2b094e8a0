import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { RegisteredLimit, Limit } from '../../services/identity/limits.js';
import type { Policy } from '../../services/identity/policies.js';
import { LIMIT_MODEL } from '../../services/identity/limits.js';
import { allowed } from '../../services/policy.js';
import { op } from '../http/route-policy.js';
import { registerCrud, crudRules } from './crud.js';
import type { Views } from './views.js';

type Obj = Record<string, unknown>;
const pick = <K extends string>(q: Record<string, string>, keys: readonly K[]) =>
  Object.fromEntries(keys.filter((k) => q[k] !== undefined).map((k) => [k, q[k]])) as Partial<Record<K, string>>;
const listBody = (key: string) => ({
  type: 'object',
  required: [key],
  properties: { [key]: { type: 'array', items: { type: 'object' } } },
});

/** Unified limits (/v3/registered_limits, /v3/limits, /v3/limits/model) and the legacy /v3/policies store. */
export function limitRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const lim = deps.identity.limits;
  const regView = (r: RegisteredLimit) => ({
    id: r.id,
    service_id: r.service_id,
    region_id: r.region_id,
    resource_name: r.resource_name,
    default_limit: r.default_limit,
    description: r.description,
    links: v.self(`/registered_limits/${r.id}`),
  });
  const limitView = (l: Limit) => ({
    id: l.id,
    project_id: l.project_id,
    domain_id: l.domain_id,
    service_id: l.service_id,
    region_id: l.region_id,
    resource_name: l.resource_name,
    resource_limit: l.resource_limit,
    description: l.description,
    links: v.self(`/limits/${l.id}`),
  });

  // Registered limits: anyone with a token reads them; admins write them. Creation takes a list.
  app.post(
    '/v3/registered_limits',
    op('identity:create_registered_limits', { schema: { body: listBody('registered_limits') } }),
    async (req, reply) => {
      const rows = await lim.createRegistered((req.body as Obj).registered_limits);
      reply.code(201);
      return { registered_limits: rows.map(regView) };
    },
  );
  registerCrud<RegisteredLimit>(app, v, {
    path: '/registered_limits',
    member: 'registered_limit',
    view: regView,
    filters: ['service_id', 'region_id', 'resource_name'],
    rules: {
      list: 'identity:list_registered_limits',
      get: 'identity:get_registered_limit',
      update: 'identity:update_registered_limit',
      remove: 'identity:delete_registered_limit',
    },
    list: async (_a, q) => lim.listRegistered(pick(q, ['service_id', 'region_id', 'resource_name'] as const)),
    get: async (_a, id) => lim.getRegistered(id),
    update: async (_a, id, b) => lim.updateRegistered(id, b),
    remove: async (_a, id) => {
      await lim.deleteRegistered(id);
    },
  });

  // Project and domain limits: admins see and write all; others see those of their token's project or domain.
  app.get('/v3/limits/model', op('identity:get_limit_model'), async () => ({ model: LIMIT_MODEL }));
  app.post('/v3/limits', op('identity:create_limits', { schema: { body: listBody('limits') } }), async (req, reply) => {
    const rows = await lim.createLimits((req.body as Obj).limits);
    reply.code(201);
    return { limits: rows.map(limitView) };
  });
  registerCrud<Limit>(app, v, {
    path: '/limits',
    member: 'limit',
    view: limitView,
    filters: ['service_id', 'region_id', 'resource_name', 'project_id', 'domain_id'],
    rules: {
      list: 'identity:list_limits',
      get: 'identity:get_limit',
      update: 'identity:update_limit',
      remove: 'identity:delete_limit',
    },
    targets: {
      get: async (req) => {
        const l = await lim.getLimit((req.params as { limit_id: string }).limit_id);
        return { project_id: l.project_id, domain_id: l.domain_id };
      },
    },
    list: async (a, q) => {
      const f = pick(q, ['service_id', 'region_id', 'resource_name', 'project_id', 'domain_id'] as const);
      if (allowed(a, 'identity:admin')) return lim.listLimits(f);
      const scope = a.projectId ? { project_id: a.projectId } : a.domainId ? { domain_id: a.domainId } : undefined;
      if (!scope) return [];
      if (
        (f.project_id !== undefined && f.project_id !== scope.project_id) ||
        (f.domain_id !== undefined && f.domain_id !== scope.domain_id)
      )
        return [];
      return lim.listLimits({ ...f, ...scope });
    },
    get: async (_a, id) => lim.getLimit(id),
    update: async (_a, id, b) => lim.updateLimit(id, b),
    remove: async (_a, id) => {
      await lim.deleteLimit(id);
    },
  });

  // Legacy policy blobs (admin only; stored, never enforced).
  const pol = deps.identity.policies;
  const policyView = (p: Policy) => ({
    ...p.extra,
    id: p.id,
    type: p.type,
    blob: p.blob,
    links: v.self(`/policies/${p.id}`),
  });
  registerCrud<Policy>(app, v, {
    path: '/policies',
    member: 'policy',
    collection: 'policies',
    view: policyView,
    rules: crudRules('policy', 'policies'),
    filters: ['type'],
    create: async (_a, b) => pol.create(b),
    list: async (_a, q) => pol.list(pick(q, ['type'] as const)),
    get: async (_a, id) => pol.get(id),
    update: async (_a, id, b) => pol.update(id, b),
    remove: async (_a, id) => {
      await pol.delete(id);
    },
  });
}
