import type { NetworkService } from './index.js';
import { serviceContext } from '../auth-context.js';

/** What the first-start topology consists of (ids of what exists after bootstrap). */
export interface NetworkBootstrapResult {
  publicNetworkId?: string;
  privateNetworkId?: string;
  routerId?: string;
}

/**
 * The devstack-like topology, idempotent: external flat network `public` (DHCP off, the floating IP range),
 * tenant network `private` in the admin project, and `router1` joining them. Each piece is made only if no
 * object of that name exists, so a deleted piece is not recreated on the next start unless all are gone.
 */
export async function bootstrapNetwork(net: NetworkService, adminProjectId: string): Promise<NetworkBootstrapResult> {
  const topo = net.options.topology;
  if (!topo) return {};
  // The network service's own user, owning what it creates in the admin project.
  const ctx = { ...serviceContext('gureum-network'), projectId: adminProjectId };
  const byName = async (name: string) =>
    (await net.networks.list(ctx, { name })).find((n) => n.project_id === adminProjectId);
  const marker = await net.networks.list(ctx);
  const done = marker.some((n) => n.name === 'public' || n.name === 'private');

  let pub = await byName('public');
  let priv = await byName('private');
  if (done && (!pub || !priv)) return { publicNetworkId: pub?.id, privateNetworkId: priv?.id };

  if (!pub) {
    pub = await net.networks.create(ctx, {
      name: 'public',
      'router:external': true,
      'provider:network_type': 'flat',
      'provider:physical_network': topo.physnet,
      description: 'External network: floating IPs and router gateways',
    });
    const pools =
      topo.publicPoolStart && topo.publicPoolEnd
        ? { allocation_pools: [{ start: topo.publicPoolStart, end: topo.publicPoolEnd }] }
        : {};
    await net.subnets.create(ctx, {
      name: 'public-subnet',
      network_id: pub.id,
      ip_version: 4,
      cidr: topo.publicCidr,
      enable_dhcp: false,
      ...pools,
    });
    await net.publish('network', 'created', pub.id);
  }
  if (!priv) {
    priv = await net.networks.create(ctx, { name: 'private', description: 'Tenant network of the admin project' });
    await net.subnets.create(ctx, {
      name: 'private-subnet',
      network_id: priv.id,
      ip_version: 4,
      cidr: topo.privateCidr,
      dns_nameservers: [],
    });
    await net.publish('network', 'created', priv.id);
  }
  let router = (await net.routers.list(ctx)).find((r) => r.name === 'router1' && r.project_id === adminProjectId);
  if (!router) {
    router = await net.routers.create(ctx, { name: 'router1', external_gateway_info: { network_id: pub.id } });
    const subnet = (await net.subnets.list(ctx, { networkId: priv.id }))[0];
    if (subnet) await net.routers.addInterface(ctx, router.id, { subnet_id: subnet.id });
    await net.publish('router', 'created', router.id);
  }
  return { publicNetworkId: pub.id, privateNetworkId: priv.id, routerId: router.id };
}
