// What the driver hands the security-group firewall (./firewall/): rules from the API's group view, and a stand-in
// that filters nothing for a driver built without a firewall (tests of the L2/L3 parts alone).
import type { Firewall, SgRule } from './firewall/index.js';

/** A firewall that filters nothing (until the nftables one is wired in). */
export const noopFirewall: Firewall = {
  async sync() {},
  async upsertPort() {},
  async removePort() {},
  async setGroupRules() {},
  async destroy() {},
};

/** The rules of a security group as the API shows them, in the firewall's shape. */
export function sgRulesOf(group: Record<string, unknown>): SgRule[] {
  const rules = Array.isArray(group.security_group_rules)
    ? (group.security_group_rules as Record<string, unknown>[])
    : [];
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const s = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
  return rules.map((r) => ({
    id: String(r.id),
    security_group_id: String(r.security_group_id ?? group.id),
    direction: r.direction === 'egress' ? 'egress' : 'ingress',
    ethertype: r.ethertype === 'IPv6' ? 'IPv6' : 'IPv4',
    protocol: s(r.protocol),
    port_range_min: num(r.port_range_min),
    port_range_max: num(r.port_range_max),
    remote_ip_prefix: s(r.remote_ip_prefix),
    remote_group_id: s(r.remote_group_id),
  }));
}
