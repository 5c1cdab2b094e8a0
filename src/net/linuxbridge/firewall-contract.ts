// The security-group engine the Linux bridge driver calls (built in ./firewall/ by its own module). Until that module
// lands, `noopFirewall` stands in: ports are wired and carry packets unfiltered.

export interface SgRule {
  id: string; security_group_id: string; direction: 'ingress' | 'egress'; ethertype: 'IPv4' | 'IPv6';
  protocol: string | null; port_range_min: number | null; port_range_max: number | null;
  remote_ip_prefix: string | null; remote_group_id: string | null;
}

export interface SgPort {
  id: string; tap: string; mac: string; fixedIps: string[];
  allowedAddressPairs: { ip_address: string; mac_address?: string }[]; securityGroups: string[];
  portSecurity: boolean; deviceOwner: string;
}

export interface Firewall {
  /** Whole state (start/resync), idempotent. */
  sync(ports: SgPort[], rules: SgRule[]): Promise<void>;
  /** A wired tap, or its groups/IPs changed. */
  upsertPort(port: SgPort): Promise<void>;
  removePort(portId: string): Promise<void>;
  setGroupRules(groupId: string, rules: SgRule[]): Promise<void>;
  /** Removes Gureum's nft table(s). */
  destroy(): Promise<void>;
}

/** A firewall that filters nothing (until the nftables one is wired in). */
export const noopFirewall: Firewall = {
  async sync() {}, async upsertPort() {}, async removePort() {}, async setGroupRules() {}, async destroy() {},
};

/** The rules of a security group as the API shows them, in the firewall's shape. */
export function sgRulesOf(group: Record<string, unknown>): SgRule[] {
  const rules = Array.isArray(group.security_group_rules) ? (group.security_group_rules as Record<string, unknown>[]) : [];
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const s = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
  return rules.map((r) => ({
    id: String(r.id), security_group_id: String(r.security_group_id ?? group.id), direction: r.direction === 'egress' ? 'egress' : 'ingress',
    ethertype: r.ethertype === 'IPv6' ? 'IPv6' : 'IPv4', protocol: s(r.protocol), port_range_min: num(r.port_range_min),
    port_range_max: num(r.port_range_max), remote_ip_prefix: s(r.remote_ip_prefix), remote_group_id: s(r.remote_group_id),
  }));
}
