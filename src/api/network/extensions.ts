// The API extensions Gureum's Neutron implements, by alias (what `openstack extension list` and Tempest look for).

const UPDATED = '2026-11-22T00:00:00-00:00';

const list: [alias: string, name: string, description: string][] = [
  ['agent', 'agent', 'The agent management extension.'],
  ['allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs'],
  ['availability_zone', 'Availability Zone', 'The availability zone extension.'],
  ['binding', 'Port Binding', 'Expose port bindings of a virtual port to external application'],
  ['dhcp_agent_scheduler', 'DHCP Agent Scheduler', 'Schedule networks among dhcp agents'],
  ['default-subnetpools', 'Default Subnetpools', 'Provides ability to mark and use a subnetpool as the default.'],
  ['external-net', 'Neutron external network', 'Adds external network attribute to network resource.'],
  [
    'ext-gw-mode',
    'Neutron L3 Configurable external gateway mode',
    'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway',
  ],
  ['extra_dhcp_opt', 'Neutron Extra DHCP options', 'Extra options configuration for DHCP.'],
  ['extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router'],
  [
    'extraroute-atomic',
    'Atomically add/remove extra routes',
    'Edit extra routes of a router on server side by atomically adding/removing extra routes',
  ],
  ['fip-port-details', 'Floating IP Port Details Extension', 'Add port_details attribute to Floating IP resource'],
  ['floating-ip-port-forwarding', 'Floating IP Port Forwarding', 'Provides port forwarding to floating IP'],
  ['floatingip-pools', 'Floating IP Pools Extension', 'Provides a floating IP pools API.'],
  [
    'ip-substring-filtering',
    'IP address substring filtering',
    'Provides IP address substring filtering when listing ports',
  ],
  ['l3_agent_scheduler', 'L3 Agent Scheduler', 'Schedule routers among l3 agents'],
  ['l3-ext-gw-multihoming', 'L3 Ext GW multihoming', 'Not multihomed: one gateway per router.'],
  ['metering', 'Neutron Metering', 'Neutron Metering extension.'],
  ['multi-provider', 'Multi Provider Network', 'Expose mapping of virtual networks to multiple physical networks'],
  ['net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'],
  ['net-mtu-writable', 'Network MTU (writable)', 'Provides a writable MTU attribute for a network resource.'],
  ['network-ip-availability', 'Network IP Availability', 'Provides IP availability data for each network and subnet.'],
  ['network_availability_zone', 'Network Availability Zone', 'Availability zone support for network.'],
  ['pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.'],
  ['port-security', 'Port Security', 'Provides port security'],
  ['project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.'],
  ['provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks'],
  ['quotas', 'Quota management support', 'Expose functions for quotas management per tenant'],
  ['quota_details', 'Quota details management support', 'Expose functions for quotas usage statistics per project'],
  [
    'router',
    'Neutron L3 Router',
    'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a ' +
      'NAT gateway.',
  ],
  ['router_availability_zone', 'Router Availability Zone', 'Availability zone support for router.'],
  ['security-group', 'security-group', 'The security groups extension.'],
  [
    'service-type',
    'Neutron Service Type Management',
    'API for retrieving service providers for Neutron advanced services',
  ],
  ['sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.'],
  ['standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes'],
  [
    'standard-attr-revisions',
    'Resource revision numbers',
    'This extension will display the revision number of neutron resources.',
  ],
  [
    'standard-attr-tag',
    'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, ' +
      'policy, subnetpool, port, security_group, floatingip',
    'Enables to set tag on resources with standard attribute.',
  ],
  [
    'standard-attr-timestamp',
    'Resource timestamps',
    'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
  ],
  ['stateful-security-group', 'Stateful security group', 'Indicates if the security group is stateful or not'],
  ['subnet_allocation', 'Subnet Allocation', 'Enables allocation of subnets from a subnet pool'],
  [
    'subnetpool-prefix-ops',
    'Subnet Pool Prefix Operations',
    'Provides support for adjusting the prefix list of subnet pools',
  ],
  ['tag', 'Tag support', 'Enables to set tag on resources.'],
  [
    'tag-ext',
    'Tag support for resources: subnet, subnetpool, port, router',
    'Extends tag support to more L2 and L3 resources.',
  ],
];

/** Extensions that exist only where the data plane runs Neutron's agents. */
const AGENT_EXTENSIONS = new Set(['agent', 'dhcp_agent_scheduler', 'l3_agent_scheduler']);
/** Listed but not served (one gateway per router, one segment per network). */
const NOT_SERVED = new Set(['l3-ext-gw-multihoming', 'multi-provider']);

/** Aliases served, for tempest.conf's [network-feature-enabled] api_extensions. */
export function extensionAliasesFor(o: { agents: boolean }): string[] {
  return list.map(([a]) => a).filter((a) => !NOT_SERVED.has(a) && (o.agents || !AGENT_EXTENSIONS.has(a)));
}

/** The extension documents, as GET /v2.0/extensions lists them. */
export function extensionsFor(o: { agents: boolean }) {
  const served = new Set(extensionAliasesFor(o));
  return list
    .filter(([alias]) => served.has(alias))
    .map(([alias, name, description]) => ({ alias, name, description, updated: UPDATED, links: [] }));
}
