import type { FastifyInstance } from 'fastify';
import type { ServiceApi } from '../http/service-api.js';
import { ctxOf } from '../http/service-api.js';
import type { AppDeps } from '../../app-deps.js';
import type { NetworkService } from '../../services/network/index.js';
import { badRequest, notFound } from '../../errors.js';
import { registerResource, writer } from './resource.js';
import { single, queryOf, applyQuery } from './query.js';
import { extensionsFor } from './extensions.js';
import { agentRoutes } from './agents.js';
import { registerMetering } from './metering.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';

type Obj = Record<string, unknown>;

const memberBody = (member: string) => ({
  type: 'object',
  required: [member],
  properties: { [member]: { type: 'object' } },
});

const body = (b: unknown, key: string): Obj => {
  const o = (b as Obj | undefined)?.[key];
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw badRequest(`Resource body required: expected "${key}".`);
  return o as Obj;
};

function resources(app: FastifyInstance, net: NetworkService, baseUrl: string): void {
  const publish =
    (kind: 'network' | 'subnet' | 'port' | 'router' | 'floatingip' | 'security_group') =>
    async (action: 'created' | 'updated' | 'deleted', id: string, last?: Obj) =>
      net.publish(kind, action, id, last);

  registerResource(app, net, baseUrl, {
    path: 'networks',
    member: 'network',
    collection: 'networks',
    kind: 'network',
    tagType: 'networks',
    list: (a, q) =>
      net.networks.list(a, {
        ...(q.id ? { ids: q.id } : {}),
        ...(single(q, 'name') !== undefined ? { name: single(q, 'name') } : {}),
      }),
    get: (a, id) => net.networks.get(a, id),
    views: (a, rows) => net.networks.views(a, rows),
    create: (a, b) => net.networks.create(a, b),
    update: (a, id, b) => net.networks.update(a, id, b),
    remove: (a, id) => net.networks.delete(a, id, async () => {}),
    after: publish('network'),
  });
  registerResource(app, net, baseUrl, {
    path: 'subnets',
    member: 'subnet',
    collection: 'subnets',
    kind: 'subnet',
    tagType: 'subnets',
    list: (a, q) =>
      net.subnets.list(a, {
        ...(single(q, 'network_id') ? { networkId: single(q, 'network_id') } : {}),
        ...(q.id ? { ids: q.id } : {}),
      }),
    get: (a, id) => net.subnets.get(a, id),
    views: (_a, rows) => net.subnets.views(rows),
    create: (a, b) => net.subnets.create(a, b),
    update: (a, id, b) => net.subnets.update(a, id, b),
    remove: (a, id) => net.subnets.delete(a, id),
    after: publish('subnet'),
  });
  registerResource(app, net, baseUrl, {
    path: 'ports',
    member: 'port',
    collection: 'ports',
    kind: 'port',
    tagType: 'ports',
    list: (a, q) =>
      net.ports.list(a, {
        ...(single(q, 'network_id') ? { networkId: single(q, 'network_id') } : {}),
        ...(single(q, 'device_id') !== undefined ? { deviceId: single(q, 'device_id') } : {}),
        ...(single(q, 'device_owner') !== undefined ? { deviceOwner: single(q, 'device_owner') } : {}),
        ...(q.id ? { ids: q.id } : {}),
      }),
    get: (a, id) => net.ports.get(a, id),
    views: (a, rows) => net.ports.views(a, rows),
    create: (a, b) => net.ports.create(a, b),
    update: async (a, id, b) => {
      const { port, bound } = await net.ports.update(a, id, b);
      if (bound) await net.publish('port', 'bound', port.id);
      return port;
    },
    remove: (a, id) => net.ports.delete(a, id),
    after: publish('port'),
  });
  registerResource(app, net, baseUrl, {
    path: 'routers',
    member: 'router',
    collection: 'routers',
    kind: 'router',
    tagType: 'routers',
    list: (a, q) => net.routers.list(a, q.id ? { ids: q.id } : {}),
    get: (a, id) => net.routers.get(a, id),
    views: (a, rows) => net.routers.views(a, rows),
    create: (a, b) => net.routers.create(a, b),
    update: (a, id, b) => net.routers.update(a, id, b),
    remove: (a, id) => net.routers.delete(a, id),
    after: publish('router'),
  });
  registerResource(app, net, baseUrl, {
    path: 'floatingips',
    member: 'floatingip',
    collection: 'floatingips',
    kind: 'floatingip',
    tagType: 'floatingips',
    list: (a, q) =>
      net.floatingIps.list(a, {
        ...(q.id ? { ids: q.id } : {}),
        ...(single(q, 'port_id') ? { portId: single(q, 'port_id') } : {}),
      }),
    get: (a, id) => net.floatingIps.get(a, id),
    views: (_a, rows) => net.floatingIps.views(rows),
    create: (a, b) => net.floatingIps.create(a, b),
    update: (a, id, b) => net.floatingIps.update(a, id, b),
    remove: (a, id) => net.floatingIps.delete(a, id),
    after: publish('floatingip'),
  });
  registerResource(app, net, baseUrl, {
    path: 'security-groups',
    member: 'security_group',
    collection: 'security_groups',
    kind: 'security_group',
    tagType: 'security-groups',
    list: (a, q) =>
      net.securityGroups.list(a, {
        ...(q.id ? { ids: q.id } : {}),
        ...(single(q, 'name') !== undefined ? { name: single(q, 'name') } : {}),
        ...((single(q, 'project_id') ?? single(q, 'tenant_id'))
          ? { projectId: single(q, 'project_id') ?? single(q, 'tenant_id') }
          : {}),
      }),
    get: (a, id) => net.securityGroups.get(a, id),
    views: (_a, rows) => net.securityGroups.views(rows),
    create: (a, b) => net.securityGroups.create(a, b),
    update: (a, id, b) => net.securityGroups.update(a, id, b),
    remove: (a, id) => net.securityGroups.delete(a, id),
    after: publish('security_group'),
  });
  registerResource(app, net, baseUrl, {
    path: 'security-group-rules',
    member: 'security_group_rule',
    collection: 'security_group_rules',
    list: (a) => net.securityGroups.listRules(a),
    get: (a, id) => net.securityGroups.getRule(a, id),
    views: async (_a, rows) => rows.map((r) => net.securityGroups.ruleView(r)),
    create: async (a, b) => (await net.securityGroups.createRules(a, [b]))[0]!,
    update: (a, id, b) => net.securityGroups.updateRule(a, id, b),
    // A rule deleted changes its group: the data plane gets the group without it (the rule is gone by `after`).
    remove: async (a, id) => {
      const rule = await net.securityGroups.deleteRule(a, id);
      await net.publish('security_group', 'updated', rule.security_group_id);
      return rule;
    },
    after: async (action, id) => {
      if (action === 'deleted') return;
      const rule = await net.securityGroups.getRule(await systemAuth(), id).catch(() => undefined);
      if (rule) await net.publish('security_group', 'updated', rule.security_group_id);
    },
  });
  registerResource(app, net, baseUrl, {
    path: 'subnetpools',
    member: 'subnetpool',
    collection: 'subnetpools',
    tagType: 'subnetpools',
    list: (a) => net.subnetPools.list(a),
    get: (a, id) => net.subnetPools.get(a, id),
    views: (_a, rows) => net.subnetPools.views(rows),
    create: (a, b) => net.subnetPools.create(a, b),
    update: (a, id, b) => net.subnetPools.update(a, id, b),
    remove: (a, id) => net.subnetPools.delete(a, id),
  });
}

