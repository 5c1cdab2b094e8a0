// What the Linux bridge data plane reports as Neutron's four agents on this host: the L2 part (bridges and taps),
// DHCP (a dnsmasq per network), L3 (a namespace per router) and metadata (the namespace proxies). The figures are
// what runs now (live dnsmasq and proxy processes are checked), so an agent's `configurations` never describe
// intent alone.
import type { AgentReport } from '../driver.js';
import type { PhysnetMapping } from './l2.js';
import type { FloatingIpView, NetworkView, PortView, RouterView, SubnetView } from './model.js';
import { dhcpNamespace, routerNamespace } from './names.js';

export interface AgentInputs {
  host: string;
  physnets: Record<string, PhysnetMapping>;
  hostOnlyPhysnets: boolean;
  vxlanLocalIp: string | null;
  leaseSeconds: number;
  networks: Map<string, NetworkView>;
  subnets: Map<string, SubnetView>;
  ports: Map<string, PortView>;
  routers: Map<string, RouterView>;
  fips: Map<string, FloatingIpView>;
  /** The live dnsmasq of a network, if any. */
  dnsmasqPid: (networkId: string) => Promise<number | null>;
  /** The live metadata proxy of a namespace, if any; null when metadata is off. */
  proxyPid: ((ns: string) => Promise<number | null>) | null;
  metadataSocket: string | null;
}

export async function agentReports(i: AgentInputs): Promise<AgentReport[]> {
  const mapping = (key: 'bridge' | 'interface') =>
    Object.fromEntries(
      Object.entries(i.physnets)
        .filter(([, m]) => m[key])
        .map(([name, m]) => [name, m[key]]),
    );
  const ports = [...i.ports.values()];
  const onHost = ports.filter((p) => !p.deviceOwner.startsWith('compute:') || p.hostId === i.host);
  let dhcpNetworks = 0;
  for (const id of i.networks.keys()) if (await i.dnsmasqPid(id)) dhcpNetworks++;
  const dhcpPorts = ports.filter((p) => p.deviceOwner === 'network:dhcp').length;
  const routers = [...i.routers.values()];
  let proxies = 0;
  if (i.proxyPid) {
    for (const r of routers) if (await i.proxyPid(routerNamespace(r.id))) proxies++;
    for (const id of i.networks.keys()) if (await i.proxyPid(dhcpNamespace(id))) proxies++;
  }
  const reports: AgentReport[] = [
    {
      kind: 'l2',
      host: i.host,
      configurations: {
        bridge_mappings: mapping('bridge'),
        interface_mappings: mapping('interface'),
        host_only_physnets: i.hostOnlyPhysnets,
        tunnel_types: i.vxlanLocalIp ? ['vxlan'] : [],
        ...(i.vxlanLocalIp ? { tunneling_ip: i.vxlanLocalIp } : {}),
        l2_population: true,
        firewall_driver: 'nftables',
        devices: onHost.length,
      },
    },
    {
      kind: 'dhcp',
      host: i.host,
      configurations: {
        dhcp_driver: 'dnsmasq',
        dhcp_lease_duration: i.leaseSeconds,
        networks: dhcpNetworks,
        subnets: [...i.subnets.values()].filter((s) => s.enableDhcp).length,
        ports: dhcpPorts,
      },
    },
    {
      kind: 'l3',
      host: i.host,
      configurations: {
        agent_mode: 'legacy',
        routers: routers.length,
        ex_gw_ports: routers.filter((r) => r.gateway).length,
        interfaces: routers.reduce((n, r) => n + r.interfaces.length, 0),
        floating_ips: [...i.fips.values()].filter((f) => f.routerId && f.portId).length,
        handle_internal_only_routers: true,
      },
    },
  ];
  if (i.proxyPid && i.metadataSocket)
    reports.push({
      kind: 'metadata',
      host: i.host,
      configurations: { metadata_proxy_socket: i.metadataSocket, proxies },
    });
  return reports;
}
