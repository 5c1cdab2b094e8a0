// The course lab end to end with Debian's stock `openstack` CLI only, on the Linux bridge data plane (root, QEMU/TCG):
// a network and subnet, a router with its gateway on the cloud's `public` pool and an interface on the subnet, a
// group opening 22/80/ICMP, a keypair, a server from `tiny`, a floating IP created and added, then SSH and ping from
// the test's own "outside" namespace (on public's bridge, holding the public gateway address) to the floating IP, and
// removal of everything. It also measures floating IP association -> first packet: from the moment `server add
// floating ip` returns to the first ping reply from outside, over a few associate/remove rounds (printed; no
// threshold). Names are unique to this run; cleanup runs also on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FINISHED_MARK, TINY_USER } from '../../src/imaging/tiny/guest-files.js';
import { registerTinyImage } from '../../src/imaging/tiny/register.js';
import { defaults } from '../../src/config.js';
import type { LinuxBridgeDriver } from '../../src/net/index.js';
import { createTestCloud } from '../helpers/cloud.js';
import { freePort } from '../helpers/server.js';
import { hostLock } from '../helpers/host-lock.js';
import { explained, openstackJson, openstackOk, type CliIdentity } from '../helpers/openstack.js';
import { requireCommands, requireOrSkip, requireRoot } from '../helpers/requirements.js';
import { killLeftovers } from './qemu-fixture.js';

const CACHE = process.env.GUREUM_TINY_CACHE || join(tmpdir(), 'gureum-tiny-cache');
/** Associate/remove rounds timed for association -> first packet. */
const ROUNDS = 5;

function inNs(ns: string, cmd: string, args: string[], timeout = 60_000): Promise<{ status: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout }, (err, stdout) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 255) : 0, stdout });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

