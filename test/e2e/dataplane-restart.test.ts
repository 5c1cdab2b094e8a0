// kill -9 of `gureum up` with a running bridged guest (root, QEMU/TCG): pings from an outside namespace to the
// guest's floating IP keep flowing while the process is dead and after it restarted; the restart's resync is
// idempotent (the same nft rules, namespaces, dnsmasq and metadata proxy, none twice), also on a second, graceful
// restart; the restarted cloud still manages the guest (deleting it removes its tap). A real `gureum up` process is
// needed here (kill -9 of an in-process cloud would kill the test). Every name is unique to this run; cleanup (the
// server, QEMU, `gureum net purge`, the outside namespace, the data dir) runs also on failure.
import { test } from 'node:test';
import { hostLock } from '../helpers/host-lock.js';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { tapName } from '../../src/net/index.js';
import { MAIN_JS, freePort, getToken, readCloudConfig } from '../helpers/server.js';
import { request } from '../helpers/http.js';
import { requireCommands, requireRoot } from '../helpers/requirements.js';
import { killLeftovers } from './qemu-fixture.js';

const CACHE = process.env.GUREUM_TINY_CACHE || join(tmpdir(), 'gureum-tiny-cache');

function inNs(ns: string, cmd: string, args: string[], timeout = 120_000): Promise<{ status: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout }, (err, stdout) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 255) : 0, stdout });
    });
  });
}

/** Processes whose command line names the data dir (dnsmasq, metadata proxies), by kind, with their pids. */
function helpersOf(dataDir: string): { dnsmasq: number[]; proxies: number[] } {
  const out = { dnsmasq: [] as number[], proxies: [] as number[] };
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (!cmd.includes(dataDir)) continue;
    if (/(^|\/)dnsmasq /.test(cmd)) out.dnsmasq.push(Number(pid));
    else if (cmd.includes('metadata-ns-proxy')) out.proxies.push(Number(pid));
  }
  return { dnsmasq: out.dnsmasq.sort(), proxies: out.proxies.sort() };
}

/**
 * What this cloud holds on the host: its nft tables (rules without handles and counters), its namespaces (those
 * named after its networks and routers) and helper processes.
 */
function hostState(dataDir: string, tag: string, ids: string[]) {
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(tag))
    .sort();
  const rules = tables.map((l) =>
    execFileSync('nft', ['list', 'table', ...l.split(' ').slice(1)], { encoding: 'utf8' })
      .replace(/ # handle \d+/g, '')
      .replace(/counter packets \d+ bytes \d+/g, 'counter'),
  );
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => ids.some((id) => n === `qdhcp-${id}` || n === `qrouter-${id}`))
    .sort();
  return { tables, rules, namespaces, ...helpersOf(dataDir) };
}

