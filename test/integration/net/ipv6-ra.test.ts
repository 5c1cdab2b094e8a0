// IPv6 on the Linux bridge data plane (root): the network's dnsmasq (qdhcp namespace, --enable-ra) advertises a
// SLAAC subnet's prefix, and a client namespace on the network's bridge configures its own address from it (the
// EUI-64 address Neutron's IPAM gives the port); a dhcpv6-stateful subnet on the same network makes dnsmasq set the
// M flag. Prefixes are unique local (fdXX:...), inside this test's bridge and namespaces only. Every name is unique
// to this run; everything is removed also on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { LinuxBridgeDriver } from '../../../src/net/linuxbridge/index.js';
import type { NetAction, NetEvent, NetObjectKind } from '../../../src/net/index.js';
import { requireCommands, requireRoot } from '../../helpers/requirements.js';

const sh = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, cmd: string, args: string[]): string => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

/** Waits for `ok` (SLAAC after an advertisement and DAD), at most `tries` × 250 ms; no timing is asserted. */
async function until(ok: () => boolean, tries = 120): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** The EUI-64 interface id of a MAC (what SLAAC and Neutron's IPAM both derive). */
function eui64(mac: string): string {
  const b = mac.split(':').map((x) => Number.parseInt(x, 16));
  b[0]! ^= 2;
  const w = [b[0]! * 256 + b[1]!, b[2]! * 256 + 0xff, 0xfe * 256 + b[3]!, b[4]! * 256 + b[5]!];
  return w.map((x) => x.toString(16)).join(':');
}

test('linuxbridge IPv6: a namespace client takes its SLAAC address from the prefix dnsmasq advertises', async (t) => {
  if (!requireRoot(t, 'needs root (bridges, namespaces)')) return;
  if (!requireCommands(t, ['ip', 'bridge', 'dnsmasq'])) return;
  const rnd = randomBytes(3).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'gureum-v6-'));
  const clientNs = `g6c-${rnd}`;
  const drv = new LinuxBridgeDriver({ stateDir: join(dir, 'net'), tag: `t${rnd}`, host: 'h1', hostGateway: false });
  let seq = 0;
  const ev = (kind: NetObjectKind, action: NetAction, object: Record<string, unknown>): Promise<void> =>
    drv.apply({ kind, action, id: String(object.id), object, seq: ++seq } satisfies NetEvent);
  t.after(async () => {
    await drv.destroyAll().catch(() => {});
    spawnSync('ip', ['netns', 'del', clientNs], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  const net = { id: randomUUID(), mtu: 1450, 'provider:network_type': 'vxlan', 'provider:segmentation_id': 4100 };
  const prefix = `fd${rnd.slice(0, 2)}:${rnd.slice(2, 6)}:1:1`;
  const statefulPrefix = `fd${rnd.slice(0, 2)}:${rnd.slice(2, 6)}:1:2`;
  const v6 = (id: string, cidrBase: string, mode: string) => ({
    id,
    network_id: net.id,
    cidr: `${cidrBase}::/64`,
    ip_version: 6,
    gateway_ip: `${cidrBase}::1`,
    enable_dhcp: true,
    dns_nameservers: [],
    host_routes: [],
    ipv6_address_mode: mode,
    ipv6_ra_mode: mode,
  });
  const slaac = v6(randomUUID(), prefix, 'slaac');
  const stateful = v6(randomUUID(), statefulPrefix, 'dhcpv6-stateful');
  const dhcpMac = `fa:16:3e:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
  const dhcpPort = {
    id: randomUUID(),
    network_id: net.id,
    mac_address: dhcpMac,
    fixed_ips: [
      { subnet_id: slaac.id, ip_address: `${prefix}:${eui64(dhcpMac)}` },
      { subnet_id: stateful.id, ip_address: `${statefulPrefix}::2` },
    ],
    device_owner: 'network:dhcp',
    device_id: '',
    admin_state_up: true,
    security_groups: [],
    allowed_address_pairs: [],
    port_security_enabled: false,
  };
  await drv.resync({ networks: [], subnets: [], ports: [], routers: [], floatingips: [], security_groups: [] });
  await ev('network', 'created', net);
  for (const s of [slaac, stateful]) await ev('subnet', 'created', s);
  await ev('port', 'created', dhcpPort);

  // dnsmasq runs with RAs on, one range per mode.
  const args = readFileSync(join(dir, 'net', 'dhcp', net.id, 'args'), 'utf8');
  assert.match(args, /--enable-ra/);
  assert.ok(args.includes(`${prefix}::,ra-only,64`), args);
  assert.ok(args.includes(`${statefulPrefix}::,static,64`), args);

  // The client: a namespace on the network's bridge that accepts router advertisements.
  const clientMac = `fa:16:3e:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
  sh('ip', ['netns', 'add', clientNs]);
  sh('ip', ['link', 'add', `g6c${rnd}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', clientNs]);
  sh('ip', ['link', 'set', `g6c${rnd}`, 'master', `brq${net.id.slice(0, 11)}`, 'up']);
  inNs(clientNs, 'sysctl', ['-qw', 'net.ipv6.conf.eth0.accept_ra=1', 'net.ipv6.conf.eth0.autoconf=1']);
  inNs(clientNs, 'ip', ['link', 'set', 'eth0', 'address', clientMac, 'up']);
  // `ip` prints addresses in their short form (no leading zeros in a group): compare in that form.
  const want = `${prefix}:${eui64(clientMac)}`
    .split(':')
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':');
  const has = () => inNs(clientNs, 'ip', ['-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']).includes(want);
  assert.ok(await until(has), `no SLAAC address ${want}:\n${inNs(clientNs, 'ip', ['-6', 'addr'])}`);
  // Not the network's router: the advertisement gives no default route.
  assert.ok(!inNs(clientNs, 'ip', ['-6', 'route']).includes('default'), 'a default route from the DHCP namespace');

  // Deleting the network stops dnsmasq and removes its namespace.
  await ev('port', 'deleted', dhcpPort);
  for (const s of [slaac, stateful]) await ev('subnet', 'deleted', s);
  await ev('network', 'deleted', net);
  assert.ok(!sh('ip', ['netns', 'list']).includes(`qdhcp-${net.id}`), 'the DHCP namespace is gone');
});
