// Compiles security groups and port anti-spoofing to nft batch text. Pure: no I/O, no state.
//
// Layout (two tables of one name, because a table belongs to one family). Ports are set and map elements; chains
// exist per group and per distinct list of groups (a "profile"), never per port:
//  - bridge <t>: frames from a tap in @filtered go through `antispoof`, which writes the port's number N into
//    the packet mark (from @from_mark) and lets through only (tap . MAC . source) tuples of @spoof4/@spoof6 (ARP
//    too), DHCP discovery / ARP probes / DAD from the own MAC (@ownmac), and never DHCP server answers or router
//    advertisements. In the bridge forward hook frames to a filtered tap get N << 16 in the mark (@to_mark). The
//    bridge family has no conntrack in this kernel, so rules by group are applied in the inet table.
//  - inet <t>: bridged IP passes the inet hooks (bridge netfilter) with working conntrack but with the bridge as
//    interface, hence the marks. In prerouting (after conntrack) `egress` sends a packet from port N to its
//    profile's `pf_<p>_out`; in forward `ingress` sends a packet to port N to `pf_<p>_in`. A profile chain
//    accepts established/related, drops invalid, jumps to its groups' chains `sg_<g>_out`/`sg_<g>_in` (one
//    `accept` per rule) and drops what none accepted. Two hooks, so a packet passes the sender's egress rules and
//    the receiver's ingress rules.
//  - Remote groups are the named sets rg4_<g>/rg6_<g>: a rule change adds or deletes only its own rules (by
//    handle), a membership change only set elements, whatever the sizes.
import { createHash } from 'node:crypto';
import { elementText, type Element } from './port-elements.js';
import { compileRule, groupKey, remoteSetName } from './rule.js';
import type { SgRule } from './types.js';

/** True when the table name is safe to splice into nft text. */
export function validTableName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]{0,30}$/.test(name);
}

export const names = {
  groupIn: (g: string) => `sg_${groupKey(g)}_in`,
  groupOut: (g: string) => `sg_${groupKey(g)}_out`,
  remoteSet: remoteSetName,
};

/** A profile: the chains shared by every port with the same list of groups. */
export interface Profile {
  key: string;
  in: string;
  out: string;
  groups: string[];
}

/** The profile of a list of groups (order and duplicates do not matter). */
export function profileOf(groups: string[]): Profile {
  const sorted = [...new Set(groups)].sort();
  const key = sorted.join(',');
  const h = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return { key, in: `pf_${h}_in`, out: `pf_${h}_out`, groups: sorted };
}

const STATEFUL = 'ct state established,related accept';
// Neighbour discovery and MLD are not tracked by conntrack; a port needs them both ways.
const ND =
  'icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, ' +
  'mld-listener-report, mld-listener-done, mld2-listener-report } accept';

/** Rules of a profile's egress chain: what its ports may send. */
export function profileOutRules(p: Profile): string[] {
  return [
    STATEFUL,
    ND,
    'ct state invalid drop',
    'udp sport 68 udp dport 67 accept',
    'udp sport 546 udp dport 547 accept',
    ...p.groups.map((g) => `jump ${names.groupOut(g)}`),
    'drop',
  ];
}

/** Rules of a profile's ingress chain: what its ports may receive. */
export function profileInRules(p: Profile): string[] {
  return [
    STATEFUL,
    ND,
    'ct state invalid drop',
    'udp sport 67 udp dport 68 accept',
    'udp sport 547 udp dport 546 accept',
    ...p.groups.map((g) => `jump ${names.groupIn(g)}`),
    'drop',
  ];
}

/** The shared anti-spoofing chain (bridge family); `return` lets a frame on, the end drops it. */
export const ANTISPOOF_RULES = [
  'meta mark set iifname map @from_mark',
  // A guest never answers DHCP nor advertises itself as a router.
  'udp sport 67 udp dport 68 drop',
  'udp sport 547 udp dport 546 drop',
  'icmpv6 type nd-router-advert drop',
  'ether type ip iifname . ether saddr . ip saddr @spoof4 return',
  'ether type arp iifname . ether saddr . arp saddr ip @spoof4 iifname . arp saddr ether . arp saddr ip @spoof4 return',
  'ether type ip6 iifname . ether saddr . ip6 saddr @spoof6 return',
  // Before it has an address: DHCP discovery, ARP probes and IPv6 duplicate address detection, own MAC only.
  'ether type ip iifname . ether saddr @ownmac ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 ' +
    'return',
  'ether type arp iifname . ether saddr @ownmac iifname . arp saddr ether @ownmac arp saddr ip 0.0.0.0 return',
  'ether type ip6 iifname . ether saddr @ownmac ip6 saddr :: icmpv6 type { nd-neighbor-solicit, ' +
    'mld-listener-report, mld2-listener-report } return',
  'drop',
];

