// Pure parts of the Linux bridge data plane: names, dnsmasq files, the router's NAT table, the data-plane choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bridgeName, tapName, tapMac, routerDeviceName } from '../../../src/net/linuxbridge/names.js';
import { hostsFile, optsFile, type DhcpNetwork } from '../../../src/net/linuxbridge/dhcp.js';
import { natRuleset } from '../../../src/net/linuxbridge/router.js';
import { portView, routerView, subnetView } from '../../../src/net/linuxbridge/model.js';
import { chooseDataPlane } from '../../../src/net/data-plane.js';

const NET = '3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8';
const PORT = '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9';

test('device names follow Neutron and fit in 15 bytes; a tap never holds the guest MAC', () => {
  assert.equal(bridgeName(NET), 'brq3f2a1b4c-5d');
  assert.equal(tapName(PORT), 'tap0a1b2c3d-4e');
  assert.equal(routerDeviceName(PORT, true), 'qg-0a1b2c3d-4e');
  for (const n of [bridgeName(NET), tapName(PORT), routerDeviceName(PORT, false)]) assert.ok(n.length <= 15);
  assert.equal(tapMac('fa:16:3e:01:02:03'), 'fe:16:3e:01:02:03');
});

const subnet = subnetView({
  id: 'sub-1',
  network_id: NET,
  cidr: '10.0.0.0/24',
  ip_version: 4,
  gateway_ip: '10.0.0.1',
  enable_dhcp: true,
  dns_nameservers: ['10.0.0.53'],
  host_routes: [{ destination: '192.168.5.0/24', nexthop: '10.0.0.254' }],
});
const dhcpPort = portView({
  id: PORT,
  network_id: NET,
  mac_address: 'fa:16:3e:00:00:02',
  device_owner: 'network:dhcp',
  fixed_ips: [{ subnet_id: 'sub-1', ip_address: '10.0.0.2' }],
});
const guest = portView({
  id: 'p2',
  network_id: NET,
  mac_address: 'fa:16:3e:00:00:05',
  device_owner: 'compute:nova',
  fixed_ips: [
    { subnet_id: 'sub-1', ip_address: '10.0.0.5' },
    { subnet_id: 'v6', ip_address: 'fd00::5' },
  ],
});

test('dnsmasq gets static hosts only for its subnets, and option 121 with the default route', () => {
  const d: DhcpNetwork = {
    networkId: NET,
    port: dhcpPort,
    subnets: [subnet],
    hosts: [dhcpPort, guest],
    metadataViaDhcp: true,
    mtu: 1450,
  };
  assert.equal(hostsFile(d), 'fa:16:3e:00:00:02,host-10-0-0-2,10.0.0.2\nfa:16:3e:00:00:05,host-10-0-0-5,10.0.0.5\n');
  const opts = optsFile(d);
  assert.match(opts, /option:dns-server,10\.0\.0\.53/);
  assert.match(opts, /option:mtu,1450/);
  // Clients that take option 121 ignore option 3: the default route must be among the classless routes.
  assert.match(
    opts,
    /classless-static-route,192\.168\.5\.0\/24,10\.0\.0\.254,169\.254\.169\.254\/32,10\.0\.0\.2,0\.0\.0\.0\/0,10\.0\.0\.1/,
  );
});

test(
  'the router NAT table: SNAT of internal subnets, 1:1 floating IPs, port forwardings, in one replacing ' + 'batch',
  () => {
    const r = routerView({
      id: 'r1-aaaaaaaaaaa',
      interfaces: [{ id: 'if1', network_id: NET, fixed_ips: [{ subnet_id: 'sub-1', ip_address: '10.0.0.1' }] }],
      external_gateway_info: {
        network_id: 'ext',
        enable_snat: true,
        external_fixed_ips: [{ subnet_id: 'ext-sub', ip_address: '172.24.4.10' }],
      },
    });
    const text = natRuleset({
      router: r,
      subnets: new Map([['sub-1', subnet]]),
      metadataPort: null,
      floatingIps: [
        {
          id: 'f1',
          address: '172.24.4.20',
          networkId: 'ext',
          routerId: 'r1',
          portId: 'p2',
          fixedIp: '10.0.0.5',
          forwardings: [],
        },
        {
          id: 'f2',
          address: '172.24.4.21',
          networkId: 'ext',
          routerId: 'r1',
          portId: null,
          fixedIp: null,
          forwardings: [{ protocol: 'tcp', internalIp: '10.0.0.6', internalPort: 22, externalPort: 2222 }],
        },
      ],
    });
    assert.ok(text.startsWith('add table ip gureum_router\ndelete table ip gureum_router\n'));
    assert.match(text, /ip daddr 172\.24\.4\.20 dnat to 10\.0\.0\.5/);
    assert.match(text, /oifname "qg-r1-aaaaaaaa" ip saddr 10\.0\.0\.5 snat to 172\.24\.4\.20/);
    assert.match(text, /ip daddr 172\.24\.4\.21 tcp dport 2222 dnat to 10\.0\.0\.6:22/);
    assert.match(text, /oifname "qg-r1-aaaaaaaa" ip saddr 10\.0\.0\.0\/24 snat to 172\.24\.4\.10/);
    // The floating IP's own SNAT comes before the router-wide one, so the guest leaves as its floating IP.
    assert.ok(text.indexOf('snat to 172.24.4.20') < text.indexOf('snat to 172.24.4.10'));
  },
);

test(
  'data plane choice: auto is linuxbridge for QEMU guests as root with every tool and kernel feature, else user; ' +
    'an explicit linuxbridge that cannot run is an error',
  () => {
    const tools = mkdtempSync(join(tmpdir(), 'gureum-dp-tools-'));
    try {
      for (const bin of ['ip', 'bridge', 'nft', 'dnsmasq']) writeFileSync(join(tools, bin), '', { mode: 0o755 });
      const ok = { isRoot: true, dirs: [tools], hypervisor: 'qemu' as const, kernelMissing: () => [] };
      assert.equal(chooseDataPlane('user', ok).plane, 'user');
      assert.equal(chooseDataPlane('auto', ok).plane, 'linuxbridge');
      assert.match(chooseDataPlane('auto', ok).reason, /auto: root/);
      assert.equal(chooseDataPlane('linuxbridge', ok).plane, 'linuxbridge');
      // No QEMU guests (fake hypervisor): nothing to plug, no bridges made for nothing.
      assert.match(chooseDataPlane('auto', { ...ok, hypervisor: 'fake' }).reason, /hypervisor fake/);
      const noNft = chooseDataPlane('auto', { ...ok, kernelMissing: () => ['nf_tables (kernel)'] });
      assert.equal(noNft.plane, 'user');
      assert.match(noNft.reason, /nf_tables/);
      assert.throws(
        () => chooseDataPlane('linuxbridge', { ...ok, kernelMissing: () => ['bridge (kernel)'] }),
        /bridge \(kernel\)/,
      );
    } finally {
      rmSync(tools, { recursive: true, force: true });
    }
    assert.equal(chooseDataPlane('auto', { isRoot: false, dirs: [], hypervisor: 'qemu' }).plane, 'user');
    assert.match(chooseDataPlane('auto', { isRoot: false, dirs: [], hypervisor: 'qemu' }).reason, /root/);
    assert.throws(() => chooseDataPlane('linuxbridge', { isRoot: false, dirs: [] }), /needs root/);
  },
);
