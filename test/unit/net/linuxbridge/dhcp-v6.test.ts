// dnsmasq's files for IPv6 subnets: which mode each address mode maps to, DHCPv6 leases only on stateful subnets,
// DNS servers as option6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hostsFile,
  optsFile,
  servedByDhcp,
  v6RangeMode,
  type DhcpNetwork,
} from '../../../../src/net/linuxbridge/dhcp.js';
import { portView, subnetView } from '../../../../src/net/linuxbridge/model.js';

const v6 = (id: string, mode: string | null, ra: string | null = mode) =>
  subnetView({
    id,
    network_id: 'n',
    cidr: `fd00:${id}::/64`,
    ip_version: 6,
    enable_dhcp: true,
    dns_nameservers: ['fd00::53'],
    ipv6_address_mode: mode,
    ipv6_ra_mode: ra,
  });

test('dhcp v6: address modes map to ra-only, ra-stateless and static; unmoded v6 subnets are not served', () => {
  assert.equal(v6RangeMode(v6('1', 'slaac')), 'ra-only');
  assert.equal(v6RangeMode(v6('2', 'dhcpv6-stateless')), 'ra-stateless');
  assert.equal(v6RangeMode(v6('3', 'dhcpv6-stateful')), 'static');
  assert.equal(v6RangeMode(v6('4', null, 'dhcpv6-stateful')), 'static');
  assert.equal(servedByDhcp(v6('5', null, null)), false);
  assert.equal(servedByDhcp(v6('6', 'slaac')), true);
});

test('dhcp v6: stateful subnets get bracketed host entries, SLAAC ones none; DNS as option6', () => {
  const slaac = v6('a', 'slaac');
  const stateful = v6('b', 'dhcpv6-stateful');
  const guest = portView({
    id: 'p',
    network_id: 'n',
    mac_address: 'fa:16:3e:00:00:01',
    fixed_ips: [
      { subnet_id: 'a', ip_address: 'fd00:a::f816:3eff:fe00:1' },
      { subnet_id: 'b', ip_address: 'fd00:b::5' },
    ],
  });
  const d: DhcpNetwork = {
    networkId: 'n',
    port: portView({ id: 'd', network_id: 'n', fixed_ips: [] }),
    subnets: [slaac, stateful],
    hosts: [guest],
    metadataViaDhcp: false,
    mtu: 1450,
  };
  assert.equal(hostsFile(d), 'fa:16:3e:00:00:01,host-fd00-b--5,[fd00:b::5]\n');
  const opts = optsFile(d);
  assert.ok(opts.includes('tag:subnet-b,option6:dns-server,[fd00::53]'), opts);
  assert.ok(!opts.includes('option:router'), 'no IPv4 options for IPv6 subnets');
});
