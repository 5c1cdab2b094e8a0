// Neutron's agents API and its scheduler extensions: /v2.0/agents (list, show, update, delete),
// /agents/{id}/dhcp-networks and /networks/{id}/dhcp-agents (dhcp_agent_scheduler), /agents/{id}/l3-routers and
// /routers/{id}/l3-agents (l3_agent_scheduler), and /v2.0/service-providers.
import type { FastifyInstance } from 'fastify';
import { ctxOf } from '../http/service-api.js';
import type { NetworkService } from '../../services/network/index.js';
import { badRequest } from '../../errors.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';
import { applyQuery, queryOf } from './query.js';

type Obj = Record<string, unknown>;

const idBody = (key: string) => ({
  type: 'object',
  required: [key],
  properties: { [key]: { type: 'string', minLength: 1 } },
});
const agentBody = { type: 'object', required: ['agent'], properties: { agent: { type: 'object' } } };

export function agentRoutes(app: FastifyInstance, net: NetworkService, baseUrl: string): void {
  const auth = (req: Parameters<typeof ctxOf>[0]) => ctxOf(req).auth;
  const params = (req: { params: unknown }) => req.params as Record<string, string>;
  const listed = (items: Obj[], q: unknown) =>
    applyQuery(items, queryOf(q), { path: '', collection: '', baseUrl }).items;

  app.get('/v2.0/agents', op('network:list_agents', { schema: { querystring: pagedQuery() } }), async (req) => ({
    agents: listed(await net.agents.list(auth(req)), req.query),
  }));
  app.get('/v2.0/agents/:id', op('network:get_agent'), async (req) => ({
    agent: await net.agents.show(params(req).id!),
  }));
  app.put('/v2.0/agents/:id', op('network:update_agent', { schema: { body: agentBody } }), async (req) => {
    const b = (req.body as { agent: Obj }).agent;
    if (Array.isArray(b)) throw badRequest('Resource body required: expected "agent".');
    return { agent: await net.agents.update(params(req).id!, b) };
  });
  app.delete('/v2.0/agents/:id', op('network:delete_agent'), async (req, reply) => {
    await net.agents.delete(params(req).id!);
    reply.code(204).send();
  });

  // dhcp_agent_scheduler
  app.get('/v2.0/agents/:id/dhcp-networks', op('network:get_dhcp-networks'), async (req) => {
    const a = auth(req);
    const ids = await net.agents.networksOf(params(req).id!);
    const rows = ids.length ? await net.networks.list(a, { ids }) : [];
    return { networks: await net.networks.views(a, rows) };
  });
  app.post(
    '/v2.0/agents/:id/dhcp-networks',
    op('network:create_dhcp-network', { schema: { body: idBody('network_id') } }),
    async (req, reply) => {
      const networkId = (req.body as { network_id: string }).network_id;
      await net.networks.get(auth(req), networkId);
      await net.agents.addNetwork(params(req).id!, networkId);
      reply.code(201).send();
    },
  );
  app.delete('/v2.0/agents/:id/dhcp-networks/:network_id', op('network:delete_dhcp-network'), async (req, reply) => {
    await net.agents.removeNetwork(params(req).id!, params(req).network_id!);
    reply.code(204).send();
  });
  app.get('/v2.0/networks/:id/dhcp-agents', op('network:get_dhcp-agents'), async (req) => {
    await net.networks.get(auth(req), params(req).id!);
    return { agents: await net.agents.dhcpAgentsOf(params(req).id!) };
  });

  // l3_agent_scheduler
  app.get('/v2.0/agents/:id/l3-routers', op('network:get_l3-routers'), async (req) => {
    const a = auth(req);
    const ids = await net.agents.routersOf(params(req).id!);
    const rows = ids.length ? await net.routers.list(a, { ids }) : [];
    return { routers: await net.routers.views(a, rows) };
  });
  app.post(
    '/v2.0/agents/:id/l3-routers',
    op('network:create_l3-router', { schema: { body: idBody('router_id') } }),
    async (req, reply) => {
      const routerId = (req.body as { router_id: string }).router_id;
      await net.routers.get(auth(req), routerId);
      await net.agents.addRouter(params(req).id!, routerId);
      reply.code(201).send();
    },
  );
  app.delete('/v2.0/agents/:id/l3-routers/:router_id', op('network:delete_l3-router'), async (req, reply) => {
    await net.agents.removeRouter(params(req).id!, params(req).router_id!);
    reply.code(204).send();
  });
  app.get('/v2.0/routers/:id/l3-agents', op('network:get_l3-agents'), async (req) => {
    await net.routers.get(auth(req), params(req).id!);
    return { agents: await net.agents.l3AgentsOf(params(req).id!) };
  });

  // Service providers: routers are realized by this host's L3 agent when the data plane runs one.
  app.get('/v2.0/service-providers', op('network:get_service_provider'), async () => ({
    service_providers: net.runsAgents ? [{ service_type: 'L3_ROUTER_NAT', name: 'single_node', default: true }] : [],
  }));
}