/** A batch under construction for one table name. */
export class Batch {
  readonly lines: string[] = [];
  constructor(readonly table: string) {
    if (!validTableName(table)) throw new Error(`invalid nft table name "${table}"`);
  }

  private t(family: 'bridge' | 'inet'): string {
    return `${family} ${this.table}`;
  }

  /** Replaces both tables by empty ones with their base chains, sets and maps (atomic with the rest of the batch). */
  recreateTables(): this {
    this.dropTables();
    const b = this.t('bridge');
    const i = this.t('inet');
    this.lines.push(
      `table ${b} {`,
      '  set filtered { type ifname; }',
      '  map from_mark { type ifname : mark; }',
      '  map to_mark { type ifname : mark; }',
      '  set ownmac { type ifname . ether_addr; }',
      '  set spoof4 { type ifname . ether_addr . ipv4_addr; flags interval; }',
      '  set spoof6 { type ifname . ether_addr . ipv6_addr; flags interval; }',
      '  chain antispoof {',
      ...ANTISPOOF_RULES.map((r) => `    ${r}`),
      '  }',
      '  chain prerouting { type filter hook prerouting priority -300; policy accept; iifname @filtered jump ' +
        'antispoof; }',
      '  chain forward { type filter hook forward priority -300; policy accept; meta mark set oifname map @to_mark; }',
      '}',
      `table ${i} {`,
      // Keyed by bridge and mark: the bridge chains above set the whole mark (sender's number, then receiver's
      // number << 16), and the bridge keeps another cloud's equal numbers out of this table's dispatch.
      '  map egress_port { type ifname . mark : verdict; }',
      '  map ingress_port { type ifname . mark : verdict; }',
      // Priority 0 in prerouting runs after conntrack (-200), so `ct state` is known.
      '  chain egress { type filter hook prerouting priority 0; policy accept; iifname . meta mark vmap ' +
        '@egress_port; }',
      '  chain ingress { type filter hook forward priority 0; policy accept; oifname . meta mark vmap @ingress_port; }',
      '}',
    );
    return this;
  }

  /** Removes both tables (no error when absent). */
  dropTables(): this {
    for (const fam of ['bridge', 'inet'] as const)
      this.lines.push(`add table ${this.t(fam)}`, `delete table ${this.t(fam)}`);
    return this;
  }

  /** Makes sure a group's chains and remote sets exist (idempotent: `add` keeps what is there). */
  declareGroup(groupId: string): this {
    const i = this.t('inet');
    this.lines.push(
      `add chain ${i} ${names.groupIn(groupId)}`,
      `add chain ${i} ${names.groupOut(groupId)}`,
      `add set ${i} ${names.remoteSet(groupId, 4)} { type ipv4_addr; }`,
      `add set ${i} ${names.remoteSet(groupId, 6)} { type ipv6_addr; }`,
    );
    return this;
  }

  /** Creates or rewrites a chain of the inet table with exactly these rules. */
  writeChain(chain: string, rules: string[]): this {
    const i = this.t('inet');
    this.lines.push(
      `add chain ${i} ${chain}`,
      `flush chain ${i} ${chain}`,
      ...rules.map((r) => `add rule ${i} ${chain} ${r}`),
    );
    return this;
  }

  /** Deletes a chain of the inet table (nothing may jump to it any more). */
  deleteChain(chain: string): this {
    const i = this.t('inet');
    this.lines.push(`flush chain ${i} ${chain}`, `delete chain ${i} ${chain}`);
    return this;
  }

  /** Creates a profile's two chains. */
  addProfile(p: Profile): this {
    return this.writeChain(p.out, profileOutRules(p)).writeChain(p.in, profileInRules(p));
  }

  /** Deletes a profile's chains (after the map elements pointing at them). */
  deleteProfile(p: Profile): this {
    return this.deleteChain(p.out).deleteChain(p.in);
  }

