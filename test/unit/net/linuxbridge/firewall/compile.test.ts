import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batch, compileRule, egressChainRules, fromChainRules, ingressChainRules, memberAddresses, names, toChainRules } from '../../../../../src/net/linuxbridge/firewall/compile.js';
import { protocolNumber } from '../../../../../src/net/linuxbridge/firewall/protocols.js';
import type { SgPort, SgRule } from '../../../../../src/net/linuxbridge/firewall/index.js';

const G = '6f1c2b9e-0000-4000-8000-000000000001';
const R = '6f1c2b9e-0000-4000-8000-000000000002';

function rule(extra: Partial<SgRule>): SgRule {
  return {
    id: 'r1', security_group_id: G, direction: 'ingress', ethertype: 'IPv4', protocol: null,
    port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null, ...extra,
  };
}
const text = (r: SgRule): string => {
  const out = compileRule(r);
  assert.ok('text' in out, `left out: ${JSON.stringify(out)}`);
  return out.text;
};
const skipped = (r: SgRule): boolean => 'skip' in compileRule(r);

function port(extra: Partial<SgPort> = {}): SgPort {
  return {
    id: 'p1', tap: 'tap6f1c2b9e-00', mac: 'FA:16:3E:00:00:01', fixedIps: ['10.0.0.5', '2001:db8::5'], allowedAddressPairs: [],
    securityGroups: [G], portSecurity: true, deviceOwner: 'compute:nova', ...extra,
  };
}

