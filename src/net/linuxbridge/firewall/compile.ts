// Compiles security groups and port anti-spoofing to nft batch text. Pure: no I/O, no state.
//
// Layout (two tables of one name, because a table belongs to one family):
//  - bridge <t>: per-port chains keyed by tap name. Frames from a filtered tap go through `from_N` (anti-spoofing:
//    its MAC, fixed IPs and allowed address pairs only; no DHCP server answers or router advertisements) which
//    also writes the port's number N into the packet mark's low half; frames to a filtered tap get N in the high
//    half in `to_N`. The bridge family has no conntrack here, so filtering by rule happens in the inet table.
//  - inet <t>: bridged IP reaches the forward hook (bridge netfilter), where conntrack works but the interfaces are
//    the bridge's, hence the marks. Base chain `egress` (priority 0) sends a packet to its sender's `egress_N`,
//    base chain `ingress` (priority 1) to its receiver's `ingress_N`. Each port chain accepts established/related,
//    drops invalid, then jumps to its groups' chains `sg_<g>_out` / `sg_<g>_in`, whose rules `accept`, and drops
//    what none accepted. Because an accept ends only its own base chain, a packet must pass both.
//  - Remote groups are the named sets `rg4_<g>` / `rg6_<g>` of member addresses: a rule change rewrites only
//    its group's chain, a membership change only adds or deletes set elements, whatever the sizes.
import { formatIp, tryParseCidr, tryParseIp, eui64, normalizeMac } from '../../../util/ipaddr.js';
import { ICMP, ICMPV6, PORT_PROTOCOLS, protocolNumber } from './protocols.js';
import type { SgPort, SgRule } from './types.js';

/** Highest port number: 15 bits per half of the 32-bit mark. */
export const MAX_PORT_INDEX = 0x7fff;
const FROM_MASK = 0x7fff;
const TO_MASK = 0x7fff0000;
const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** True when the table name is safe to splice into nft text. */
export function validTableName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]{0,30}$/.test(name);
}

