// Tiny guests on the Linux bridge data plane (root, QEMU/TCG): two guests on `private` take their fixed IPs by DHCP
// and ping each other; an outside namespace the test attaches to `public` (holding the public gateway address) cannot
// reach a guest's port 22 or ping it until security-group rules open them, then reaches it by SSH on its floating IP;
// the guest is seen from outside as its floating IP (SNAT); a guest on a network with no router cannot be reached;
// deleting the servers removes their taps and the firewall's nft tables, and the teardown leaves no bridge,
// namespace or dnsmasq. Every name is unique to this run (ids, a random suffix); cleanup runs also on failure.
import { test } from 'node:test';
import { hostLock } from '../helpers/host-lock.js';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { FINISHED_MARK } from '../../src/imaging/tiny/index.js';
import { registerTinyImage } from '../../src/imaging/tiny/register.js';
import { defaults } from '../../src/config.js';
import { type LinuxBridgeDriver, tapName } from '../../src/net/index.js';
import { createTestCloud } from '../helpers/cloud.js';
import { requireCommands, requireOrSkip, requireRoot } from '../helpers/requirements.js';
import { V, consoleOf, killLeftovers, waitStatus } from './qemu-fixture.js';

const CACHE = process.env.GUREUM_TINY_CACHE || join(tmpdir(), 'gureum-tiny-cache');
const N = '/network/v2.0';

/** A command inside a namespace without blocking the event loop (the in-process cloud keeps serving). */
function inNs(
  ns: string,
  cmd: string,
  args: string[],
  timeout = 60_000,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 255) : 0, stdout, stderr });
    });
  });
}

async function waitConsole(
  c: Parameters<typeof consoleOf>[0],
  id: string,
  pattern: RegExp,
  timeoutMs = 180_000,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  let out = '';
  while (Date.now() < deadline) {
    out = await consoleOf(c, id);
    const m = pattern.exec(out);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`console never matched ${pattern}:\n${out.slice(-3000)}`);
}