test('a TCP rule matches its protocol, port range and normalized remote prefix, then accepts', () => {
  assert.equal(text(rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.1.2.3/24' })),
    'meta nfproto ipv4 meta l4proto 6 th dport 22 ip saddr 10.1.2.0/24 accept comment "rule r1"');
  assert.match(text(rule({ protocol: 'udp', port_range_min: 1000, port_range_max: 2000 })), /meta l4proto 17 th dport 1000-2000 accept/);
  assert.match(text(rule({ protocol: '132', port_range_min: 9, port_range_max: null })), /meta l4proto 132 th dport 9 accept/);
  // The whole range is no port match at all.
  assert.doesNotMatch(text(rule({ protocol: 'tcp', port_range_min: 1, port_range_max: 65535 })), /dport/);
  assert.ok(skipped(rule({ protocol: 'tcp', port_range_min: 30, port_range_max: 20 })));
});

test('ICMP rules carry type and code in the port range, and an IPv6 "icmp" means ICMPv6', () => {
  assert.match(text(rule({ protocol: 'icmp', port_range_min: 8, port_range_max: 0 })), /meta l4proto 1 icmp type 8 icmp code 0 accept/);
  assert.match(text(rule({ protocol: 'icmp' })), /meta l4proto 1 accept/);
  assert.match(text(rule({ ethertype: 'IPv6', protocol: 'icmp', port_range_min: 128 })), /meta nfproto ipv6 meta l4proto 58 icmpv6 type 128 accept/);
  assert.match(text(rule({ ethertype: 'IPv6', protocol: 'ipv6-icmp' })), /meta l4proto 58 accept/);
  assert.ok(skipped(rule({ ethertype: 'IPv4', protocol: 'ipv6-icmp' })));
});

test('protocols by name or number; any, 0 and unknown ones', () => {
  assert.equal(protocolNumber('GRE', 4), 47);
  assert.equal(protocolNumber('112', 4), 112);
  assert.equal(protocolNumber('any', 4), 'any');
  assert.equal(protocolNumber('0', 6), 'any');
  assert.equal(protocolNumber(null, 6), 'any');
  assert.equal(protocolNumber('bogus', 4), null);
  assert.equal(protocolNumber('256', 4), null);
  assert.doesNotMatch(text(rule({ protocol: 'any' })), /l4proto/);
  assert.ok(skipped(rule({ protocol: 'bogus' })));
});

test('remote prefixes and groups: the peer is the source on ingress and the destination on egress', () => {
  assert.match(text(rule({ remote_group_id: R })), new RegExp(`ip saddr @${names.remoteSet(R, 4)} accept`));
  assert.match(text(rule({ direction: 'egress', ethertype: 'IPv6', remote_group_id: R })), new RegExp(`ip6 daddr @${names.remoteSet(R, 6)} accept`));
  assert.equal(text(rule({ remote_ip_prefix: '0.0.0.0/0' })), 'meta nfproto ipv4 accept comment "rule r1"');
  assert.match(text(rule({ remote_ip_prefix: '10.0.0.9/32' })), /ip saddr 10\.0\.0\.9 accept/);
  assert.match(text(rule({ ethertype: 'IPv6', remote_ip_prefix: '2001:DB8::1/64' })), /ip6 saddr 2001:db8::\/64 accept/);
  assert.ok(skipped(rule({ ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' })), 'an IPv4 prefix on an IPv6 rule');
  assert.ok(skipped(rule({ remote_ip_prefix: 'not-a-net' })));
});

test('anti-spoofing: own MAC with fixed IPs and its link-local address, pairs with their MACs, no DHCP server or RA', () => {
  const lines = fromChainRules(port({ allowedAddressPairs: [
    { ip_address: '10.0.0.100' },
    { ip_address: '10.9.0.0/16', mac_address: 'fa:16:3e:00:00:99' },
    { ip_address: '10.9.1.1', mac_address: 'fa:16:3e:00:00:99' },
  ] }), 7);
  assert.match(lines[0]!, /^meta mark set meta mark and 0x80008000 or 0x00000007$/);
  const drops = lines.findIndex((l) => l === 'udp sport 67 udp dport 68 drop');
  assert.ok(drops > 0 && lines.includes('icmpv6 type nd-router-advert drop'));
  assert.ok(lines.includes('ether saddr fa:16:3e:00:00:01 ip saddr { 10.0.0.5, 10.0.0.100 } return'));
  assert.ok(lines.includes('ether saddr fa:16:3e:00:00:01 arp saddr ether fa:16:3e:00:00:01 arp saddr ip { 10.0.0.5, 10.0.0.100 } return'));
  assert.ok(lines.includes('ether saddr fa:16:3e:00:00:01 ip6 saddr { 2001:db8::5, fe80::f816:3eff:fe00:1 } return'));
  // A host inside a pair's network is left out: nft refuses overlapping intervals.
  assert.ok(lines.includes('ether saddr fa:16:3e:00:00:99 ip saddr 10.9.0.0/16 return'));
  assert.ok(lines.includes('ether saddr fa:16:3e:00:00:99 ip6 saddr fe80::f816:3eff:fe00:99 return'));
  assert.ok(lines.some((l) => l.startsWith('ether saddr fa:16:3e:00:00:01 ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68')));
  assert.equal(lines.at(-1), 'drop');
  // Every allowing line names a source MAC.
  for (const l of lines.filter((x) => x.endsWith(' return'))) assert.match(l, /^ether saddr /);
  assert.deepEqual(toChainRules(7), ['meta mark set meta mark and 0x8000ffff or 0x00070000']);
});

test('port chains are stateful, always let DHCP and ND through, then try each group and drop the rest', () => {
  const p = port({ securityGroups: [G, R] });
  const eg = egressChainRules(p);
  assert.equal(eg[0], 'ct state established,related accept');
  assert.ok(eg.indexOf('ct state invalid drop') < eg.indexOf(`jump ${names.groupOut(G)}`));
  assert.deepEqual(eg.slice(-3), [`jump ${names.groupOut(G)}`, `jump ${names.groupOut(R)}`, 'drop']);
  assert.ok(eg.includes('udp sport 68 udp dport 67 accept'));
  const ing = ingressChainRules(p);
  assert.deepEqual(ing.slice(-3), [`jump ${names.groupIn(G)}`, `jump ${names.groupIn(R)}`, 'drop']);
  assert.ok(ing.includes('udp sport 67 udp dport 68 accept'));
  assert.deepEqual(ingressChainRules(port({ securityGroups: [] })).at(-1), 'drop');
});

test('member addresses are single addresses, deduplicated; networks in pairs are not members', () => {
  assert.deepEqual(memberAddresses(port({ allowedAddressPairs: [{ ip_address: '10.0.0.5' }, { ip_address: '10.0.0.0/24' }, { ip_address: '10.0.0.7/32' }] })), [
    { family: 4, addr: '10.0.0.5' }, { family: 6, addr: '2001:db8::5' }, { family: 4, addr: '10.0.0.7' },
  ]);
});

test('batches: table names are checked, tables are recreated atomically, a port is unhooked before its chains go', () => {
  assert.throws(() => new Batch('bad name;'), /invalid nft table name/);
  const b = new Batch('gureum').recreateTables();
  assert.deepEqual(b.lines.slice(0, 4), ['add table bridge gureum', 'delete table bridge gureum', 'add table inet gureum', 'delete table inet gureum']);
  const rm = new Batch('gureum').removePort('tapx', 3).lines;
  assert.ok(rm.indexOf('delete element bridge gureum from_port { "tapx" }') < rm.indexOf('delete chain bridge gureum from_3'));
  assert.ok(rm.indexOf('delete element inet gureum ingress_port { 0x00030000 }') < rm.indexOf('delete chain inet gureum ingress_3'));
  const g = new Batch('gureum');
  const skips = g.groupRules(G, [rule({ protocol: 'tcp' }), rule({ id: 'r2', protocol: 'bogus' }), rule({ id: 'r3', direction: 'egress' })]);
  assert.deepEqual(skips.map((s) => s.rule.id), ['r2']);
  assert.deepEqual(g.lines.slice(0, 2), [`flush chain inet gureum ${names.groupIn(G)}`, `flush chain inet gureum ${names.groupOut(G)}`]);
  assert.equal(g.lines.length, 4);
});
