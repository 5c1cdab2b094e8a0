// Row types of the networking service (Neutron). Booleans are 0/1, JSON is text, timestamps are ISO text.

/** Columns every Neutron resource with "standard attributes" has. */
interface StandardColumns {
  id: string;
  project_id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
  revision_number: number;
}

export interface NetNetworkRow extends StandardColumns {
  admin_state_up: number;
  status: string;
  shared: number;
  router_external: number;
  is_default: number;
  mtu: number;
  port_security_enabled: number;
  network_type: string;
  /** '' when the type has none (vxlan, local). */
  physical_network: string;
  /** 0 when the type has none (flat, local). */
  segmentation_id: number;
  availability_zone_hints: string;
  dns_domain: string;
}

export interface NetSubnetRow extends StandardColumns {
  network_id: string;
  ip_version: number;
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp: number;
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  subnetpool_id: string | null;
  dns_nameservers: string;
  host_routes: string;
  /** JSON list of {start, end}. */
  allocation_pools: string;
  service_types: string;
  dns_publish_fixed_ip: number;
}

export interface NetPortRow extends StandardColumns {
  network_id: string;
  mac_address: string;
  admin_state_up: number;
  status: string;
  device_id: string;
  device_owner: string;
  port_security_enabled: number;
  binding_host_id: string;
  binding_vif_type: string;
  binding_vnic_type: string;
  binding_profile: string;
  binding_vif_details: string;
  allowed_address_pairs: string;
  extra_dhcp_opts: string;
  dns_name: string;
  propagate_uplink_status: number;
}

/** One fixed IP: unique per (subnet, ip_key), which is what makes double allocation impossible. */
export interface NetIpAllocationRow {
  subnet_id: string;
  /** Sortable hex form of the address (8 digits IPv4, 32 IPv6). */
  ip_key: string;
  ip_address: string;
  port_id: string;
  network_id: string;
}

export interface NetPortSecurityGroupRow {
  port_id: string;
  security_group_id: string;
}

export interface NetRouterRow extends StandardColumns {
  admin_state_up: number;
  status: string;
  gw_network_id: string | null;
  gw_port_id: string | null;
  enable_snat: number;
  routes: string;
  distributed: number;
  ha: number;
  availability_zone_hints: string;
}

export interface NetFloatingIpRow extends StandardColumns {
  floating_network_id: string;
  floating_ip_address: string;
  floating_port_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
  status: string;
}

export interface NetPortForwardingRow {
  id: string;
  floatingip_id: string;
  internal_port_id: string;
  internal_ip_address: string;
  internal_port: number;
  internal_port_range_max: number;
  external_port: number;
  external_port_range_max: number;
  protocol: string;
  description: string;
}

export interface NetSecurityGroupRow extends StandardColumns {
  stateful: number;
}

export interface NetSecurityGroupRuleRow {
  id: string;
  project_id: string;
  security_group_id: string;
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  description: string;
  created_at: string;
  updated_at: string;
  revision_number: number;
}

/** One default security group per project (the primary key makes its lazy creation race-free). */
export interface NetDefaultSecurityGroupRow {
  project_id: string;
  security_group_id: string;
}

export interface NetSubnetPoolRow extends StandardColumns {
  ip_version: number;
  prefixes: string;
  default_prefixlen: number;
  min_prefixlen: number;
  max_prefixlen: number;
  shared: number;
  is_default: number;
  default_quota: number | null;
  address_scope_id: string | null;
}

export interface NetQuotaRow {
  project_id: string;
  resource: string;
  hard_limit: number;
}

export interface NetTagRow {
  resource_id: string;
  resource_type: string;
  tag: string;
}

export interface NetworkTables {
  net_networks: NetNetworkRow;
  net_subnets: NetSubnetRow;
  net_ports: NetPortRow;
  net_ip_allocations: NetIpAllocationRow;
  net_port_security_groups: NetPortSecurityGroupRow;
  net_routers: NetRouterRow;
  net_floating_ips: NetFloatingIpRow;
  net_port_forwardings: NetPortForwardingRow;
  net_security_groups: NetSecurityGroupRow;
  net_security_group_rules: NetSecurityGroupRuleRow;
  net_default_security_groups: NetDefaultSecurityGroupRow;
  net_subnet_pools: NetSubnetPoolRow;
  net_quotas: NetQuotaRow;
  net_tags: NetTagRow;
}
