import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANTISPOOF_RULES,
  BUCKETS,
  Batch,
  FLAT_RULES,
  diffElements,
  groupLayout,
  names,
  profileInRules,
  profileOf,
  profileOutRules,
} from '../../../../../src/net/linuxbridge/firewall/compile.js';
import {
  memberAddresses,
  portElements,
  type Element,
} from '../../../../../src/net/linuxbridge/firewall/port-elements.js';
import { compileRule } from '../../../../../src/net/linuxbridge/firewall/rule.js';
import { protocolNumber } from '../../../../../src/net/linuxbridge/firewall/protocols.js';
import type { SgPort, SgRule } from '../../../../../src/net/linuxbridge/firewall/index.js';

const G = '6f1c2b9e-0000-4000-8000-000000000001';
const R = '6f1c2b9e-0000-4000-8000-000000000002';

function rule(extra: Partial<SgRule>): SgRule {
  return {
    id: 'r1',
    security_group_id: G,
    direction: 'ingress',
    ethertype: 'IPv4',
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_id: null,
    ...extra,
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
    id: 'p1',
    tap: 'tap6f1c2b9e-00',
    bridge: 'brq6f1c2b9e-00',
    mac: 'FA:16:3E:00:00:01',
    fixedIps: ['10.0.0.5', '2001:db8::5'],
    allowedAddressPairs: [],
    securityGroups: [G],
    portSecurity: true,
    deviceOwner: 'compute:nova',
    ...extra,
  };
}

