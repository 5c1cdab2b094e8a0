// The firewall's inputs and its interface, as the Linux bridge driver sees them (Neutron's field names).

/** One security-group rule, as Neutron shows it. */
export interface SgRule {
  id: string;
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  /** A name (tcp, icmp, ...), a number as text, or null for any. */
  protocol: string | null;
  /** Lowest port; for ICMP the type (as Neutron overloads it). */
  port_range_min: number | null;
  /** Highest port; for ICMP the code. */
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

/** One port wired on this host: its tap and what it may send and receive. */
export interface SgPort {
  id: string;
  /** The host-side interface on the bridge (tap or veth). */
  tap: string;
  /**
   * The bridge the tap is a port of. In the inet hooks bridged traffic shows the bridge as its interface: the
   * dispatch by port number is keyed by bridge too, so another cloud's firewall on this host (which numbers its
   * ports from 1 as well, in the same packet mark) never applies its rules to this cloud's packets.
   */
  bridge: string;
  mac: string;
  /** Fixed IP addresses (no prefix). */
  fixedIps: string[];
  allowedAddressPairs: { ip_address: string; mac_address?: string }[];
  securityGroups: string[];
  /** port_security_enabled: false lifts anti-spoofing and security groups for this port. */
  portSecurity: boolean;
  /** Ports owned by `network:*` (router, DHCP) are not filtered, as in Neutron. */
  deviceOwner: string;
}

/** Security groups and anti-spoofing for the ports on this host. Every call is atomic: all of it or nothing. */
export interface Firewall {
  /** Makes the whole state true (at start or on resync); idempotent. */
  sync(ports: SgPort[], rules: SgRule[]): Promise<void>;
  /** A tap was wired, or the port's groups, addresses or port security changed. */
  upsertPort(port: SgPort): Promise<void>;
  /** The port left this host (unknown ids are ignored). */
  removePort(portId: string): Promise<void>;
  /** Replaces the rules of one group (an empty list after the group's deletion). */
  setGroupRules(groupId: string, rules: SgRule[]): Promise<void>;
  /** Removes Gureum's nft tables. */
  destroy(): Promise<void>;
}