test('course lab with the stock openstack CLI on the bridge data plane: SSH and ping to a floating IP', {
  timeout: 1_200_000,
}, async (t) => {
  if (!requireRoot(t, 'needs root (bridges, taps, namespaces)')) return;
  if (
    !requireCommands(t, [
      'openstack',
      'ip',
      'bridge',
      'nft',
      'dnsmasq',
      'qemu-system-x86_64',
      'ssh',
      'ssh-keygen',
      'ping',
    ])
  )
    return;
  const unlock = await hostLock('nft-firewall');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const c = await createTestCloud({
    config: {
      server: { publicUrl: baseUrl },
      virt: { driver: 'qemu', accel: 'tcg' },
      net: { ...defaults.net, dataPlane: 'linuxbridge', hostGateway: false },
    },
  });
  const driver = c.controller.deps.network.events.driver as LinuxBridgeDriver;
  const rnd = randomBytes(3).toString('hex');
  const outNs = `gcl-${rnd}`;
  const work = mkdtempSync(join(tmpdir(), 'gureum-course-lab-'));
  t.after(async () => {
    killLeftovers(c.config.dataDir);
    await driver.destroyAll().catch(() => {});
    spawnSync('ip', ['netns', 'del', outNs]);
    await c.close();
    rmSync(work, { recursive: true, force: true });
    unlock();
  });
  const reg = await registerTinyImage(c.controller.deps.image, {
    adminProjectId: c.controller.bootstrap.adminProjectId,
    cacheDir: CACHE,
  });
  if (reg.status === 'skipped') {
    requireOrSkip(t, false, `the tiny image cannot be built here: ${reg.reason}`);
    return;
  }
  await c.controller.server.listen({ host: '127.0.0.1', port });
  c.controller.deps.metadata.setControllerUrl(baseUrl);

  const who: CliIdentity = {
    authUrl: `${baseUrl}/identity/v3`,
    credentials: { username: 'admin', password: 'test-admin-password', projectName: 'admin', domainName: 'Default' },
  };
  const json = <T = any>(args: string[]) => explained(openstackJson<T>(who, args, { timeoutMs: 300_000 }));
  const ok = (args: string[]) => explained(openstackOk(who, args, { timeoutMs: 300_000 }));
  const name = (what: string) => `lab-${what}-${rnd}`;

  // The project side of the lab.
  const net = await json(['network', 'create', name('net')]);
  const sub = await json([
    'subnet',
    'create',
    '--network',
    net.id,
    '--subnet-range',
    '192.168.100.0/24',
    '--dns-nameserver',
    '192.168.100.1',
    name('subnet'),
  ]);
  const router = await json(['router', 'create', name('router')]);
  await ok(['router', 'set', '--external-gateway', 'public', router.id]);
  await ok(['router', 'add', 'subnet', router.id, sub.id]);
  const sg = await json(['security', 'group', 'create', name('sg')]);
  for (const rule of [
    ['--protocol', 'tcp', '--dst-port', '22'],
    ['--protocol', 'tcp', '--dst-port', '80'],
    ['--protocol', 'icmp'],
  ])
    await ok(['security', 'group', 'rule', 'create', ...rule, '--remote-ip', '0.0.0.0/0', sg.id]);
  const keyFile = join(work, 'id_ed25519');
  assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]).status, 0);
  await ok(['keypair', 'create', '--public-key', `${keyFile}.pub`, name('key')]);
  const server = await json([
    'server',
    'create',
    '--image',
    reg.imageId,
    '--flavor',
    'm1.nano',
    '--network',
    net.id,
    '--security-group',
    sg.id,
    '--key-name',
    name('key'),
    '--wait',
    name('vm'),
  ]);
  assert.equal(server.status, 'ACTIVE');
  // The guest is up when its init says so on the console (TCG boots take a while under load).
  const deadline = Date.now() + 300_000;
  let log = '';
  while (Date.now() < deadline && !log.includes(FINISHED_MARK)) {
    log = await ok(['console', 'log', 'show', server.id]);
    if (!log.includes(FINISHED_MARK)) await new Promise((r) => setTimeout(r, 2000));
  }
  assert.ok(log.includes(FINISHED_MARK), `the guest never finished booting:\n${log.slice(-2000)}`);

  // The outside world: a namespace on public's bridge holding the public subnet's gateway (the router's next hop).
  const pub = await json(['network', 'show', 'public']);
  const pubSub = await json(['subnet', 'show', pub.subnets[0] ?? pub.subnets]);
  execFileSync('ip', ['netns', 'add', outNs]);
  execFileSync('ip', ['link', 'add', `gcl${rnd}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outNs]);
  execFileSync('ip', ['link', 'set', `gcl${rnd}`, 'master', `brq${String(pub.id).slice(0, 11)}`, 'up']);
  execFileSync('ip', ['netns', 'exec', outNs, 'ip', 'addr', 'add', `${pubSub.gateway_ip}/24`, 'dev', 'eth0']);
  execFileSync('ip', ['netns', 'exec', outNs, 'ip', 'link', 'set', 'eth0', 'up']);

  const fip = (await json(['floating', 'ip', 'create', 'public'])).floating_ip_address as string;
  // One reply ends ping (-c 1); it probes every 50 ms for up to 60 s.
  const firstReply = async (): Promise<boolean> =>
    (await inNs(outNs, 'ping', ['-n', '-c', '1', '-i', '0.05', '-w', '60', fip], 70_000)).status === 0;
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await ok(['server', 'add', 'floating', 'ip', server.id, fip]);
    const t0 = performance.now();
    assert.ok(await firstReply(), `no ping reply from ${fip} within 60 s of association (round ${i + 1})`);
    samples.push(performance.now() - t0);
    if (i < ROUNDS - 1) {
      await ok(['server', 'remove', 'floating', 'ip', server.id, fip]);
      // Removal cuts the path at once: no reply from the floating IP any more.
      const gone = await inNs(outNs, 'ping', ['-n', '-c', '1', '-W', '2', fip]);
      assert.notEqual(gone.status, 0, 'the floating IP still answers after its removal');
    }
  }
  t.diagnostic(
    `floating IP association -> first packet (ms): ${samples.map((s) => s.toFixed(0)).join(', ')}; ` +
      `p50 ${median(samples).toFixed(0)}`,
  );

  // SSH as the image's user, with the keypair, to the floating IP; then ping.
  const ssh = (cmd: string) =>
    inNs(outNs, 'ssh', [
      '-i',
      keyFile,
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=20',
      '-o',
      'LogLevel=ERROR',
      `${TINY_USER}@${fip}`,
      cmd,
    ]);
  let hostname = await ssh('hostname');
  for (let i = 0; i < 5 && hostname.status !== 0; i++) hostname = await ssh('hostname');
  assert.equal(hostname.stdout.trim(), name('vm'), 'SSH to the floating IP answers the server name');
  assert.equal((await inNs(outNs, 'ping', ['-c', '3', '-i', '0.3', '-W', '3', fip])).status, 0, 'ping the floating IP');

  // Removal, all with the CLI; the router's namespace and the server's tap go with them.
  await ok(['server', 'remove', 'floating', 'ip', server.id, fip]);
  await ok(['floating', 'ip', 'delete', fip]);
  await ok(['server', 'delete', '--wait', server.id]);
  await ok(['router', 'remove', 'subnet', router.id, sub.id]);
  await ok(['router', 'unset', '--external-gateway', router.id]);
  await ok(['router', 'delete', router.id]);
  await ok(['subnet', 'delete', sub.id]);
  await ok(['network', 'delete', net.id]);
  await ok(['security', 'group', 'delete', sg.id]);
  await ok(['keypair', 'delete', name('key')]);
  await c.controller.deps.network.events.drain();
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  assert.ok(!namespaces.includes(`qrouter-${router.id}`), 'the router namespace is gone');
  assert.ok(!namespaces.includes(`qdhcp-${net.id}`), 'the network DHCP namespace is gone');
  assert.ok(!readFileSync('/proc/net/dev', 'utf8').includes(`brq${String(net.id).slice(0, 11)}`), 'its bridge is gone');
});
