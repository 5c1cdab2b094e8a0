import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import type { NetworkProxy } from '../../services/compute/network-proxy.js';
import { enforce } from '../../services/policy.js';
import { isAdmin } from '../../services/auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import { ctxOf } from '../http/service-api.js';
import { qInt, qStr, type Json } from './body.js';
import { tryParseIp } from '../../util/ipaddr.js';
import { FloatingIpCreateBody, SecurityGroupBody, SecurityGroupRuleBody } from './schemas/resources.js';
import { mv } from './microversion.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';

/** The last microversion of Nova's proxy APIs (network and image proxies answer 404 after it). */
export const MAX_PROXY_VERSION = '2.35';

/** 404 past 2.35, as Nova's proxies do. */
export function proxyOnly(req: FastifyRequest): void {
  if (!mv(req).atMost(MAX_PROXY_VERSION)) throw notFound('The resource could not be found.');
}

/** A server action handler (body already picked by its action name). */
export type ActionHandler = (req: FastifyRequest, serverId: string, arg: unknown) => Promise<void>;

/** The name/description pair Nova's os-security-groups create and update require. */
const groupBody = (body: unknown): { name: string; description: string } => (body as SecurityGroupBody).security_group;

/**
 * os-security-groups, os-security-group-rules, servers/{id}/os-security-groups, os-floating-ips(-pools), os-networks,
 * os-tenant-networks.
 */
export function networkProxyRoutes(app: FastifyInstance, compute: ComputeService, proxy: NetworkProxy): void {
  const auth = (req: FastifyRequest) => ctxOf(req).auth;
  const id = (req: FastifyRequest) => (req.params as { id: string }).id;
  const reading = (req: FastifyRequest) => {
    proxyOnly(req);
    const a = auth(req);
    enforce(a, 'compute:read', { project_id: a.projectId ?? null });
    return a;
  };
  const writing = (req: FastifyRequest) => {
    proxyOnly(req);
    const a = auth(req);
    enforce(a, 'compute:write', { project_id: a.projectId ?? null });
    return a;
  };

  // security groups
  app.get(
    '/os-security-groups',
    op('compute:os-security-groups:list', { schema: { querystring: pagedQuery() } }),
    async (req) => {
      const a = reading(req);
      const q = req.query as Json;
      return {
        security_groups: await proxy.listGroups(a, {
          allTenants: qStr(q, 'all_tenants') !== undefined,
          limit: qInt(q, 'limit'),
          offset: qInt(q, 'offset'),
        }),
      };
    },
  );
  app.get('/os-security-groups/:id', op('compute:os-security-groups:show'), async (req) => ({
    security_group: await proxy.getGroup(reading(req), id(req)),
  }));
  app.post(
    '/os-security-groups',
    op('compute:os-security-groups:create', { schema: { body: SecurityGroupBody } }),
    async (req) => {
      const a = writing(req);
      const { name, description } = groupBody(req.body);
      return { security_group: await proxy.createGroup(a, name, description) };
    },
  );
  app.put(
    '/os-security-groups/:id',
    op('compute:os-security-groups:update', { schema: { body: SecurityGroupBody } }),
    async (req) => {
      const a = writing(req);
      const { name, description } = groupBody(req.body);
      return { security_group: await proxy.updateGroup(a, id(req), name, description) };
    },
  );
  app.delete('/os-security-groups/:id', op('compute:os-security-groups:delete'), async (req, reply) => {
    await proxy.deleteGroup(writing(req), id(req));
    return reply.code(202).send();
  });
  app.post(
    '/os-security-group-rules',
    op('compute:os-security-groups:rule:create', { schema: { body: SecurityGroupRuleBody } }),
    async (req) => {
      const a = writing(req);
      const r = (req.body as SecurityGroupRuleBody).security_group_rule;
      return { security_group_rule: await proxy.createRule(a, { ...r, parent_group_id: String(r.parent_group_id) }) };
    },
  );
  app.delete('/os-security-group-rules/:id', op('compute:os-security-groups:rule:delete'), async (req, reply) => {
    await proxy.deleteRule(writing(req), id(req));
    return reply.code(202).send();
  });
  app.get('/servers/:id/os-security-groups', op('compute:os-security-groups:list-server'), async (req) => {
    const a = auth(req);
    const inst = await compute.servers.get(a, id(req));
    return { security_groups: await proxy.serverGroups(a, inst.id) };
  });

  // floating IPs
  app.get('/os-floating-ips', op('compute:os-floating-ips:list'), async (req) => ({
    floating_ips: await proxy.listFloatingIps(reading(req)),
  }));
  app.get('/os-floating-ips/:id', op('compute:os-floating-ips:show'), async (req) => ({
    floating_ip: await proxy.getFloatingIp(reading(req), id(req)),
  }));
  app.post(
    '/os-floating-ips',
    op('compute:os-floating-ips:create', { schema: { body: FloatingIpCreateBody } }),
    async (req) => {
      const a = writing(req);
      return {
        floating_ip: await proxy.allocateFloatingIp(a, (req.body as FloatingIpCreateBody | undefined)?.pool ?? null),
      };
    },
  );
  app.delete('/os-floating-ips/:id', op('compute:os-floating-ips:delete'), async (req, reply) => {
    await proxy.deleteFloatingIp(writing(req), id(req));
    return reply.code(202).send();
  });
  app.get('/os-floating-ip-pools', op('compute:os-floating-ip-pools'), async (req) => {
    reading(req);
    return { floating_ip_pools: (await proxy.pools()).map((name) => ({ name })) };
  });

  // networks (read-only views of the network service's networks)
  const netView = (n: { id: string; name: string }, admin: boolean) => {
    const out: Json = {
      id: n.id,
      cidr: null,
      netmask: null,
      gateway: null,
      broadcast: null,
      dns1: null,
      dns2: null,
      cidr_v6: null,
      gateway_v6: null,
      label: n.name,
      netmask_v6: null,
    };
    if (admin) {
      for (const k of [
        'created_at',
        'updated_at',
        'deleted_at',
        'deleted',
        'injected',
        'bridge',
        'vlan',
        'vpn_public_address',
        'vpn_public_port',
        'vpn_private_address',
        'dhcp_start',
        'project_id',
        'host',
        'bridge_interface',
        'multi_host',
        'priority',
        'rxtx_base',
        'mtu',
        'dhcp_server',
        'enable_dhcp',
        'share_address',
      ])
        out[k] = null;
    }
    return out;
  };
  app.get('/os-networks', op('compute:os-networks:list'), async (req) => {
    const a = reading(req);
    return { networks: (await proxy.networks(a)).map((n) => netView(n, isAdmin(a))) };
  });
  app.get('/os-networks/:id', op('compute:os-networks:show'), async (req) => {
    const a = reading(req);
    return { network: netView(await proxy.network(a, id(req)), isAdmin(a)) };
  });
  // Nova reports "None" as the cidr of every Neutron network here, for compatibility with what it always returned.
  const tenantView = (n: { id: string; name: string }) => ({ id: n.id, cidr: 'None', label: n.name });
  app.get('/os-tenant-networks', op('compute:os-tenant-networks:list'), async (req) => ({
    networks: (await proxy.networks(reading(req))).map(tenantView),
  }));
  app.get('/os-tenant-networks/:id', op('compute:os-tenant-networks:show'), async (req) => ({
    network: tenantView(await proxy.network(reading(req), id(req))),
  }));
}

