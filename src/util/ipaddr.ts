// IPv4/IPv6 addresses as BigInt: parsing, formatting, CIDRs, ranges and EUI-64. No I/O. Shared by the network service
// and the data plane (src/net).
import { badRequest } from '../errors.js';

export type IpVersion = 4 | 6;

/** One parsed address. */
export interface Ip {
  version: IpVersion;
  value: bigint;
}

/** One parsed network: the address with host bits cleared and the prefix length. */
export interface Cidr {
  version: IpVersion;
  network: bigint;
  prefixlen: number;
}

export const bits = (v: IpVersion): number => (v === 4 ? 32 : 128);

function parseV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let out = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    // netaddr (and so Neutron) rejects leading zeros in dotted quads as ambiguous.
    if (p.length > 1 && p.startsWith('0')) return null;
    out = (out << 8n) | BigInt(n);
  }
  return out;
}

function parseV6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let tail4: bigint | null = null;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tail4 = parseV4(s.slice(lastColon + 1));
    if (tail4 === null) return null;
    text = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const dbl = text.split('::');
  if (dbl.length > 2) return null;
  const groups = (x: string) => (x === '' ? [] : x.split(':'));
  const head = groups(dbl[0]!);
  const rest = dbl.length === 2 ? groups(dbl[1]!) : [];
  const total = head.length + rest.length;
  if (dbl.length === 1 && total !== 8) return null;
  if (dbl.length === 2 && total > 7) return null;
  const all = [...head, ...Array(8 - total).fill('0'), ...rest];
  let out = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    out = (out << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== null) out = (out & ~0xffffffffn) | tail4;
  return out;
}

/** Parses an address, or returns null. */
export function tryParseIp(s: unknown): Ip | null {
  if (typeof s !== 'string' || s.length === 0 || s.length > 45) return null;
  if (s.includes(':')) {
    const v = parseV6(s);
    return v === null ? null : { version: 6, value: v };
  }
  const v = parseV4(s);
  return v === null ? null : { version: 4, value: v };
}

/** Parses an address or throws 400 naming the field. */
export function parseIp(s: unknown, field = 'ip_address'): Ip {
  const ip = tryParseIp(s);
  if (!ip) throw badRequest(`Invalid input for ${field}. Reason: '${String(s)}' is not a valid IP address.`);
  return ip;
}

/** The canonical text of an address (RFC 5952 for IPv6). */
export function formatIp(version: IpVersion, v: bigint): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // Longest run of two or more zero groups becomes "::".
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical text of a textual address (throws 400 when invalid). */
export function canonicalIp(s: unknown, field?: string): string {
  const ip = parseIp(s, field);
  return formatIp(ip.version, ip.value);
}

/** A sortable fixed-width key: 8 hex digits for IPv4, 32 for IPv6. */
export function ipKey(version: IpVersion, v: bigint): string {
  return v.toString(16).padStart(version === 4 ? 8 : 32, '0');
}

export function keyToIp(key: string): bigint {
  return BigInt(`0x${key}`);
}

/** Parses "ADDR/LEN"; `strict` refuses host bits set (Neutron accepts them for subnets and normalizes). */
export function tryParseCidr(s: unknown): (Cidr & { hostBitsSet: boolean }) | null {
  if (typeof s !== 'string') return null;
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const ip = tryParseIp(addr);
  if (!ip) return null;
  let len = bits(ip.version);
  if (slash >= 0) {
    const l = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l)) return null;
    len = Number(l);
    if (len > bits(ip.version)) return null;
  }
  const mask = netmask(ip.version, len);
  return { version: ip.version, network: ip.value & mask, prefixlen: len, hostBitsSet: (ip.value & mask) !== ip.value };
}

export function parseCidr(s: unknown, field = 'cidr'): Cidr & { hostBitsSet: boolean } {
  const c = tryParseCidr(s);
  if (!c) throw badRequest(`Invalid input for ${field}. Reason: '${String(s)}' is not a valid IP subnet.`);
  return c;
}

export function netmask(version: IpVersion, len: number): bigint {
  const b = BigInt(bits(version));
  const all = (1n << b) - 1n;
  return len === 0 ? 0n : (all >> (b - BigInt(len))) << (b - BigInt(len));
}

export const formatCidr = (c: Cidr): string => `${formatIp(c.version, c.network)}/${c.prefixlen}`;
export const firstIp = (c: Cidr): bigint => c.network;
export const lastIp = (c: Cidr): bigint =>
  c.network | (~netmask(c.version, c.prefixlen) & ((1n << BigInt(bits(c.version))) - 1n));
export const size = (c: Cidr): bigint => lastIp(c) - firstIp(c) + 1n;
export const contains = (c: Cidr, v: bigint): boolean => v >= firstIp(c) && v <= lastIp(c);
export const overlaps = (a: Cidr, b: Cidr): boolean =>
  a.version === b.version && firstIp(a) <= lastIp(b) && firstIp(b) <= lastIp(a);

/** An inclusive address range. */
export interface Range {
  first: bigint;
  last: bigint;
}

/** Neutron's default pools: the usable range minus the gateway (IPv4 also drops network and broadcast). */
export function defaultPools(c: Cidr, gateway: bigint | null): Range[] {
  let first = firstIp(c);
  let last = lastIp(c);
  if (c.version === 4 && c.prefixlen < 31) {
    first += 1n;
    last -= 1n;
  }
  // IPv6: the subnet-router anycast address (the first) is never handed out.
  if (c.version === 6 && c.prefixlen < 127) first += 1n;
  if (first > last) return [];
  if (gateway === null || gateway < first || gateway > last) return [{ first, last }];
  const out: Range[] = [];
  if (gateway > first) out.push({ first, last: gateway - 1n });
  if (gateway < last) out.push({ first: gateway + 1n, last });
  return out;
}

/** The modified EUI-64 address of a MAC in an IPv6 /64 (SLAAC). */
export function eui64(prefix: Cidr, mac: string): bigint {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const iid = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  let v = 0n;
  for (const x of iid) v = (v << 8n) | BigInt(x);
  return prefix.network | v;
}

/** A MAC in canonical lower-case colon form, or null. Multicast and all-zero MACs are refused, as Neutron does. */
export function normalizeMac(s: unknown): string | null {
  if (typeof s !== 'string') return null;
  const m =
    /^([0-9a-fA-F]{2})([:-]?)([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(
      s,
    );
  if (!m) return null;
  const octets = [m[1], m[3], m[4], m[5], m[6], m[7]].map((x) => x!.toLowerCase());
  const first = parseInt(octets[0]!, 16);
  if (first & 1) return null;
  if (octets.every((o) => o === '00')) return null;
  return octets.join(':');
}
