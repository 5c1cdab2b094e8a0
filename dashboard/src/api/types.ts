// The fields of OpenStack resources the dashboard reads (Nova 2.79, Glance v2, Neutron v2.0, Keystone v3).

export interface Server {
  id: string;
  name: string;
  status: string;
  tenant_id: string;
  created: string;
  addresses: Record<string, { addr: string; version: number; 'OS-EXT-IPS:type'?: string }[]>;
  flavor: { original_name?: string; vcpus?: number; ram?: number; disk?: number; id?: string };
  image: { id: string } | '';
  key_name: string | null;
  locked?: boolean;
  metadata: Record<string, string>;
  'OS-EXT-STS:vm_state': string;
  'OS-EXT-STS:task_state': string | null;
  'OS-EXT-STS:power_state'?: number;
  'OS-EXT-SRV-ATTR:host'?: string | null;
  security_groups?: { name: string }[];
  fault?: { message: string };
}

export interface Flavor { id: string; name: string; vcpus: number; ram: number; disk: number; 'os-flavor-access:is_public'?: boolean }

export interface Image {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  size: number | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  owner: string;
  created_at: string;
  protected: boolean;
}

export interface Network {
  id: string;
  name: string;
  status: string;
  shared: boolean;
  subnets: string[];
  project_id: string;
  'router:external': boolean;
  'provider:network_type'?: string;
}

export interface Subnet { id: string; name: string; network_id: string; cidr: string; ip_version: number; gateway_ip: string | null; project_id: string }

export interface Router {
  id: string;
  name: string;
  status: string;
  project_id: string;
  external_gateway_info: { network_id: string; external_fixed_ips?: { ip_address: string }[] } | null;
}

export interface Port {
  id: string;
  name: string;
  network_id: string;
  device_id: string;
  device_owner: string;
  status: string;
  mac_address: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  project_id: string;
}

export interface FloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  status: string;
  project_id: string;
}

export interface SecurityGroupRule {
  id: string;
  direction: 'ingress' | 'egress';
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

export interface SecurityGroup { id: string; name: string; description: string; project_id: string; security_group_rules: SecurityGroupRule[] }

export interface Keypair { name: string; fingerprint: string; type?: string; public_key: string }

export interface Hypervisor {
  id: number | string;
  hypervisor_hostname: string;
  state: string;
  status: string;
  vcpus: number;
  vcpus_used: number;
  memory_mb: number;
  memory_mb_used: number;
  local_gb: number;
  local_gb_used: number;
  running_vms: number;
  hypervisor_type: string;
}

export type QuotaDetail = Record<string, { limit: number; in_use: number; reserved?: number }>;
export type NeutronQuotaDetail = Record<string, { limit: number; used: number; reserved?: number }>;