test("linuxbridge: kill -9 of gureum up keeps the guests' traffic; the restart duplicates nothing", {
  timeout: 900_000,
}, async (t) => {
  if (!requireRoot(t, 'needs root (bridges, taps, namespaces)')) return;
  if (!requireCommands(t, ['ip', 'bridge', 'nft', 'dnsmasq', 'qemu-system-x86_64', 'ping'])) return;
  // One firewall on the host at a time (test/helpers/host-lock.ts says why).
  // Released at the end of the cleanup below (or when this test file's process ends).
  const unlock = await hostLock('nft-firewall');
  const rnd = randomBytes(3).toString('hex');
  const outNs = `gtr-${rnd}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-lb-restart-'));
  const tag = createHash('sha256').update(dataDir).digest('hex').slice(0, 8);
  // The tiny image's build is shared with the other e2e tests; without it the first start builds it.
  if (existsSync(join(CACHE, 'latest'))) cpSync(CACHE, join(dataDir, 'cache', 'tiny'), { recursive: true });
  // No gateway address on the host: the outside namespace below holds it, so parallel clouds never share it.
  writeFileSync(
    join(dataDir, 'gureum.json'),
    JSON.stringify({ net: { dataPlane: 'linuxbridge', hostGateway: false }, virt: { driver: 'qemu', accel: 'tcg' } }),
    { mode: 0o600 },
  );
  const apiPort = await freePort();
  const base = `http://127.0.0.1:${apiPort}`;
  const children: ChildProcess[] = [];
  let output = '';
  const up = async (): Promise<ChildProcess> => {
    const child = spawn(
      process.execPath,
      [MAIN_JS, 'up', '--listen', `127.0.0.1:${apiPort}`, '--data-dir', dataDir, '--log-level', 'info'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    child.stdout!.on('data', (d) => {
      output += d;
    });
    child.stderr!.on('data', (d) => {
      output += d;
    });
    const deadline = Date.now() + 600_000; // a guard: a first start may build the tiny image
    for (;;) {
      try {
        if ((await fetch(`${base}/healthz`)).status === 200) return child;
      } catch {
        /* starting */
      }
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`gureum up did not start:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const stopAll = async (signal: NodeJS.Signals) => {
    await Promise.all(
      children
        .filter((c) => c.exitCode === null && c.signalCode === null)
        .map(
          (c) =>
            new Promise((resolve) => {
              c.once('exit', resolve);
              c.kill(signal);
            }),
        ),
    );
  };
  t.after(async () => {
    await stopAll('SIGKILL');
    killLeftovers(dataDir);
    spawnSync(process.execPath, [MAIN_JS, 'net', 'purge', '--data-dir', dataDir], {
      stdio: 'ignore',
      timeout: 120_000,
    });
    spawnSync('ip', ['netns', 'del', outNs]);
    rmSync(dataDir, { recursive: true, force: true });
    unlock();
  });

  await up();
  const cfg = readCloudConfig(join(dataDir, 'clouds.yaml'));
  const token = await getToken(base, cfg.admin);
  const api = async (method: string, path: string, json?: unknown) => {
    const r = await request(method, `${base}${path}`, {
      token,
      ...(json === undefined ? {} : { json }),
      timeoutMs: 60_000,
    });
    assert.ok(r.status < 300, `${method} ${path} -> ${r.status} ${r.text}`);
    return r.body;
  };
  const nets = (await api('GET', '/network/v2.0/networks')).networks as { id: string; name: string }[];
  const priv = nets.find((n) => n.name === 'private')!;
  const pub = nets.find((n) => n.name === 'public')!;
  const image = ((await api('GET', '/image/v2/images?name=tiny')).images as { id: string }[])[0]!;
  const server = (
    await api('POST', '/compute/v2.1/servers', {
      server: { name: 'rs1', imageRef: image.id, flavorRef: '42', networks: [{ uuid: priv.id }] },
    })
  ).server;
  const groups = (await api('GET', '/network/v2.0/security-groups')).security_groups as { id: string }[];
  const routers = (await api('GET', '/network/v2.0/routers')).routers as { id: string }[];
  const ids = [...nets.map((n) => n.id), ...routers.map((r) => r.id)];
  const ports = async () =>
    (await api('GET', `/network/v2.0/ports?device_id=${server.id}`)).ports as {
      id: string;
      status: string;
      security_groups: string[];
    }[];
  let port = (await ports())[0];
  for (let i = 0; i < 600 && port?.status !== 'ACTIVE'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    port = (await ports())[0];
  }
  assert.equal(port?.status, 'ACTIVE', 'the guest port is wired');
  const group = groups.find((g) => port!.security_groups.includes(g.id))!;
  await api('POST', '/network/v2.0/security-group-rules', {
    security_group_rule: { security_group_id: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' },
  });
  const fip = (
    await api('POST', '/network/v2.0/floatingips', { floatingip: { floating_network_id: pub.id, port_id: port!.id } })
  ).floatingip.floating_ip_address as string;

  // The outside world: a namespace on public's bridge holding the public subnet's gateway (the router's next hop).
  const pubSub = (
    (await api('GET', `/network/v2.0/subnets?network_id=${pub.id}`)).subnets as { gateway_ip: string; cidr: string }[]
  )[0]!;
  execFileSync('ip', ['netns', 'add', outNs]);
  execFileSync('ip', ['link', 'add', `gtr${rnd}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outNs]);
  execFileSync('ip', ['link', 'set', `gtr${rnd}`, 'master', `brq${pub.id.slice(0, 11)}`, 'up']);
  execFileSync('ip', [
    'netns',
    'exec',
    outNs,
    'ip',
    'addr',
    'add',
    `${pubSub.gateway_ip}/${pubSub.cidr.split('/')[1]}`,
    'dev',
    'eth0',
  ]);
  execFileSync('ip', ['netns', 'exec', outNs, 'ip', 'link', 'set', 'eth0', 'up']);
  // The guest answers once it has booted (TCG: up to a few minutes on a loaded machine).
  let reached = false;
  for (let i = 0; i < 120 && !reached; i++)
    reached = (await inNs(outNs, 'ping', ['-c', '1', '-W', '2', fip])).status === 0;
  assert.ok(reached, `the guest answers on its floating IP ${fip}`);
  const before = hostState(dataDir, tag, ids);
  assert.equal(before.dnsmasq.length, 1, 'one dnsmasq (private)');
  assert.ok(
    before.namespaces.length >= 2 && before.tables.length >= 1,
    `namespaces and nft tables exist: ${JSON.stringify(before)}`,
  );

  // kill -9 while pings flow; restart while they still flow; every ping is answered.
  const pings = inNs(outNs, 'ping', ['-n', '-i', '0.2', '-c', '100', '-W', '5', fip], 300_000);
  await new Promise((r) => setTimeout(r, 2_000));
  const first = children[0]!;
  await new Promise((resolve) => {
    first.once('exit', resolve);
    first.kill('SIGKILL');
  });
  await new Promise((r) => setTimeout(r, 2_000));
  await up();
  const result = await pings;
  const m = /(\d+) packets transmitted, (\d+) received/.exec(result.stdout);
  assert.ok(m, result.stdout);
  assert.equal(
    m[2],
    m[1],
    `pings lost around the kill -9 and restart: ${result.stdout.split('\n').slice(-3).join(' ')}`,
  );
  const afterKill = hostState(dataDir, tag, ids);
  assert.deepEqual(afterKill, before, 'the restart after kill -9 changed or duplicated nothing on the host');

  // A graceful restart: the resync is idempotent again.
  await stopAll('SIGTERM');
  await up();
  assert.equal(
    (await inNs(outNs, 'ping', ['-c', '3', '-i', '0.3', '-W', '3', fip])).status,
    0,
    'pings after the second restart',
  );
  assert.deepEqual(hostState(dataDir, tag, ids), before, 'the second restart changed or duplicated nothing');

  // The restarted cloud still manages the guest: deleting it removes its tap.
  const token2 = await getToken(base, cfg.admin);
  assert.equal((await request('DELETE', `${base}/compute/v2.1/servers/${server.id}`, { token: token2 })).status, 204);
  let gone = false;
  for (let i = 0; i < 240 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 500));
    gone = !execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' }).includes(tapName(port!.id));
  }
  assert.ok(gone, "the deleted guest's tap is gone");
});
