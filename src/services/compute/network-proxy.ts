// NetworkProxy: Nova's proxy APIs over the network service, one front for the routes. The security-group proxies
// live in network-proxy/security-groups.ts, the floating IP proxies in network-proxy/floating-ips.ts; the read-only
// os-networks views are here.
import { notFound } from '../../errors.js';
import type { AuthContext } from '../auth-context.js';
import type { NetworkService } from '../network/index.js';
import { FloatingIpProxy } from './network-proxy/floating-ips.js';
import { SecurityGroupProxy } from './network-proxy/security-groups.js';

export type { NovaFloatingIp } from './network-proxy/floating-ips.js';
export type { NovaGroup, NovaRule, NovaRuleRequest } from './network-proxy/security-groups.js';

/**
 * Nova's proxy APIs over the network service (os-security-groups, os-security-group-rules, server security groups,
 * os-floating-ips, os-networks): Nova's shapes, validations and status codes, with Neutron doing the work.
 */
export class NetworkProxy {
  private readonly groups: SecurityGroupProxy;
  private readonly fips: FloatingIpProxy;

  constructor(private readonly net: NetworkService) {
    this.groups = new SecurityGroupProxy(net);
    this.fips = new FloatingIpProxy(net);
  }

  // --- security groups
  listGroups: SecurityGroupProxy['listGroups'] = (...a) => this.groups.listGroups(...a);
  getGroup: SecurityGroupProxy['getGroup'] = (...a) => this.groups.getGroup(...a);
  createGroup: SecurityGroupProxy['createGroup'] = (...a) => this.groups.createGroup(...a);
  updateGroup: SecurityGroupProxy['updateGroup'] = (...a) => this.groups.updateGroup(...a);
  deleteGroup: SecurityGroupProxy['deleteGroup'] = (...a) => this.groups.deleteGroup(...a);
  createRule: SecurityGroupProxy['createRule'] = (...a) => this.groups.createRule(...a);
  deleteRule: SecurityGroupProxy['deleteRule'] = (...a) => this.groups.deleteRule(...a);
  serverGroups: SecurityGroupProxy['serverGroups'] = (...a) => this.groups.serverGroups(...a);
  serverGroupNames: SecurityGroupProxy['serverGroupNames'] = (...a) => this.groups.serverGroupNames(...a);
  addToInstance: SecurityGroupProxy['addToInstance'] = (...a) => this.groups.addToInstance(...a);
  removeFromInstance: SecurityGroupProxy['removeFromInstance'] = (...a) => this.groups.removeFromInstance(...a);

  // --- floating IPs
  listFloatingIps: FloatingIpProxy['listFloatingIps'] = (...a) => this.fips.listFloatingIps(...a);
  getFloatingIp: FloatingIpProxy['getFloatingIp'] = (...a) => this.fips.getFloatingIp(...a);
  pools: FloatingIpProxy['pools'] = (...a) => this.fips.pools(...a);
  allocateFloatingIp: FloatingIpProxy['allocateFloatingIp'] = (...a) => this.fips.allocateFloatingIp(...a);
  deleteFloatingIp: FloatingIpProxy['deleteFloatingIp'] = (...a) => this.fips.deleteFloatingIp(...a);
  associate: FloatingIpProxy['associate'] = (...a) => this.fips.associate(...a);
  disassociate: FloatingIpProxy['disassociate'] = (...a) => this.fips.disassociate(...a);

  // --- networks (read-only views)

  async networks(a: AuthContext): Promise<{ id: string; name: string }[]> {
    return (await this.net.networks.list(a)).map((n) => ({ id: n.id, name: n.name }));
  }

  async network(a: AuthContext, id: string): Promise<{ id: string; name: string }> {
    const n = await this.net.networks.get(a, id).catch(() => {
      throw notFound('Network not found', { code: 'NetworkNotFound' });
    });
    return { id: n.id, name: n.name };
  }
}