async function systemAuth() {
  return (await import('../../services/network/index.js')).SYSTEM_CONTEXT;
}

function actions(app: FastifyInstance, net: NetworkService, baseUrl: string): void {
  const auth = (req: Parameters<typeof ctxOf>[0]) => ctxOf(req).auth;
  const rid = (req: { params: unknown }) => (req.params as { id: string }).id;

  const objectBody = { type: 'object' };
  for (const [action, add] of [
    ['add_router_interface', true],
    ['remove_router_interface', false],
  ] as const) {
    app.put(`/v2.0/routers/:id/${action}`, op(`network:${action}`, { schema: { body: objectBody } }), async (req) => {
      const a = auth(req);
      writer(a);
      const b = (req.body ?? {}) as Obj;
      if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('Invalid body.');
      const { info, port } = add
        ? await net.routers.addInterface(a, rid(req), b)
        : await net.routers.removeInterface(a, rid(req), b);
      if (add) await net.publish('port', 'created', port.id);
      else
        await net.publish('port', 'deleted', port.id, { id: port.id, network_id: port.network_id, device_id: info.id });
      await net.publish('router', 'updated', info.id);
      return info;
    });
  }
  for (const [action, add] of [
    ['add_extraroutes', true],
    ['remove_extraroutes', false],
  ] as const) {
    app.put(
      `/v2.0/routers/:id/${action}`,
      op(`network:${action}`, { schema: { body: memberBody('router') } }),
      async (req) => {
        const a = auth(req);
        writer(a);
        const r = await net.routers.changeRoutes(a, rid(req), body(req.body, 'router').routes, add);
        await net.publish('router', 'updated', r.id);
        return { router: (await net.routers.views(a, [r]))[0] };
      },
    );
  }

  // Port forwardings of a floating IP.
  const pf = '/v2.0/floatingips/:id/port_forwardings';
  app.get(pf, op('network:get_floatingip_port_forwarding', { schema: { querystring: pagedQuery() } }), async (req) => {
    const items = (await net.floatingIps.listForwardings(auth(req), rid(req))).map((p) => net.floatingIps.pfView(p));
    return {
      port_forwardings: applyQuery(items, queryOf(req.query), { path: '', collection: 'port_forwardings', baseUrl })
        .items,
    };
  });
  app.post(
    pf,
    op('network:create_floatingip_port_forwarding', { schema: { body: memberBody('port_forwarding') } }),
    async (req, reply) => {
      const a = auth(req);
      writer(a);
      const p = await net.floatingIps.createForwarding(a, rid(req), body(req.body, 'port_forwarding'));
      await net.publish('floatingip', 'updated', rid(req));
      reply.code(201);
      return { port_forwarding: net.floatingIps.pfView(p) };
    },
  );
  app.get(`${pf}/:pf`, op('network:get_floatingip_port_forwarding'), async (req) => ({
    port_forwarding: net.floatingIps.pfView(
      await net.floatingIps.getForwarding(auth(req), rid(req), (req.params as { pf: string }).pf),
    ),
  }));
  app.put(
    `${pf}/:pf`,
    op('network:update_floatingip_port_forwarding', { schema: { body: memberBody('port_forwarding') } }),
    async (req) => {
      const a = auth(req);
      writer(a);
      const p = await net.floatingIps.updateForwarding(
        a,
        rid(req),
        (req.params as { pf: string }).pf,
        body(req.body, 'port_forwarding'),
      );
      await net.publish('floatingip', 'updated', rid(req));
      return { port_forwarding: net.floatingIps.pfView(p) };
    },
  );
  app.delete(`${pf}/:pf`, op('network:delete_floatingip_port_forwarding'), async (req, reply) => {
    const a = auth(req);
    writer(a);
    await net.floatingIps.deleteForwarding(a, rid(req), (req.params as { pf: string }).pf);
    await net.publish('floatingip', 'updated', rid(req));
    reply.code(204).send();
  });

  // Quotas: the project named in the URL is the target.
  const projectParam = (req: { params: unknown }) => ({ project_id: rid(req) });
  app.get('/v2.0/quotas', op('network:get_quotas'), async (req) => ({ quotas: await net.quotas.list(auth(req)) }));
  app.get('/v2.0/quotas/:id', op('network:get_quota', { target: projectParam }), async (req) => ({
    quota: await net.quotas.show(auth(req), rid(req)),
  }));
  app.get('/v2.0/quotas/:id/default', op('network:get_quota_default'), async (req) => {
    auth(req);
    return { quota: net.quotas.defaults() };
  });
  for (const path of ['/v2.0/quotas/:id/details', '/v2.0/quotas/:id/details.json']) {
    app.get(path, op('network:get_quota', { target: projectParam }), async (req) => ({
      quota: await net.quotas.details(auth(req), rid(req)),
    }));
  }
  app.put('/v2.0/quotas/:id', op('network:update_quota', { schema: { body: memberBody('quota') } }), async (req) => ({
    quota: await net.quotas.update(auth(req), rid(req), body(req.body, 'quota')),
  }));
  app.delete('/v2.0/quotas/:id', op('network:delete_quota'), async (req, reply) => {
    await net.quotas.reset(auth(req), rid(req));
    reply.code(204).send();
  });

  // IP availability, availability zones, floating IP pools.
  app.get(
    '/v2.0/network-ip-availabilities',
    op('network:get_network_ip_availability', { schema: { querystring: pagedQuery() } }),
    async (req) => {
      const items = await net.ipAvailability(auth(req));
      return {
        network_ip_availabilities: applyQuery(items, queryOf(req.query), { path: '', collection: '', baseUrl }).items,
      };
    },
  );
  app.get('/v2.0/network-ip-availabilities/:id', op('network:get_network_ip_availability'), async (req) => ({
    network_ip_availability: (await net.ipAvailability(auth(req), rid(req)))[0],
  }));
  app.get(
    '/v2.0/availability_zones',
    op('network:get_availability_zone', { schema: { querystring: pagedQuery() } }),
    async (req) => ({
      availability_zones: applyQuery(net.availabilityZones(), queryOf(req.query), { path: '', collection: '', baseUrl })
        .items,
    }),
  );
  app.get('/v2.0/floatingip_pools', op('network:get_floatingip_pool'), async (req) => {
    const a = auth(req);
    const nets = (await net.networks.list(a)).filter((n) => n.router_external);
    const pools: Obj[] = [];
    for (const n of nets) {
      for (const s of await net.subnets.list(a, { networkId: n.id })) {
        if (s.ip_version === 4)
          pools.push({
            subnet_id: s.id,
            subnet_name: s.name,
            network_id: n.id,
            tenant_id: n.project_id,
            project_id: n.project_id,
            cidr: s.cidr,
          });
      }
    }
    return { floatingip_pools: pools };
  });
}