test('linuxbridge e2e: DHCP, guest to guest, floating IP SSH from outside, SNAT, isolation, clean teardown', {
  timeout: 900_000,
}, async (t) => {
  if (!requireRoot(t, 'needs root (bridges, taps, namespaces)')) return;
  if (
    !requireCommands(t, [
      'ip',
      'bridge',
      'nft',
      'dnsmasq',
      'qemu-system-x86_64',
      'ssh',
      'ssh-keygen',
      'busybox',
      'ping',
    ])
  )
    return;
  // One firewall on the host at a time (test/helpers/host-lock.ts says why).
  // Released at the end of the cleanup below (or when this test file's process ends).
  const unlock = await hostLock('nft-firewall');
  const c = await createTestCloud({
    config: {
      virt: { driver: 'qemu', accel: 'tcg' },
      net: { ...defaults.net, dataPlane: 'linuxbridge', hostGateway: false },
    },
  });
  const driver = c.controller.deps.network.events.driver as LinuxBridgeDriver;
  const rnd = randomBytes(3).toString('hex');
  const outNs = `gte-${rnd}`;
  const work = mkdtempSync(join(tmpdir(), 'gureum-lb-e2e-'));
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
  // The metadata agent forwards to the API over HTTP: the in-process cloud listens on a free loopback port.
  await c.controller.server.listen({ host: '127.0.0.1', port: 0 });
  c.controller.deps.metadata.setControllerUrl(
    `http://127.0.0.1:${(c.controller.server.server.address() as AddressInfo).port}`,
  );
  const keyFile = join(work, 'id_ed25519');
  assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]).status, 0);
  const tok = { token: c.adminToken };
  assert.equal(
    (
      await c.request('POST', `${V}/os-keypairs`, {
        ...tok,
        body: { keypair: { name: 'k', public_key: readFileSync(`${keyFile}.pub`, 'utf8') } },
      })
    ).status,
    200,
  );
  const nets = (await c.request('GET', `${N}/networks`, tok)).json.networks as { id: string; name: string }[];
  const priv = nets.find((n) => n.name === 'private')!;
  const pub = nets.find((n) => n.name === 'public')!;

  // A network with no router: its guest must stay unreachable from the others.
  const lone = (await c.request('POST', `${N}/networks`, { ...tok, body: { network: { name: 'lone' } } })).json.network;
  assert.equal(
    (
      await c.request('POST', `${N}/subnets`, {
        ...tok,
        body: { subnet: { network_id: lone.id, cidr: '10.0.9.0/24', ip_version: 4 } },
      })
    ).status,
    201,
  );

  const boot = async (name: string, net: string): Promise<string> => {
    const r = await c.request('POST', `${V}/servers`, {
      ...tok,
      body: { server: { name, imageRef: reg.imageId, flavorRef: '42', key_name: 'k', networks: [{ uuid: net }] } },
    });
    assert.equal(r.status, 202, r.text);
    return r.json.server.id as string;
  };
  const ids = [await boot('vm1', priv.id), await boot('vm2', priv.id), await boot('vm3', lone.id)];
  const ipOf: string[] = [];
  for (const [i, id] of ids.entries()) {
    await waitStatus(c, id, 'ACTIVE', 180_000);
    const m = await waitConsole(c, id, new RegExp(`${FINISHED_MARK}.*hostname=vm${i + 1} ip=(\\S+)`));
    const ports = (await c.request('GET', `${N}/ports?device_id=${id}`, tok)).json.ports;
    assert.equal(ports[0].status, 'ACTIVE', 'a wired port is ACTIVE');
    assert.equal(ports[0]['binding:vif_type'], 'bridge');
    const fixed = ports[0].fixed_ips[0].ip_address as string;
    assert.equal(m[1]!.split('/')[0], fixed, `vm${i + 1} took its fixed IP by DHCP`);
    ipOf.push(fixed);
  }

  // The outside world: a namespace on public's bridge holding the public subnet's gateway (the router's next hop).
  const pubSub = (await c.request('GET', `${N}/subnets?network_id=${pub.id}`, tok)).json.subnets[0];
  execFileSync('ip', ['netns', 'add', outNs]);
  execFileSync('ip', ['link', 'add', `gte${rnd}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outNs]);
  execFileSync('ip', ['link', 'set', `gte${rnd}`, 'master', `brq${pub.id.slice(0, 11)}`, 'up']);
  execFileSync('ip', ['netns', 'exec', outNs, 'ip', 'addr', 'add', `${pubSub.gateway_ip}/24`, 'dev', 'eth0']);
  execFileSync('ip', ['netns', 'exec', outNs, 'ip', 'link', 'set', 'eth0', 'up']);

  const port1 = (await c.request('GET', `${N}/ports?device_id=${ids[0]}`, tok)).json.ports[0];
  const fipRes = await c.request('POST', `${N}/floatingips`, {
    ...tok,
    body: { floatingip: { floating_network_id: pub.id, port_id: port1.id } },
  });
  assert.equal(fipRes.status, 201, fipRes.text);
  const fip = fipRes.json.floatingip.floating_ip_address as string;

  // Security groups: the default group admits only its own members, so from outside port 22 is closed until a rule
  // opens it (and ICMP likewise); a rule deleted cuts new connections.
  const tcpFromOutside = async (port: number): Promise<boolean> =>
    (
      await inNs(outNs, process.execPath, [
        '-e',
        `const s=require('net').connect({host:process.argv[1],port:+process.argv[2]});s.setTimeout(3000,()=>process.exit(3));s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(2))`,
        fip,
        String(port),
      ])
    ).status === 0;
  const pingFromOutside = async (): Promise<boolean> =>
    (await inNs(outNs, 'ping', ['-c', '2', '-i', '0.3', '-W', '2', fip])).status === 0;
  assert.equal(await tcpFromOutside(22), false, 'port 22 open from outside with only the default group');
  assert.equal(await pingFromOutside(), false, 'ping answered from outside with only the default group');
  const group = port1.security_groups[0] as string;
  const addRule = async (rule: Record<string, unknown>): Promise<string> => {
    const r = await c.request('POST', `${N}/security-group-rules`, {
      ...tok,
      body: { security_group_rule: { security_group_id: group, direction: 'ingress', ethertype: 'IPv4', ...rule } },
    });
    assert.equal(r.status, 201, r.text);
    return r.json.security_group_rule.id as string;
  };
  const sshRule = await addRule({
    protocol: 'tcp',
    port_range_min: 22,
    port_range_max: 22,
    remote_ip_prefix: '0.0.0.0/0',
  });
  await addRule({ protocol: 'icmp' });
  await c.controller.deps.network.events.drain();
  assert.equal(await pingFromOutside(), true, 'ping from outside once ICMP is allowed');

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
      `root@${fip}`,
      cmd,
    ]);
  let who = await ssh('hostname');
  for (let i = 0; i < 5 && who.status !== 0; i++) who = await ssh('hostname');
  assert.equal(who.stdout.trim(), 'vm1', `SSH from outside to the floating IP: ${who.stderr}`);
  assert.equal((await inNs(outNs, 'ping', ['-c', '1', '-W', '3', fip])).status, 0, 'ICMP once allowed');

  // Metadata through the router namespace names the asking guest; vm3 (no router) got its name through DHCP's.
  const md = await ssh('timeout 10 wget -q -O - http://169.254.169.254/openstack/latest/meta_data.json');
  assert.equal(JSON.parse(md.stdout).uuid, ids[0], `metadata answers vm1 its own id: ${md.stderr}`);
  // vm1 speaking from vm2's address (a second address and a route with that source) is dropped by anti-spoofing at
  // its tap: it learns nothing, neither its own data nor vm2's.
  const privGw = (await c.request('GET', `${N}/subnets?network_id=${priv.id}`, tok)).json.subnets[0]
    .gateway_ip as string;
  const spoof = await ssh(
    `ip addr add ${ipOf[1]}/32 dev eth0 && ip route add 169.254.169.254/32 via ${privGw} dev eth0 src ${ipOf[1]};` +
      ` timeout 8 wget -q -O - http://169.254.169.254/openstack/latest/meta_data.json; echo rc=$?;` +
      ` ip route del 169.254.169.254/32; ip addr del ${ipOf[1]}/32 dev eth0`,
  );
  assert.ok(!spoof.stdout.includes('"uuid"'), `a spoofed source got metadata: ${spoof.stdout}`);
  assert.match(spoof.stdout, /rc=[1-9]/, `the spoofed request failed: ${spoof.stdout} ${spoof.stderr}`);
  assert.equal((await ssh(`ping -c 2 -W 2 ${ipOf[1]}`)).status, 0, 'vm1 pings vm2 on private');
  assert.notEqual((await ssh(`ping -c 2 -W 2 ${ipOf[2]}`)).status, 0, 'the unrouted network stays isolated');

  // SNAT: the guest reaches a listener outside and is seen as its floating IP.
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
  assert.equal((await ssh(`nc ${pubSub.gateway_ip} 7777 </dev/null`)).stdout.trim(), fip);

  // Deleting the SSH rule cuts new connections.
  assert.equal((await c.request('DELETE', `${N}/security-group-rules/${sshRule}`, tok)).status, 204);
  await c.controller.deps.network.events.drain();
  assert.equal(await tcpFromOutside(22), false, 'port 22 still open after its rule was deleted');

  // Deleting the servers removes their taps.
  for (const id of ids) assert.equal((await c.request('DELETE', `${V}/servers/${id}`, tok)).status, 204);
  for (const id of ids) await waitStatus(c, id, 'DELETED', 120_000).catch(() => {});
  await c.controller.deps.network.events.drain();
  const links = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' });
  assert.ok(!links.includes(tapName(port1.id)), 'the guest tap is gone');
  const fwTable = `gureum_${createHash('sha256').update(c.config.dataDir).digest('hex').slice(0, 8)}`;
  assert.notEqual(
    spawnSync('nft', ['list', 'table', 'inet', fwTable]).status,
    0,
    'no guest left, no firewall table left',
  );
});
