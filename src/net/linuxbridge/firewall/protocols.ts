// Neutron's protocol names as IP protocol numbers (numbers, not /etc/protocols, so the output never depends on the
// host).

const BY_NAME: Record<string, number> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  icmp: 1,
  igmp: 2,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};

export const ICMP = 1;
export const ICMPV6 = 58;

/** Protocols whose first four transport bytes are source and destination ports (`th dport` matches them). */
export const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 33, 132, 136]);

/**
 * The protocol number of a rule, `'any'` for no protocol match, or null when it is not a protocol. An IPv6 rule
 * saying `icmp` means ICMPv6, as in Neutron; `any`, `0` and `hopopt` mean any protocol (Neutron treats 0 as any).
 */
export function protocolNumber(protocol: string | null, family: 4 | 6): number | 'any' | null {
  if (protocol === null || protocol === '') return 'any';
  const p = protocol.toLowerCase();
  if (p === 'any' || p === 'hopopt') return 'any';
  let n: number | undefined;
  if (/^\d{1,3}$/.test(p)) n = Number(p);
  else n = BY_NAME[p];
  if (n === undefined || n > 255) return null;
  if (n === 0) return 'any';
  if (family === 6 && n === ICMP) return ICMPV6;
  if (family === 4 && n === ICMPV6) return null;
  return n;
}