  /**
   * Turns a group's chains from the layout `before` into `after` (see groupLayout): rewrites only chains whose
   * rules differ, then deletes chains no longer used (their parents, rewritten first, no longer jump to them).
   */
  changeGroup(before: GroupLayout, after: GroupLayout): this {
    // Buckets before their parents: a jump needs its target chain to exist.
    for (const [chain, rules] of [...after].reverse()) {
      const old = before.get(chain);
      if (!old || old.length !== rules.length || old.some((r, k) => r !== rules[k])) this.writeChain(chain, rules);
    }
    for (const chain of before.keys()) if (!after.has(chain)) this.deleteChain(chain);
    return this;
  }

  /** Adds set or map elements, one statement per set. */
  addElements(elements: Element[]): this {
    for (const [set, list] of bySet(elements))
      this.lines.push(
        `add element ${this.t(list[0]!.family)} ${set} { ` +
          `${list.map((e) => (e.value === undefined ? e.key : `${e.key} : ${e.value}`)).join(', ')} }`,
      );
    return this;
  }

  /** Deletes set or map elements (by key), one statement per set. */
  deleteElements(elements: Element[]): this {
    for (const [set, list] of bySet(elements))
      this.lines.push(`delete element ${this.t(list[0]!.family)} ${set} { ${list.map((e) => e.key).join(', ')} }`);
    return this;
  }

  /** Adds or deletes member addresses of a group's remote sets. */
  members(op: 'add' | 'delete', groupId: string, addrs: { family: 4 | 6; addr: string }[]): this {
    const elements = addrs.map(
      (a): Element => ({ family: 'inet', set: names.remoteSet(groupId, a.family), key: a.addr }),
    );
    return op === 'add' ? this.addElements(elements) : this.deleteElements(elements);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** A group's chains and their rules, parents before their buckets. */
export type GroupLayout = Map<string, string[]>;

/** Groups up to this many rules per direction keep them in one chain; bigger ones spread them over buckets. */
export const FLAT_RULES = 32;
export const BUCKETS = 32;

function bucketOf(ruleId: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < ruleId.length; k++) h = Math.imul(h ^ ruleId.charCodeAt(k), 0x01000193) >>> 0;
  return h % BUCKETS;
}

/**
 * The chains of one group: `sg_<g>_in` and `sg_<g>_out` holding one `accept` per rule, or, past FLAT_RULES rules
 * in a direction, jumping to bucket chains `sg_<g>_in_<b>` chosen by a hash of the rule id. Rule order does not
 * matter (every rule accepts), so a rule created or deleted rewrites one bucket of ~rules/32 lines: the cost of a
 * change stays flat as a group grows, without tracking nft rule handles (whose echo costs as much as the whole
 * table). Also returns the rules that can never match, with why.
 */
export function groupLayout(
  groupId: string,
  rules: SgRule[],
): { layout: GroupLayout; skipped: { rule: SgRule; why: string }[] } {
  const skipped: { rule: SgRule; why: string }[] = [];
  const layout: GroupLayout = new Map();
  for (const direction of ['ingress', 'egress'] as const) {
    const parent = direction === 'ingress' ? names.groupIn(groupId) : names.groupOut(groupId);
    const compiled: { id: string; text: string }[] = [];
    for (const rule of rules) {
      if (rule.direction !== direction || rule.security_group_id !== groupId) continue;
      const r = compileRule(rule);
      if ('skip' in r) skipped.push({ rule, why: r.skip });
      else compiled.push({ id: rule.id, text: r.text });
    }
    compiled.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (compiled.length <= FLAT_RULES) {
      layout.set(
        parent,
        compiled.map((c) => c.text),
      );
      continue;
    }
    const buckets = new Map<number, string[]>();
    for (const c of compiled) {
      const b = bucketOf(c.id);
      buckets.set(b, [...(buckets.get(b) ?? []), c.text]);
    }
    const order = [...buckets.keys()].sort((x, y) => x - y);
    layout.set(
      parent,
      order.map((b) => `jump ${parent}_${b}`),
    );
    for (const b of order) layout.set(`${parent}_${b}`, buckets.get(b)!);
  }
  return { layout, skipped };
}

function bySet(elements: Element[]): Map<string, Element[]> {
  const out = new Map<string, Element[]>();
  for (const e of elements) {
    const k = e.set;
    out.set(k, [...(out.get(k) ?? []), e]);
  }
  return out;
}

/** Elements of `before` not in `after` (to delete) and of `after` not in `before` (to add), by key and value. */
export function diffElements(before: Element[], after: Element[]): { del: Element[]; add: Element[] } {
  const a = new Set(after.map(elementText));
  const b = new Set(before.map(elementText));
  return { del: before.filter((e) => !a.has(elementText(e))), add: after.filter((e) => !b.has(elementText(e))) };
}