/** A group id as an nft identifier fragment (uuid without dashes). */
export function groupKey(groupId: string): string {
  return groupId.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export const names = {
  groupIn: (g: string) => `sg_${groupKey(g)}_in`,
  groupOut: (g: string) => `sg_${groupKey(g)}_out`,
  remoteSet: (g: string, family: 4 | 6) => `rg${family}_${groupKey(g)}`,
  from: (idx: number) => `from_${idx}`,
  to: (idx: number) => `to_${idx}`,
  egress: (idx: number) => `egress_${idx}`,
  ingress: (idx: number) => `ingress_${idx}`,
};

const quote = (s: string): string => `"${s.replace(/[^A-Za-z0-9_.:\-/ ]/g, '')}"`;

/** Whether the firewall filters a port at all (port security on, not a router or DHCP port). */
export function isFiltered(port: SgPort): boolean {
  return port.portSecurity && !port.deviceOwner.startsWith('network:');
}

/** The match text of one rule followed by `accept`, or null with the reason when it can never match. */
export function compileRule(rule: SgRule): { text: string } | { skip: string } {
  const family = rule.ethertype === 'IPv6' ? 6 : 4;
  const parts: string[] = [`meta nfproto ${family === 4 ? 'ipv4' : 'ipv6'}`];
  const proto = protocolNumber(rule.protocol, family);
  if (proto === null) return { skip: `protocol ${String(rule.protocol)} does not apply to ${rule.ethertype}` };
  if (proto !== 'any') {
    parts.push(`meta l4proto ${proto}`);
    const min = rule.port_range_min;
    const max = rule.port_range_max;
    if (proto === ICMP || proto === ICMPV6) {
      // Neutron overloads the port range for ICMP: min is the type, max the code.
      const kw = proto === ICMP ? 'icmp' : 'icmpv6';
      if (min !== null) {
        parts.push(`${kw} type ${min}`);
        if (max !== null) parts.push(`${kw} code ${max}`);
      }
    } else if (PORT_PROTOCOLS.has(proto) && (min !== null || max !== null)) {
      const lo = min ?? 1;
      const hi = max ?? min ?? 65535;
      if (lo > hi) return { skip: `port range ${lo}-${hi} is empty` };
      if (!(lo === 1 && hi === 65535)) parts.push(`th dport ${lo === hi ? lo : `${lo}-${hi}`}`);
    }
  }
  const ip = family === 4 ? 'ip' : 'ip6';
  const side = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  if (rule.remote_ip_prefix) {
    const c = tryParseCidr(rule.remote_ip_prefix);
    if (!c) return { skip: `remote_ip_prefix ${rule.remote_ip_prefix} is not a network` };
    if (c.version !== family) return { skip: `remote_ip_prefix ${rule.remote_ip_prefix} is not ${rule.ethertype}` };
    if (c.prefixlen > 0) parts.push(`${ip} ${side} ${formatPrefix(c.version, c.network, c.prefixlen)}`);
  } else if (rule.remote_group_id) {
    parts.push(`${ip} ${side} @${names.remoteSet(rule.remote_group_id, family)}`);
  }
  parts.push(`accept comment ${quote(`rule ${rule.id}`)}`);
  return { text: parts.join(' ') };
}

function formatPrefix(version: 4 | 6, network: bigint, len: number): string {
  const addr = formatIp(version, network);
  return len === (version === 4 ? 32 : 128) ? addr : `${addr}/${len}`;
}

interface Net { version: 4 | 6; network: bigint; len: number }

function parseNet(s: string): Net | null {
  const c = tryParseCidr(s);
  return c ? { version: c.version, network: c.network, len: c.prefixlen } : null;
}

/** Networks as nft set text, without any network inside another (nft refuses overlapping intervals). */
function netSet(nets: Net[]): string {
  const sorted = [...nets].sort((a, b) => a.len - b.len);
  const kept: Net[] = [];
  for (const n of sorted) {
    const inside = kept.some((k) => k.version === n.version && ((n.network ^ k.network) >> BigInt((k.version === 4 ? 32 : 128) - k.len)) === 0n);
    if (!inside) kept.push(n);
  }
  const items = kept.map((n) => formatPrefix(n.version, n.network, n.len));
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

/** The MACs a port may send from, each with the networks it may use (own MAC first). */
function sourcesByMac(port: SgPort): Map<string, Net[]> {
  const own = normalizeMac(port.mac) ?? port.mac.toLowerCase();
  const out = new Map<string, Net[]>([[own, []]]);
  const add = (mac: string, net: Net | null): void => {
    if (!net) return;
    const list = out.get(mac) ?? [];
    list.push(net);
    out.set(mac, list);
  };
  for (const ip of port.fixedIps) add(own, parseNet(ip));
  for (const pair of port.allowedAddressPairs) {
    const mac = pair.mac_address ? normalizeMac(pair.mac_address) : own;
    if (mac) add(mac, parseNet(pair.ip_address));
  }
  return out;
}

/** The port's host addresses that make it a member of its groups' remote sets. */
export function memberAddresses(port: SgPort): { family: 4 | 6; addr: string }[] {
  const seen = new Set<string>();
  const out: { family: 4 | 6; addr: string }[] = [];
  const candidates = [...port.fixedIps, ...port.allowedAddressPairs.map((p) => p.ip_address)];
  for (const text of candidates) {
    // Only single addresses: a pair naming a whole network is not a member address (documented gap).
    const c = tryParseCidr(text);
    if (!c || c.prefixlen !== (c.version === 4 ? 32 : 128)) continue;
    const addr = formatIp(c.version, c.network);
    if (seen.has(addr)) continue;
    seen.add(addr);
    out.push({ family: c.version, addr });
  }
  return out;
}

function linkLocal(mac: string): Net {
  const fe80 = tryParseIp('fe80::')!.value;
  return { version: 6, network: eui64({ version: 6, network: fe80, prefixlen: 64 }, mac), len: 128 };
}

/** Rules of the bridge chain `from_N`: mark the sender, then anti-spoofing (return = allowed, end = drop). */
export function fromChainRules(port: SgPort, idx: number): string[] {
  const lines = [`meta mark set meta mark and ${hex(~(FROM_MASK | TO_MASK))} or ${hex(idx)}`];
  // A guest never answers DHCP nor advertises itself as a router.
  lines.push('udp sport 67 udp dport 68 drop', 'udp sport 547 udp dport 546 drop', 'icmpv6 type nd-router-advert drop');
  const bySource = sourcesByMac(port);
  const own = [...bySource.keys()][0]!;
  for (const [mac, nets] of bySource) {
    const v4 = nets.filter((n) => n.version === 4);
    const v6 = [...nets.filter((n) => n.version === 6), linkLocal(mac)];
    if (v4.length) {
      lines.push(`ether saddr ${mac} ip saddr ${netSet(v4)} return`);
      lines.push(`ether saddr ${mac} arp saddr ether ${mac} arp saddr ip ${netSet(v4)} return`);
    }
    lines.push(`ether saddr ${mac} ip6 saddr ${netSet(v6)} return`);
  }
  // Before it has an address: DHCP discovery, ARP probes and IPv6 duplicate address detection from the own MAC.
  lines.push(`ether saddr ${own} ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return`);
  lines.push(`ether saddr ${own} arp saddr ether ${own} arp saddr ip 0.0.0.0 return`);
  lines.push(`ether saddr ${own} ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld-listener-report, mld2-listener-report } return`);
  lines.push('drop');
  return lines;
}

/** Rules of the bridge chain `to_N`: mark the receiver. */
export function toChainRules(idx: number): string[] {
  return [`meta mark set meta mark and ${hex(~TO_MASK)} or ${hex(idx << 16)}`];
}

const STATEFUL = ['ct state established,related accept'];
const NOT_TRACKED_ND = 'icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept';

/** Rules of the inet chain `egress_N`: what the port may send. */
export function egressChainRules(port: SgPort): string[] {
  return [
    ...STATEFUL,
    NOT_TRACKED_ND,
    'ct state invalid drop',
    'udp sport 68 udp dport 67 accept',
    'udp sport 546 udp dport 547 accept',
    ...port.securityGroups.map((g) => `jump ${names.groupOut(g)}`),
    'drop',
  ];
}

/** Rules of the inet chain `ingress_N`: what the port may receive. */
export function ingressChainRules(port: SgPort): string[] {
  return [
    ...STATEFUL,
    NOT_TRACKED_ND,
    'ct state invalid drop',
    'udp sport 67 udp dport 68 accept',
    'udp sport 547 udp dport 546 accept',
    ...port.securityGroups.map((g) => `jump ${names.groupIn(g)}`),
    'drop',
  ];
}

/** A batch under construction for one table name. */
export class Batch {
  readonly lines: string[] = [];
  constructor(readonly table: string) {
    if (!validTableName(table)) throw new Error(`invalid nft table name "${table}"`);
  }

  private bridge(rest: string): void { this.lines.push(`${rest.replace('%', `bridge ${this.table}`)}`); }
  private inet(rest: string): void { this.lines.push(`${rest.replace('%', `inet ${this.table}`)}`); }

  /** Replaces both tables by empty ones with their base chains and dispatch maps (one atomic step with the rest). */
  recreateTables(): this {
    for (const fam of ['bridge', 'inet']) this.lines.push(`add table ${fam} ${this.table}`, `delete table ${fam} ${this.table}`);
    this.lines.push(
      `table bridge ${this.table} {`,
      '  map from_port { type ifname : verdict; }',
      '  map to_port { type ifname : verdict; }',
      '  chain prerouting { type filter hook prerouting priority -300; policy accept; iifname vmap @from_port; }',
      '  chain forward { type filter hook forward priority -300; policy accept; oifname vmap @to_port; }',
      '}',
      `table inet ${this.table} {`,
      '  map egress_port { type mark : verdict; }',
      '  map ingress_port { type mark : verdict; }',
      `  chain egress { type filter hook forward priority 0; policy accept; meta mark and ${hex(FROM_MASK)} vmap @egress_port; }`,
      `  chain ingress { type filter hook forward priority 1; policy accept; meta mark and ${hex(TO_MASK)} vmap @ingress_port; }`,
      // Guest to host (bridge netfilter hands it to input): the sender's egress rules apply.
      `  chain input { type filter hook input priority 0; policy accept; meta mark and ${hex(FROM_MASK)} vmap @egress_port; }`,
      '}',
    );
    return this;
  }

  /** Removes both tables (no error when absent). */
  dropTables(): this {
    for (const fam of ['bridge', 'inet']) this.lines.push(`add table ${fam} ${this.table}`, `delete table ${fam} ${this.table}`);
    return this;
  }

  /** Makes sure a group's chains and remote sets exist (idempotent: `add` keeps what is there). */
  declareGroup(groupId: string): this {
    this.inet(`add chain % ${names.groupIn(groupId)}`);
    this.inet(`add chain % ${names.groupOut(groupId)}`);
    this.inet(`add set % ${names.remoteSet(groupId, 4)} { type ipv4_addr; }`);
    this.inet(`add set % ${names.remoteSet(groupId, 6)} { type ipv6_addr; }`);
    return this;
  }

  /** Rewrites a group's two chains from its rules; returns the rules that can never match, with why. */
  groupRules(groupId: string, rules: SgRule[]): { rule: SgRule; why: string }[] {
    const skipped: { rule: SgRule; why: string }[] = [];
    this.inet(`flush chain % ${names.groupIn(groupId)}`);
    this.inet(`flush chain % ${names.groupOut(groupId)}`);
    for (const rule of rules) {
      const r = compileRule(rule);
      if ('skip' in r) { skipped.push({ rule, why: r.skip }); continue; }
      const chain = rule.direction === 'ingress' ? names.groupIn(groupId) : names.groupOut(groupId);
      this.inet(`add rule % ${chain} ${r.text}`);
    }
    return skipped;
  }

  /** Adds or deletes member addresses of a group's remote sets. */
  members(op: 'add' | 'delete', groupId: string, addrs: { family: 4 | 6; addr: string }[]): this {
    for (const family of [4, 6] as const) {
      const list = addrs.filter((a) => a.family === family).map((a) => a.addr);
      if (list.length) this.inet(`${op} element % ${names.remoteSet(groupId, family)} { ${list.join(', ')} }`);
    }
    return this;
  }

  /** Writes a filtered port's four chains and points the dispatch maps at them. */
  addPort(port: SgPort, idx: number): this {
    const chains: [string, 'bridge' | 'inet', string[]][] = [
      [names.from(idx), 'bridge', fromChainRules(port, idx)],
      [names.to(idx), 'bridge', toChainRules(idx)],
      [names.egress(idx), 'inet', egressChainRules(port)],
      [names.ingress(idx), 'inet', ingressChainRules(port)],
    ];
    for (const [chain, fam, rules] of chains) {
      const put = fam === 'bridge' ? this.bridge.bind(this) : this.inet.bind(this);
      put(`add chain % ${chain} { comment ${quote(`port ${port.id}`)}; }`);
      put(`flush chain % ${chain}`);
      for (const r of rules) put(`add rule % ${chain} ${r}`);
    }
    const tap = quote(port.tap);
    this.bridge(`add element % from_port { ${tap} : jump ${names.from(idx)} }`);
    this.bridge(`add element % to_port { ${tap} : jump ${names.to(idx)} }`);
    this.inet(`add element % egress_port { ${hex(idx)} : jump ${names.egress(idx)} }`);
    this.inet(`add element % ingress_port { ${hex(idx << 16)} : jump ${names.ingress(idx)} }`);
    return this;
  }

  /** Unhooks and deletes a filtered port's chains (`tap` is the tap it was hooked on). */
  removePort(tap: string, idx: number): this {
    this.bridge(`delete element % from_port { ${quote(tap)} }`);
    this.bridge(`delete element % to_port { ${quote(tap)} }`);
    this.inet(`delete element % egress_port { ${hex(idx)} }`);
    this.inet(`delete element % ingress_port { ${hex(idx << 16)} }`);
    for (const [chain, fam] of [[names.from(idx), 'bridge'], [names.to(idx), 'bridge'], [names.egress(idx), 'inet'], [names.ingress(idx), 'inet']] as const) {
      const put = fam === 'bridge' ? this.bridge.bind(this) : this.inet.bind(this);
      put(`flush chain % ${chain}`);
      put(`delete chain % ${chain}`);
    }
    return this;
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}