/** Neutron v2.0 at /network. */
export const networkApi: ServiceApi = {
  type: 'network',
  name: 'neutron',
  prefix: '/network',
  endpointPath: '/network',
  errorFormat: 'neutron',
  routes(app, deps: AppDeps) {
    const net = deps.network;
    const baseUrl = deps.config.server.publicUrl;
    const v2 = `${baseUrl}/network/v2.0/`;
    app.get('/', { config: { public: true } }, async () => ({
      versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: v2, rel: 'self' }] }],
    }));
    app.get('/v2.0', { config: { public: true } }, async () => ({
      resources: [
        'subnet',
        'network',
        'port',
        'router',
        'floatingip',
        'security_group',
        'security_group_rule',
        'subnetpool',
        'quota',
      ].map((r) => ({
        name: r,
        collection: r === 'quota' ? 'quotas' : `${r.replaceAll('_', '-')}s`,
        links: [{ href: `${v2}${r.replaceAll('_', '-')}s`, rel: 'self' }],
      })),
    }));
    // The agent and scheduler extensions are listed only where the data plane runs agents (not user networking).
    const extensions = extensionsFor({ agents: net.runsAgents });
    app.get('/v2.0/extensions', op('network:get_extension'), async () => ({ extensions }));
    app.get('/v2.0/extensions/:alias', op('network:get_extension'), async (req) => {
      const alias = (req.params as { alias: string }).alias;
      const ext = extensions.find((e) => e.alias === alias);
      if (!ext) throw notFound(`Extension with alias ${alias} does not exist`, { code: 'ExtensionNotFound' });
      return { extension: ext };
    });
    resources(app, net, baseUrl);
    actions(app, net, baseUrl);
    agentRoutes(app, net, baseUrl);
    registerMetering(app, net, baseUrl);
  },
};
