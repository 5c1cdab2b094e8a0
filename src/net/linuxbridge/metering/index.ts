// Neutron metering in a router's namespace, as nftables counters (Neutron's iptables metering driver, in nft): one
// table `inet gureum_metering` per qrouter- namespace, one named counter per label, one chain per label in which
// the excluded rules return first and the others count and return (so a packet counts once per label). Ingress is
// traffic entering through the gateway leg (qg-), egress is traffic leaving through it; the forward hook sees it
// after the router's DNAT, so an ingress destination is the inside (fixed) address.
import { inNetns, nftBatch } from '../exec.js';

export const METERING_TABLE = 'gureum_metering';

/** A label as the router receives it (from the network service's router view). */
export interface MeteringLabelPlan {
  id: string;
  rules: { direction: string; source: string | null; destination: string | null; excluded: boolean }[];
}

/** One label's counter in one namespace. */
export interface NamespaceCounter {
  labelId: string;
  bytes: number;
  packets: number;
}

const hex = (id: string): string => id.replace(/-/g, '').toLowerCase();
const counterName = (labelId: string): string => `m_${hex(labelId)}`;
const chainName = (labelId: string): string => `l_${hex(labelId)}`;
const isV6 = (cidr: string): boolean => cidr.includes(':');
/** Only what a normalised CIDR can hold reaches the ruleset (the service validated it; this is the guard). */
const CIDR = /^[0-9a-fA-F:.]+\/\d{1,3}$/;

/** The nft match of one rule, or null when it cannot match (mixed families, malformed). */
function ruleMatch(gatewayDev: string, r: MeteringLabelPlan['rules'][number]): string | null {
  const prefixes = [r.source, r.destination].filter((p): p is string => p !== null);
  if (prefixes.some((p) => !CIDR.test(p))) return null;
  const v6 = prefixes.some(isV6);
  if (v6 && prefixes.some((p) => !isV6(p))) return null;
  const fam = v6 ? 'ip6' : 'ip';
  const parts = [r.direction === 'egress' ? `oifname "${gatewayDev}"` : `iifname "${gatewayDev}"`];
  if (!v6 && prefixes.length === 0) parts.push('meta nfproto ipv4');
  if (r.source) parts.push(`${fam} saddr ${r.source}`);
  if (r.destination) parts.push(`${fam} daddr ${r.destination}`);
  return parts.join(' ');
}

/** The metering table of a router as one nft batch that replaces the previous one (or removes it: no labels). */
export function meteringRuleset(gatewayDev: string, labels: MeteringLabelPlan[]): string {
  const lines = [`add table inet ${METERING_TABLE}`, `delete table inet ${METERING_TABLE}`];
  if (labels.length === 0) return `${lines.join('\n')}\n`;
  lines.push(`table inet ${METERING_TABLE} {`);
  for (const l of labels) lines.push(`  counter ${counterName(l.id)} { }`);
  lines.push('  chain forward {', '    type filter hook forward priority -10; policy accept;');
  for (const l of labels) lines.push(`    jump ${chainName(l.id)}`);
  lines.push('  }');
  for (const l of labels) {
    lines.push(`  chain ${chainName(l.id)} {`);
    const ordered = [...l.rules.filter((r) => r.excluded), ...l.rules.filter((r) => !r.excluded)];
    for (const r of ordered) {
      const m = ruleMatch(gatewayDev, r);
      if (m) lines.push(`    ${m} ${r.excluded ? 'return' : `counter name ${counterName(l.id)} return`}`);
    }
    lines.push('  }');
  }
  lines.push('}', '');
  return lines.join('\n');
}

/** Applies (or clears) a router's metering table inside its namespace. */
export async function applyMetering(netns: string, gatewayDev: string, labels: MeteringLabelPlan[]): Promise<void> {
  await nftBatch(meteringRuleset(gatewayDev, labels), netns);
}

/** Reads the label counters of one namespace's metering table (none when it has no table). */
export async function readMeteringCounters(netns: string): Promise<NamespaceCounter[]> {
  let out: string;
  try {
    out = await inNetns(netns, 'nft', ['-j', 'list', 'counters', 'table', 'inet', METERING_TABLE]);
  } catch {
    return [];
  }
  return parseCounters(out);
}

/** The counters of `nft -j list counters` output, by label. */
export function parseCounters(json: string): NamespaceCounter[] {
  const doc = JSON.parse(json) as { nftables?: { counter?: { name: string; bytes: number; packets: number } }[] };
  const out: NamespaceCounter[] = [];
  for (const item of doc.nftables ?? []) {
    const c = item.counter;
    const m = c ? /^m_([0-9a-f]{32})$/.exec(c.name) : null;
    if (!c || !m) continue;
    const h = m[1]!;
    const labelId = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    out.push({ labelId, bytes: c.bytes, packets: c.packets });
  }
  return out;
}