/** addSecurityGroup / removeSecurityGroup / addFloatingIp / removeFloatingIp server actions. */
export function networkProxyActions(compute: ComputeService, proxy: NetworkProxy): Record<string, ActionHandler> {
  // The action's argument has passed its schema (schemas/actions.ts); what is left is Nova's rules on the values.
  const nameOf = (arg: unknown): string => {
    const { name } = arg as { name: string };
    if (name.trim() === '') throw badRequest('Security group name cannot be empty');
    return name;
  };
  const addressOf = (arg: unknown, key: 'address' | 'fixed_address'): string | null => {
    const v = (arg as { address: string; fixed_address?: string })[key];
    if (v === undefined) return null;
    if (!tryParseIp(v))
      throw badRequest(`Invalid input for field/attribute ${key}. Value: ${v}. '${v}' is not a 'ip-address'`);
    return v;
  };
  const syncGroups = async (instanceId: string) =>
    compute.servers.setSecurityGroupNames(instanceId, await proxy.serverGroupNames(instanceId));
  const floatingVersion = (req: FastifyRequest) => {
    if (!mv(req).atMost('2.43')) throw notFound('The resource could not be found.');
  };
  return {
    addSecurityGroup: async (req, sid, arg) => {
      const a = ctxOf(req).auth;
      const name = nameOf(arg);
      const inst = await compute.servers.get(a, sid);
      enforce(a, 'compute:write', { project_id: inst.project_id });
      await proxy.addToInstance(a, inst.id, name);
      await syncGroups(inst.id);
    },
    removeSecurityGroup: async (req, sid, arg) => {
      const a = ctxOf(req).auth;
      const name = nameOf(arg);
      const inst = await compute.servers.get(a, sid);
      enforce(a, 'compute:write', { project_id: inst.project_id });
      await proxy.removeFromInstance(a, inst.id, name);
      await syncGroups(inst.id);
    },
    addFloatingIp: async (req, sid, arg) => {
      floatingVersion(req);
      const a = ctxOf(req).auth;
      const address = addressOf(arg, 'address')!;
      const fixed = addressOf(arg, 'fixed_address');
      const inst = await compute.servers.get(a, sid);
      enforce(a, 'compute:write', { project_id: inst.project_id });
      await proxy.associate(a, inst.id, address, fixed);
    },
    removeFloatingIp: async (req, sid, arg) => {
      floatingVersion(req);
      const a = ctxOf(req).auth;
      const address = addressOf(arg, 'address')!;
      const inst = await compute.servers.get(a, sid);
      enforce(a, 'compute:write', { project_id: inst.project_id });
      await proxy.disassociate(a, inst.id, address);
    },
  };
}
