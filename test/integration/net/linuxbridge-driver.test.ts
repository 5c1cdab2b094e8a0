// The Linux bridge driver against the real kernel (root): namespaces the test makes stand in for guests and for the
// outside world; DHCP hands the fixed IP, the router routes and SNATs, a floating IP reaches the guest, and deleting
// everything leaves nothing behind. Every name is unique to this run; everything is removed also on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { LinuxBridgeDriver } from '../../../src/net/linuxbridge/index.js';
import type { NetAction, NetEvent, NetObjectKind, PortStatusReport } from '../../../src/net/index.js';
import { requireCommands, requireRoot } from '../../helpers/requirements.js';

const sh = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tryRun = (cmd: string, args: string[]): number | null => spawnSync(cmd, args, { stdio: 'ignore' }).status;
const inNs = (ns: string, cmd: string, args: string[]): string => sh('ip', ['netns', 'exec', ns, cmd, ...args]);
const pings = (ns: string, addr: string): boolean =>
  tryRun('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '2', addr]) === 0;

/** Waits for `ok` (a kernel or dnsmasq catching up), at most `tries` × 100 ms; no timing is asserted. */
async function until(ok: () => boolean, tries = 50): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const UDHCPC_HOOK = `#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/$mask" dev "$interface"
set -- $staticroutes
while [ -n "$1" ]; do ip route replace "$1" via "$2" dev "$interface"; shift 2; done
`;

test('linuxbridge: DHCP, routing, SNAT, floating IPs and a clean delete, in namespaces', async (t) => {
  if (!requireRoot(t, 'needs root (bridges, namespaces, nftables)')) return;
  if (!requireCommands(t, ['ip', 'bridge', 'nft', 'dnsmasq', 'busybox'])) return;
  const rnd = randomBytes(3).toString('hex');
  const tag = `t${rnd}`;
  const dir = mkdtempSync(join(tmpdir(), 'gureum-lb-'));
  const guestNs = `gtg-${rnd}`;
  const outNs = `gto-${rnd}`;
  const reports: PortStatusReport[] = [];
  const drv = new LinuxBridgeDriver({ stateDir: join(dir, 'net'), tag, host: 'h1', hostGateway: false, log: () => {} });
  drv.onPortStatus(async (r) => {
    reports.push(r);
  });
  let seq = 0;
  const ev = (kind: NetObjectKind, action: NetAction, object: Record<string, unknown>): Promise<void> =>
    drv.apply({ kind, action, id: String(object.id), object, seq: ++seq } satisfies NetEvent);
  t.after(async () => {
    await drv.destroyAll().catch(() => {});
    for (const ns of [guestNs, outNs]) tryRun('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  // Addresses live only inside this test's namespaces (the host holds none: hostGateway is off).
  const octet = 100 + (randomBytes(1)[0]! % 100);
  const priv = {
    id: randomUUID(),
    mtu: 1450,
    'provider:network_type': 'vxlan',
    'provider:segmentation_id': 4000 + octet,
    'router:external': false,
  };
  const ext = {
    id: randomUUID(),
    mtu: 1500,
    'provider:network_type': 'flat',
    'provider:physical_network': `ext${rnd}`,
    'router:external': true,
  };
  const privSub = {
    id: randomUUID(),
    network_id: priv.id,
    cidr: `10.${octet}.1.0/24`,
    ip_version: 4,
    gateway_ip: `10.${octet}.1.1`,
    enable_dhcp: true,
    dns_nameservers: [],
    host_routes: [],
  };
  const extSub = {
    id: randomUUID(),
    network_id: ext.id,
    cidr: `10.${octet}.2.0/24`,
    ip_version: 4,
    gateway_ip: `10.${octet}.2.1`,
    enable_dhcp: false,
    dns_nameservers: [],
    host_routes: [],
  };
  const mac = () => `fa:16:3e:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
  const port = (net: string, sub: string, ip: string, owner: string, extra: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    network_id: net,
    mac_address: mac(),
    fixed_ips: [{ subnet_id: sub, ip_address: ip }],
    device_owner: owner,
    device_id: '',
    admin_state_up: true,
    security_groups: [],
    allowed_address_pairs: [],
    port_security_enabled: true,
    ...extra,
  });
  await drv.resync({ networks: [], subnets: [], ports: [], routers: [], floatingips: [], security_groups: [] });
  for (const n of [priv, ext]) await ev('network', 'created', n);
  for (const s of [privSub, extSub]) await ev('subnet', 'created', s);
  const dhcpPort = port(priv.id, privSub.id, `10.${octet}.1.2`, 'network:dhcp');
  await ev('port', 'created', dhcpPort);
  const guest = port(priv.id, privSub.id, `10.${octet}.1.5`, 'compute:nova', { 'binding:host_id': 'h1' });
  await ev('port', 'bound', guest);
  assert.deepEqual(reports.find((r) => r.portId === guest.id)?.status, 'ACTIVE');

  // The guest: a namespace on the network's bridge with the port's MAC (standing in for QEMU on the tap).
  const br = `brq${priv.id.slice(0, 11)}`;
  sh('ip', ['netns', 'add', guestNs]);
  sh('ip', ['link', 'add', `gtg${rnd}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', guestNs]);
  sh('ip', ['link', 'set', `gtg${rnd}`, 'master', br, 'up']);
  inNs(guestNs, 'ip', ['link', 'set', 'eth0', 'address', guest.mac_address, 'up']);
  const hook = join(dir, 'udhcpc.sh');
  writeFileSync(hook, UDHCPC_HOOK);
  chmodSync(hook, 0o755);
  inNs(guestNs, 'busybox', [
    'udhcpc',
    '-i',
    'eth0',
    '-n',
    '-q',
    '-t',
    '5',
    '-T',
    '1',
    '-O',
    'staticroutes',
    '-s',
    hook,
  ]);
  assert.match(
    inNs(guestNs, 'ip', ['-4', 'addr', 'show', 'eth0']),
    new RegExp(`inet 10\\.${octet}\\.1\\.5/24`),
    'DHCP hands the fixed IP',
  );
  assert.match(
    inNs(guestNs, 'ip', ['route']),
    new RegExp(`default via 10\\.${octet}\\.1\\.1`),
    'option 121 carries the default route',
  );

  // Router: interface on private, gateway on the external network, SNAT on.
  const rif = port(priv.id, privSub.id, `10.${octet}.1.1`, 'network:router_interface');
  const router = {
    id: randomUUID(),
    admin_state_up: true,
    routes: [],
    interfaces: [rif],
    external_gateway_info: {
      network_id: ext.id,
      enable_snat: true,
      external_fixed_ips: [{ subnet_id: extSub.id, ip_address: `10.${octet}.2.10` }],
    },
  };
  await ev('router', 'created', router);
  assert.ok(await until(() => pings(guestNs, `10.${octet}.1.1`)), 'the guest reaches its gateway');

  // The outside world: a namespace on the external bridge.
  const extBr = `brq${ext.id.slice(0, 11)}`;
  sh('ip', ['netns', 'add', outNs]);
  sh('ip', ['link', 'add', `gto${rnd}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outNs]);
  sh('ip', ['link', 'set', `gto${rnd}`, 'master', extBr, 'up']);
  inNs(outNs, 'ip', ['addr', 'add', `10.${octet}.2.1/24`, 'dev', 'eth0']);
  inNs(outNs, 'ip', ['link', 'set', 'eth0', 'up']);
  // A listener outside that answers with the address it sees: SNAT shows the router's external IP.
  const listener = spawn(
    'ip',
    [
      'netns',
      'exec',
      outNs,
      process.execPath,
      '-e',
      `require('net').createServer((s)=>{s.end(s.remoteAddress+'\\n')}).listen(7777,'0.0.0.0',()=>console.log('up'))`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  t.after(() => {
    listener.kill('SIGKILL');
  });
  await new Promise((r) => listener.stdout.once('data', r));
  const seen = inNs(guestNs, 'busybox', ['nc', `10.${octet}.2.1`, '7777']).trim();
  assert.equal(seen, `10.${octet}.2.10`, 'SNAT to the router external IP');

  // A floating IP: the outside reaches the guest at it; disassociating cuts the path.
  const fip = {
    id: randomUUID(),
    floating_ip_address: `10.${octet}.2.20`,
    floating_network_id: ext.id,
    router_id: router.id,
    port_id: guest.id,
    fixed_ip_address: guest.fixed_ips[0]!.ip_address,
    port_forwardings: [],
  };
  await ev('floatingip', 'created', fip);
  assert.ok(await until(() => pings(outNs, fip.floating_ip_address)), 'outside → floating IP → guest');
  assert.equal(
    inNs(guestNs, 'busybox', ['nc', `10.${octet}.2.1`, '7777']).trim(),
    fip.floating_ip_address,
    'the guest leaves as its floating IP',
  );
  await ev('floatingip', 'updated', { ...fip, port_id: null, fixed_ip_address: null, router_id: null });
  assert.equal(pings(outNs, fip.floating_ip_address), false, 'disassociated: no path');

  // Delete everything: no device, namespace or dnsmasq of this cloud remains.
  await ev('router', 'deleted', router);
  await ev('port', 'deleted', guest);
  await ev('port', 'deleted', dhcpPort);
  for (const s of [privSub, extSub]) await ev('subnet', 'deleted', s);
  for (const n of [priv, ext]) await ev('network', 'deleted', n);
  const links = JSON.parse(sh('ip', ['-j', 'link', 'show'])) as { ifname: string; ifalias?: string }[];
  assert.deepEqual(
    links.filter((l) => l.ifalias === `gureum:${tag}`).map((l) => l.ifname),
    [],
  );
  const spaces = sh('ip', ['netns', 'list']);
  assert.ok(!spaces.includes(priv.id) && !spaces.includes(router.id), 'no qdhcp/qrouter namespace left');
  assert.ok(!sh('ps', ['-eo', 'args']).includes(join(dir, 'net')), 'no dnsmasq left');
});
