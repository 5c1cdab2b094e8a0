// One security-group rule as nft match text. Pure.
import { formatIp, tryParseCidr } from '../../../util/ipaddr.js';
import { ICMP, ICMPV6, PORT_PROTOCOLS, protocolNumber } from './protocols.js';
import type { SgRule } from './types.js';

/** A group id as an nft identifier fragment (uuid without dashes). */
export function groupKey(groupId: string): string {
  return groupId.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The name of a group's remote-address set for one IP family. */
export const remoteSetName = (groupId: string, family: 4 | 6): string => `rg${family}_${groupKey(groupId)}`;

/** Text safe inside an nft double-quoted string. */
export const quote = (s: string): string => `"${s.replace(/[^A-Za-z0-9_.:\-/ ]/g, '')}"`;

/** The comment that names a rule in nft, by which its handle is found again. */
export const ruleComment = (ruleId: string): string => quote(`rule ${ruleId}`);

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
    parts.push(`${ip} ${side} @${remoteSetName(rule.remote_group_id, family)}`);
  }
  parts.push(`accept comment ${ruleComment(rule.id)}`);
  return { text: parts.join(' ') };
}

export function formatPrefix(version: 4 | 6, network: bigint, len: number): string {
  const addr = formatIp(version, network);
  return len === (version === 4 ? 32 : 128) ? addr : `${addr}/${len}`;
}