test('a TCP rule matches its protocol, port range and normalized remote prefix, then accepts', () => {
  assert.equal(
    text(rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.1.2.3/24' })),
    'meta nfproto ipv4 meta l4proto 6 th dport 22 ip saddr 10.1.2.0/24 accept comment "rule r1"',
  );
  assert.match(
    text(rule({ protocol: 'udp', port_range_min: 1000, port_range_max: 2000 })),
    /meta l4proto 17 th dport 1000-2000 accept/,
  );
  assert.match(
    text(rule({ protocol: '132', port_range_min: 9, port_range_max: null })),
    /meta l4proto 132 th dport 9 accept/,
  );
  // The whole range is no port match at all.
  assert.doesNotMatch(text(rule({ protocol: 'tcp', port_range_min: 1, port_range_max: 65535 })), /dport/);
  assert.ok(skipped(rule({ protocol: 'tcp', port_range_min: 30, port_range_max: 20 })));
});

test('ICMP rules carry type and code in the port range, and an IPv6 "icmp" means ICMPv6', () => {
  assert.match(
    text(rule({ protocol: 'icmp', port_range_min: 8, port_range_max: 0 })),
    /meta l4proto 1 icmp type 8 icmp code 0 accept/,
  );
  assert.match(text(rule({ protocol: 'icmp' })), /meta l4proto 1 accept/);
  assert.match(
    text(rule({ ethertype: 'IPv6', protocol: 'icmp', port_range_min: 128 })),
    /meta nfproto ipv6 meta l4proto 58 icmpv6 type 128 accept/,
  );
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
  assert.match(
    text(rule({ direction: 'egress', ethertype: 'IPv6', remote_group_id: R })),
    new RegExp(`ip6 daddr @${names.remoteSet(R, 6)} accept`),
  );
  assert.equal(text(rule({ remote_ip_prefix: '0.0.0.0/0' })), 'meta nfproto ipv4 accept comment "rule r1"');
  assert.match(text(rule({ remote_ip_prefix: '10.0.0.9/32' })), /ip saddr 10\.0\.0\.9 accept/);
  assert.match(
    text(rule({ ethertype: 'IPv6', remote_ip_prefix: '2001:DB8::1/64' })),
    /ip6 saddr 2001:db8::\/64 accept/,
  );
  assert.ok(skipped(rule({ ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' })), 'an IPv4 prefix on an IPv6 rule');
  assert.ok(skipped(rule({ remote_ip_prefix: 'not-a-net' })));
});

test(
  'anti-spoofing elements: own MAC with fixed IPs and its link-local address, pairs with their MACs, marks, ' +
    'dispatch',
  () => {
    const profile = profileOf([G]);
    const elements = portElements(
      port({
        allowedAddressPairs: [
          { ip_address: '10.0.0.100' },
          { ip_address: '10.9.0.0/16', mac_address: 'fa:16:3e:00:00:99' },
          { ip_address: '10.9.1.1', mac_address: 'fa:16:3e:00:00:99' },
        ],
      }),
      7,
      profile,
    );
    const of = (set: string): string[] =>
      elements.filter((e) => e.set === set).map((e) => (e.value === undefined ? e.key : `${e.key} : ${e.value}`));
    const tap = '"tap6f1c2b9e-00"';
    assert.deepEqual(of('filtered'), [tap]);
    assert.deepEqual(of('from_mark'), [`${tap} : 0x00000007`]);
    assert.deepEqual(of('to_mark'), [`${tap} : 0x00070000`]);
    assert.deepEqual(of('ownmac'), [`${tap} . fa:16:3e:00:00:01`]);
    assert.deepEqual(of('egress_port'), [`"brq6f1c2b9e-00" . 0x00000007 : jump ${profile.out}`]);
    assert.deepEqual(of('ingress_port'), [`"brq6f1c2b9e-00" . 0x00070000 : jump ${profile.in}`]);
    // A host inside a pair's network is left out: an interval set refuses overlapping elements.
    assert.deepEqual(of('spoof4').sort(), [
      `${tap} . fa:16:3e:00:00:01 . 10.0.0.100`,
      `${tap} . fa:16:3e:00:00:01 . 10.0.0.5`,
      `${tap} . fa:16:3e:00:00:99 . 10.9.0.0/16`,
    ]);
    assert.deepEqual(of('spoof6').sort(), [
      `${tap} . fa:16:3e:00:00:01 . 2001:db8::5`,
      `${tap} . fa:16:3e:00:00:01 . fe80::f816:3eff:fe00:1`,
      `${tap} . fa:16:3e:00:00:99 . fe80::f816:3eff:fe00:99`,
    ]);
  },
);

test(
  'the anti-spoofing chain marks the sender, refuses DHCP answers and RAs, and lets through only known ' + 'tuples',
  () => {
    assert.equal(ANTISPOOF_RULES[0], 'meta mark set iifname map @from_mark');
    const firstReturn = ANTISPOOF_RULES.findIndex((r) => r.endsWith(' return'));
    for (const drop of ['udp sport 67 udp dport 68 drop', 'icmpv6 type nd-router-advert drop'])
      assert.ok(ANTISPOOF_RULES.indexOf(drop) < firstReturn);
    for (const r of ANTISPOOF_RULES.filter((x) => x.endsWith(' return')))
      assert.match(
        r,
        /iifname \. ether saddr (\. (ip6?|arp) saddr (ip )?)?@/,
        'every allowing rule checks the tap and its MAC',
      );
    assert.equal(ANTISPOOF_RULES.at(-1), 'drop');
  },
);

test('profile chains are stateful, always let DHCP and ND through, then try each group and drop the rest', () => {
  const p = profileOf([R, G, G]);
  assert.deepEqual(p.groups, [G, R].sort());
  assert.equal(profileOf([G, R]).key, p.key, 'order and duplicates do not matter');
  const eg = profileOutRules(p);
  assert.equal(eg[0], 'ct state established,related accept');
  assert.ok(eg.indexOf('ct state invalid drop') < eg.indexOf(`jump ${names.groupOut(G)}`));
  assert.deepEqual(eg.slice(-3), [...p.groups.map((g) => `jump ${names.groupOut(g)}`), 'drop']);
  assert.ok(eg.includes('udp sport 68 udp dport 67 accept'));
  const ing = profileInRules(p);
  assert.deepEqual(ing.slice(-3), [...p.groups.map((g) => `jump ${names.groupIn(g)}`), 'drop']);
  assert.ok(ing.includes('udp sport 67 udp dport 68 accept'));
  assert.equal(profileInRules(profileOf([])).at(-1), 'drop');
});

test(
  'a small group keeps its rules in two chains; a big one spreads them over buckets so a change rewrites ' + 'one',
  () => {
    const small = groupLayout(G, [
      rule({ protocol: 'tcp' }),
      rule({ id: 'r2', protocol: 'bogus' }),
      rule({ id: 'r3', direction: 'egress' }),
    ]);
    assert.deepEqual(
      small.skipped.map((s) => s.rule.id),
      ['r2'],
    );
    assert.deepEqual([...small.layout.keys()], [names.groupIn(G), names.groupOut(G)]);
    assert.equal(small.layout.get(names.groupIn(G))!.length, 1);
    const many = Array.from({ length: 1000 }, (_, i) =>
      rule({ id: `rule-${i}`, protocol: 'tcp', port_range_min: 1000 + i, port_range_max: 1000 + i }),
    );
    const big = groupLayout(G, many).layout;
    assert.ok(FLAT_RULES < 1000);
    assert.equal(big.get(names.groupIn(G))!.length, BUCKETS);
    const before = new Batch('t');
    before.changeGroup(new Map(), big);
    const after = groupLayout(G, [...many, rule({ id: 'one-more', protocol: 'udp' })]).layout;
    const change = new Batch('t').changeGroup(big, after).lines;
    assert.ok(change.length < (1000 / BUCKETS) * 3, `a one-rule change wrote ${change.length} lines`);
    assert.ok(change.some((l) => l.includes('meta l4proto 17')));
    assert.deepEqual(
      new Batch('t').changeGroup(big, groupLayout(G, [...many].reverse()).layout).lines,
      [],
      'rule order does not matter',
    );
  },
);

test('member addresses are single addresses, deduplicated; networks in pairs are not members', () => {
  assert.deepEqual(
    memberAddresses(
      port({
        allowedAddressPairs: [{ ip_address: '10.0.0.5' }, { ip_address: '10.0.0.0/24' }, { ip_address: '10.0.0.7/32' }],
      }),
    ),
    [
      { family: 4, addr: '10.0.0.5' },
      { family: 6, addr: '2001:db8::5' },
      { family: 4, addr: '10.0.0.7' },
    ],
  );
});

test('batches: table names are checked, tables are recreated atomically, element diffs delete before they add', () => {
  assert.throws(() => new Batch('bad name;'), /invalid nft table name/);
  const b = new Batch('gureum').recreateTables();
  assert.deepEqual(b.lines.slice(0, 4), [
    'add table bridge gureum',
    'delete table bridge gureum',
    'add table inet gureum',
    'delete table inet gureum',
  ]);
  const e = (set: string, key: string, value?: string): Element => ({
    family: 'inet',
    set,
    key,
    ...(value ? { value } : {}),
  });
  const d = diffElements([e('s', 'a'), e('m', '0x1', 'jump x')], [e('s', 'a'), e('m', '0x1', 'jump y'), e('s', 'b')]);
  assert.deepEqual(d.del, [e('m', '0x1', 'jump x')]);
  assert.deepEqual(d.add, [e('m', '0x1', 'jump y'), e('s', 'b')]);
  const lines = new Batch('gureum').deleteElements(d.del).addElements(d.add).lines;
  assert.deepEqual(lines, [
    'delete element inet gureum m { 0x1 }',
    'add element inet gureum m { 0x1 : jump y }',
    'add element inet gureum s { b }',
  ]);
});
