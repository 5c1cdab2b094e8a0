// Neutron's secure-RBAC defaults (neutron/conf/policies/*.py), one rule per operation, keys "network:" + Neutron's
// rule name. Route-level checks run against the caller's own project; services/network checks each object's owner
// (and visibility: shared and external networks are readable by all). Tag writes are checked against the tagged
// object's project (Neutron's parent-resource target).
import { admin, anyone, projectMember, projectReader, type Rule } from './checks.js';

/** The Neutron resources with the five CRUD operations (the body key of one item). */
export const NETWORK_RESOURCES = [
  'network',
  'subnet',
  'port',
  'router',
  'floatingip',
  'security_group',
  'security_group_rule',
  'subnetpool',
  'metering_label',
  'metering_label_rule',
] as const;
export type NetworkResource = (typeof NETWORK_RESOURCES)[number];
type Crud = 'get' | 'create' | 'update' | 'delete';
export type NetworkCrudRule = `network:${Crud}_${NetworkResource}`;
export type NetworkTagRule = `network:${Crud}_${NetworkResource}s_tags`;

const crud = Object.fromEntries(
  NETWORK_RESOURCES.flatMap((r) => [
    [`network:get_${r}`, projectReader],
    [`network:create_${r}`, projectMember],
    [`network:update_${r}`, projectMember],
    [`network:delete_${r}`, projectMember],
    [`network:get_${r}s_tags`, projectReader],
    [`network:create_${r}s_tags`, projectMember],
    [`network:update_${r}s_tags`, projectMember],
    [`network:delete_${r}s_tags`, projectMember],
  ]),
) as Record<NetworkCrudRule | NetworkTagRule, Rule>;

export const networkRules = {
  ...crud,
  // Metering is an operator's tool: every operation is admin only (neutron/conf/policies/metering.py).
  'network:get_metering_label': admin,
  'network:create_metering_label': admin,
  'network:update_metering_label': admin,
  'network:delete_metering_label': admin,
  'network:get_metering_label_rule': admin,
  'network:create_metering_label_rule': admin,
  'network:update_metering_label_rule': admin,
  'network:delete_metering_label_rule': admin,
  // kept for the handlers' object-level checks
  'network:write': projectMember,
  'network:add_router_interface': projectMember,
  'network:remove_router_interface': projectMember,
  'network:add_extraroutes': projectMember,
  'network:remove_extraroutes': projectMember,
  'network:get_floatingip_port_forwarding': projectReader,
  'network:create_floatingip_port_forwarding': projectMember,
  'network:update_floatingip_port_forwarding': projectMember,
  'network:delete_floatingip_port_forwarding': projectMember,
  'network:get_quota': projectReader,
  'network:get_quotas': admin,
  'network:get_quota_default': anyone,
  'network:update_quota': admin,
  'network:delete_quota': admin,
  'network:get_network_ip_availability': admin,
  'network:get_agent': admin,
  // Neutron never refuses a list: it drops the items the caller may not get (get_agent is admin only), so a
  // non-admin's agent list is empty, not a 403 (Tempest test_list_agents_non_admin).
  'network:list_agents': anyone,
  'network:update_agent': admin,
  'network:delete_agent': admin,
  // The DHCP and L3 agent schedulers (neutron/conf/policies/agent.py): admin only.
  'network:create_dhcp-network': admin,
  'network:get_dhcp-networks': admin,
  'network:delete_dhcp-network': admin,
  'network:get_dhcp-agents': admin,
  'network:create_l3-router': admin,
  'network:get_l3-routers': admin,
  'network:delete_l3-router': admin,
  'network:get_l3-agents': admin,
  'network:get_service_provider': anyone,
  'network:get_availability_zone': projectReader,
  'network:get_floatingip_pool': projectReader,
  'network:get_extension': anyone,
} satisfies Record<string, Rule>;

/** The typed name of a CRUD rule of one resource. */
export const networkRule = (verb: Crud, r: NetworkResource): NetworkCrudRule => `network:${verb}_${r}`;
/** The typed name of a tag rule of one resource. */
export const networkTagRule = (verb: Crud, r: NetworkResource): NetworkTagRule => `network:${verb}_${r}s_tags`;
