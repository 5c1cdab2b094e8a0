// What a port contributes to the firewall's sets and maps: its anti-spoofing tuples, its marks, its profile and its
// remote-group member addresses. Pure. Ports are elements, not chains, so a host of thousands of ports keeps a
// handful of chains (nft's own cost grows with the number of chains in a table).
import { eui64, formatIp, normalizeMac, tryParseCidr, tryParseIp } from '../../../util/ipaddr.js';
import { formatPrefix, quote } from './rule.js';
import type { SgPort } from './types.js';

/** Highest port number: 15 bits per half of the 32-bit mark (sender low, receiver high). */
export const MAX_PORT_INDEX = 0x7fff;
export const FROM_MASK = 0x7fff;
export const TO_MASK = 0x7fff0000;
export const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** One element of a named set or map: `key` alone for a set, `key : value` for a map. */
export interface Element {
  family: 'bridge' | 'inet';
  set: string;
  key: string;
  value?: string;
}

/** The text that identifies an element with its value (for diffs). */
export const elementText = (e: Element): string =>
  `${e.family} ${e.set} ${e.key}${e.value === undefined ? '' : ` : ${e.value}`}`;

/** Whether the firewall filters a port at all (port security on, not a router or DHCP port). */
export function isFiltered(port: SgPort): boolean {
  return port.portSecurity && !port.deviceOwner.startsWith('network:');
}

interface Net {
  version: 4 | 6;
  network: bigint;
  len: number;
}

function parseNet(s: string): Net | null {
  const c = tryParseCidr(s);
  return c ? { version: c.version, network: c.network, len: c.prefixlen } : null;
}

/** Networks without any one inside another (an interval set refuses overlapping elements). */
function outermost(nets: Net[]): Net[] {
  const kept: Net[] = [];
  for (const n of [...nets].sort((a, b) => a.len - b.len)) {
    const inside = kept.some(
      (k) => k.version === n.version && (n.network ^ k.network) >> BigInt((k.version === 4 ? 32 : 128) - k.len) === 0n,
    );
    if (!inside) kept.push(n);
  }
  return kept;
}

function linkLocal(mac: string): Net {
  const fe80 = tryParseIp('fe80::')!.value;
  return { version: 6, network: eui64({ version: 6, network: fe80, prefixlen: 64 }, mac), len: 128 };
}

/** The port's own MAC in canonical form. */
export function ownMac(port: SgPort): string {
  return normalizeMac(port.mac) ?? port.mac.toLowerCase();
}

/** The MACs a port may send from, each with the networks it may use: own MAC first, then pairs' MACs. */
function sourcesByMac(port: SgPort): Map<string, Net[]> {
  const own = ownMac(port);
  const out = new Map<string, Net[]>([[own, []]]);
  const add = (mac: string, net: Net | null): void => {
    if (net) out.set(mac, [...(out.get(mac) ?? []), net]);
  };
  for (const ip of port.fixedIps) add(own, parseNet(ip));
  for (const pair of port.allowedAddressPairs) {
    const mac = pair.mac_address ? normalizeMac(pair.mac_address) : own;
    if (mac) add(mac, parseNet(pair.ip_address));
  }
  return out;
}

/** The port's single addresses that make it a member of its groups' remote sets (not networks from pairs). */
export function memberAddresses(port: SgPort): { family: 4 | 6; addr: string }[] {
  const seen = new Set<string>();
  const out: { family: 4 | 6; addr: string }[] = [];
  for (const text of [...port.fixedIps, ...port.allowedAddressPairs.map((p) => p.ip_address)]) {
    const c = tryParseCidr(text);
    if (!c || c.prefixlen !== (c.version === 4 ? 32 : 128)) continue;
    const addr = formatIp(c.version, c.network);
    if (!seen.has(addr)) {
      seen.add(addr);
      out.push({ family: c.version, addr });
    }
  }
  return out;
}

/**
 * Every set and map element a filtered port needs: the tap in `filtered`, its marks, its own MAC, the
 * (tap, MAC, source network) tuples it may send from (own MAC with fixed IPs and its IPv6 link-local address;
 * pairs with their MACs), and the dispatch of its marks to its profile's chains.
 */
export function portElements(port: SgPort, idx: number, profile: { in: string; out: string }): Element[] {
  const tap = quote(port.tap);
  const out: Element[] = [
    { family: 'bridge', set: 'filtered', key: tap },
    { family: 'bridge', set: 'from_mark', key: tap, value: hex(idx) },
    { family: 'bridge', set: 'to_mark', key: tap, value: hex(idx << 16) },
    { family: 'bridge', set: 'ownmac', key: `${tap} . ${ownMac(port)}` },
    { family: 'inet', set: 'egress_port', key: `${quote(port.bridge)} . ${hex(idx)}`, value: `jump ${profile.out}` },
    {
      family: 'inet',
      set: 'ingress_port',
      key: `${quote(port.bridge)} . ${hex(idx << 16)}`,
      value: `jump ${profile.in}`,
    },
  ];
  for (const [mac, nets] of sourcesByMac(port)) {
    for (const n of outermost([...nets, linkLocal(mac)])) {
      out.push({
        family: 'bridge',
        set: n.version === 4 ? 'spoof4' : 'spoof6',
        key: `${tap} . ${mac} . ${formatPrefix(n.version, n.network, n.len)}`,
      });
    }
  }
  return out;
}
