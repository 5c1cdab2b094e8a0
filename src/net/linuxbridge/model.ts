// Typed views of the objects a NetEvent carries (the admin API view), read once at the edge of the driver.
import type { MeteringLabelPlan } from './metering/index.js';
type Obj = Record<string, unknown>;

export interface NetworkView {
  id: string;
  mtu: number;
  type: string;
  physnet: string | null;
  segmentationId: number | null;
  external: boolean;
}

export interface SubnetView {
  id: string;
  networkId: string;
  cidr: string;
  ipVersion: 4 | 6;
  gatewayIp: string | null;
  enableDhcp: boolean;
  dnsNameservers: string[];
  hostRoutes: { destination: string; nexthop: string }[];
  ipv6AddressMode: string | null;
  ipv6RaMode: string | null;
}

export interface PortView {
  id: string;
  networkId: string;
  mac: string;
  fixedIps: { subnetId: string; ip: string }[];
  deviceOwner: string;
  deviceId: string;
  hostId: string;
  adminUp: boolean;
  name: string;
  dnsName: string;
  securityGroups: string[];
  allowedAddressPairs: { ip_address: string; mac_address?: string }[];
  portSecurity: boolean;
}

export interface RouterView {
  id: string;
  adminUp: boolean;
  gateway: { networkId: string; enableSnat: boolean; ips: { subnetId: string; ip: string }[] } | null;
  routes: { destination: string; nexthop: string }[];
  interfaces: PortView[];
  /** Metering labels of the router's project (and shared ones): counted in its namespace (metering/). */
  metering: MeteringLabelPlan[];
}

export interface FloatingIpView {
  id: string;
  address: string;
  networkId: string;
  routerId: string | null;
  portId: string | null;
  fixedIp: string | null;
  forwardings: { protocol: string; internalIp: string; internalPort: number; externalPort: number }[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const ips = (v: unknown): { subnetId: string; ip: string }[] =>
  arr(v).map((x) => ({ subnetId: str(x.subnet_id), ip: str(x.ip_address) }));

export function networkView(o: Obj): NetworkView {
  const seg = o['provider:segmentation_id'];
  return {
    id: str(o.id),
    mtu: typeof o.mtu === 'number' && o.mtu > 0 ? o.mtu : 1500,
    type: str(o['provider:network_type']) || 'local',
    physnet: str(o['provider:physical_network']) || null,
    segmentationId: typeof seg === 'number' ? seg : null,
    external: o['router:external'] === true,
  };
}

export function subnetView(o: Obj): SubnetView {
  return {
    id: str(o.id),
    networkId: str(o.network_id),
    cidr: str(o.cidr),
    ipVersion: o.ip_version === 6 ? 6 : 4,
    gatewayIp: str(o.gateway_ip) || null,
    enableDhcp: o.enable_dhcp !== false,
    dnsNameservers: (Array.isArray(o.dns_nameservers) ? o.dns_nameservers : []).map(String),
    hostRoutes: arr(o.host_routes).map((r) => ({ destination: str(r.destination), nexthop: str(r.nexthop) })),
    ipv6AddressMode: str(o.ipv6_address_mode) || null,
    ipv6RaMode: str(o.ipv6_ra_mode) || null,
  };
}

export function portView(o: Obj): PortView {
  return {
    id: str(o.id),
    networkId: str(o.network_id),
    mac: str(o.mac_address),
    fixedIps: ips(o.fixed_ips),
    deviceOwner: str(o.device_owner),
    deviceId: str(o.device_id),
    hostId: str(o['binding:host_id']),
    adminUp: o.admin_state_up !== false,
    name: str(o.name),
    dnsName: str(o.dns_name),
    securityGroups: (Array.isArray(o.security_groups) ? o.security_groups : []).map(String),
    allowedAddressPairs: arr(o.allowed_address_pairs).map((p) => ({
      ip_address: str(p.ip_address),
      ...(p.mac_address ? { mac_address: str(p.mac_address) } : {}),
    })),
    portSecurity: o.port_security_enabled !== false,
  };
}

export function routerView(o: Obj): RouterView {
  const g = o.external_gateway_info as Obj | null | undefined;
  return {
    id: str(o.id),
    adminUp: o.admin_state_up !== false,
    gateway:
      g && str(g.network_id)
        ? { networkId: str(g.network_id), enableSnat: g.enable_snat !== false, ips: ips(g.external_fixed_ips) }
        : null,
    routes: arr(o.routes).map((r) => ({ destination: str(r.destination), nexthop: str(r.nexthop) })),
    interfaces: arr(o.interfaces).map(portView),
    metering: arr(o.metering_labels).map((l) => ({
      id: str(l.id),
      rules: arr(l.rules).map((r) => ({
        direction: str(r.direction),
        source: str(r.source) || null,
        destination: str(r.destination) || null,
        excluded: r.excluded === true,
      })),
    })),
  };
}

export function floatingIpView(o: Obj): FloatingIpView {
  return {
    id: str(o.id),
    address: str(o.floating_ip_address),
    networkId: str(o.floating_network_id),
    routerId: str(o.router_id) || null,
    portId: str(o.port_id) || null,
    fixedIp: str(o.fixed_ip_address) || null,
    forwardings: arr(o.port_forwardings).map((p) => ({
      protocol: str(p.protocol) || 'tcp',
      internalIp: str(p.internal_ip_address),
      internalPort: Number(p.internal_port),
      externalPort: Number(p.external_port),
    })),
  };
}

/** The prefix length of a CIDR ("10.0.0.0/24" → 24). */
export const prefixLen = (cidr: string): number => Number(cidr.split('/')[1] ?? 32);
