// The Linux bridge data plane's agent reports: what each of Neutron's four agents runs on this host, counted from the
// driver's state and from live processes (a dnsmasq or proxy that died is not counted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentReports } from '../../../../src/net/linuxbridge/agents.js';
import { networkView, portView, routerView, subnetView } from '../../../../src/net/linuxbridge/model.js';
import { dhcpNamespace, routerNamespace } from '../../../../src/net/linuxbridge/names.js';

test('agent reports: four agents with mappings, live dnsmasq and proxies, routers and devices', async () => {
  const net = networkView({ id: 'n1', 'provider:network_type': 'vxlan', 'provider:segmentation_id': 5 });
  const dead = networkView({ id: 'n2', 'provider:network_type': 'vxlan', 'provider:segmentation_id': 6 });
  const sub = subnetView({ id: 's1', network_id: 'n1', cidr: '10.0.0.0/24', ip_version: 4, enable_dhcp: true });
  const guest = portView({ id: 'p1', network_id: 'n1', device_owner: 'compute:nova', 'binding:host_id': 'h1' });
  const away = portView({ id: 'p2', network_id: 'n1', device_owner: 'compute:nova', 'binding:host_id': 'h2' });
  const dhcp = portView({ id: 'p3', network_id: 'n1', device_owner: 'network:dhcp' });
  const router = routerView({ id: 'r1', external_gateway_info: { network_id: 'ext', enable_snat: true } });
  const reports = await agentReports({
    host: 'h1',
    physnets: { public: { bridge: 'br-ex' }, tenant: { interface: 'eth1' } },
    hostOnlyPhysnets: true,
    vxlanLocalIp: null,
    leaseSeconds: 86400,
    networks: new Map([
      ['n1', net],
      ['n2', dead],
    ]),
    subnets: new Map([['s1', sub]]),
    ports: new Map([
      ['p1', guest],
      ['p2', away],
      ['p3', dhcp],
    ]),
    routers: new Map([['r1', router]]),
    fips: new Map(),
    dnsmasqPid: async (id) => (id === 'n1' ? 42 : null),
    proxyPid: async (ns) => (ns === routerNamespace('r1') || ns === dhcpNamespace('n2') ? 7 : null),
    metadataSocket: '/x/metadata.sock',
  });
  const by = Object.fromEntries(reports.map((r) => [r.kind, r]));
  assert.deepEqual(Object.keys(by).sort(), ['dhcp', 'l2', 'l3', 'metadata']);
  for (const r of reports) assert.equal(r.host, 'h1');
  assert.deepEqual(by.l2!.configurations.bridge_mappings, { public: 'br-ex' });
  assert.deepEqual(by.l2!.configurations.interface_mappings, { tenant: 'eth1' });
  assert.deepEqual(by.l2!.configurations.tunnel_types, []);
  assert.equal(by.l2!.configurations.devices, 2, 'the guest port bound elsewhere is not a device here');
  assert.equal(by.dhcp!.configurations.networks, 1, 'only the network whose dnsmasq runs');
  assert.equal(by.l3!.configurations.routers, 1);
  assert.equal(by.l3!.configurations.ex_gw_ports, 1);
  assert.equal(by.metadata!.configurations.proxies, 2);
});

test('agent reports: no metadata agent when metadata is off', async () => {
  const empty = new Map();
  const reports = await agentReports({
    host: 'h',
    physnets: {},
    hostOnlyPhysnets: true,
    vxlanLocalIp: '192.0.2.1',
    leaseSeconds: 1,
    networks: empty,
    subnets: empty,
    ports: empty,
    routers: empty,
    fips: empty,
    dnsmasqPid: async () => null,
    proxyPid: null,
    metadataSocket: null,
  });
  assert.deepEqual(
    reports.map((r) => r.kind),
    ['l2', 'dhcp', 'l3'],
  );
  assert.deepEqual(reports[0]!.configurations.tunnel_types, ['vxlan']);
});
