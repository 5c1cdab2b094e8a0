// The default tiny image on real QEMU (TCG): it boots, takes DHCP from slirp, reads its own metadata through the
// per-connection guest proxy (or a config drive), sets its host name, runs user-data, prints its finished line
// and lets the instance's key in over SSH. QEMU is run directly here; the driver's own tests cover the driver.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyImage, FINISHED_MARK, type TinyImage } from '../../src/imaging/tiny/index.js';
import { guestfwdOption } from '../../src/services/metadata/index.js';
import { createTestCloud, type TestCloud } from '../helpers/cloud.js';
import { requireCommands } from '../helpers/requirements.js';

const QEMU = process.env.GUREUM_QEMU_BINARY || 'qemu-system-x86_64';
const CACHE = process.env.GUREUM_TINY_CACHE || join(tmpdir(), 'gureum-tiny-cache');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A running guest: its console log and a kill that always waits for the process to be gone. */
interface Guest {
  console(): string;
  kill(): Promise<void>;
  proc: ChildProcess;
}

function bootGuest(
  t: TestContext,
  img: TinyImage,
  work: string,
  name: string,
  extra: { netdev: string; args?: string[] },
): Guest {
  const log = join(work, `${name}.console.log`);
  const args = [
    '-accel',
    'tcg',
    '-m',
    '128',
    '-smp',
    '1',
    '-display',
    'none',
    '-no-reboot',
    '-nodefaults',
    '-chardev',
    `file,id=s0,path=${log}`,
    '-serial',
    'chardev:s0',
    '-kernel',
    img.kernelPath,
    '-initrd',
    img.initrdPath,
    '-append',
    img.cmdline,
    '-netdev',
    extra.netdev,
    '-device',
    'virtio-net-pci,netdev=n0,mac=fa:16:3e:00:00:01',
    '-device',
    'virtio-rng-pci',
    '-drive',
    `file=${img.rootDiskPath},if=virtio,format=qcow2,snapshot=on`,
    ...(extra.args ?? []),
  ];
  const proc = spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const guest: Guest = {
    proc,
    console: () =>
      (existsSync(log) ? readFileSync(log, 'utf8') : '') +
      (proc.exitCode !== null ? `\n[qemu exited ${proc.exitCode}: ${stderr}]` : ''),
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await gone;
    },
  };
  t.after(() => guest.kill());
  return guest;
}

async function waitForConsole(g: Guest, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(g.console());
    if (m) return m;
    if (g.proc.exitCode !== null || Date.now() > deadline)
      assert.fail(`console never matched ${pattern}:\n${g.console().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function serverFixture(cloud: TestCloud, work: string): Promise<{ id: string; keyFile: string }> {
  const keyFile = join(work, 'id_ed25519');
  assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tiny-test', '-f', keyFile]).status, 0);
  const token = cloud.adminToken;
  const kp = await cloud.request('POST', '/compute/v2.1/os-keypairs', {
    token,
    body: { keypair: { name: 'k', public_key: readFileSync(`${keyFile}.pub`, 'utf8') } },
  });
  assert.equal(kp.status, 200, kp.text);
  const img = await cloud.request('POST', '/image/v2/images', {
    token,
    body: { name: 'blank', disk_format: 'raw', container_format: 'bare' },
  });
  assert.equal(img.status, 201, img.text);
  const up = await cloud.request('PUT', `/image/v2/images/${img.json.id}/file`, {
    token,
    payload: Buffer.alloc(65536),
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(up.status, 204, up.text);
  const userData = Buffer.from('#!/bin/sh\necho "user-data says hello from $(hostname)"\n').toString('base64');
  const srv = await cloud.request('POST', '/compute/v2.1/servers', {
    token,
    headers: { 'openstack-api-version': 'compute 2.37' },
    body: {
      server: {
        name: 'vm1',
        imageRef: img.json.id,
        flavorRef: '42',
        key_name: 'k',
        user_data: userData,
        networks: 'none',
      },
    },
  });
  assert.equal(srv.status, 202, srv.text);
  return { id: srv.json.server.id, keyFile };
}

test('tiny image under TCG: metadata service, config drive, user-data, SSH', { timeout: 900_000 }, async (t) => {
  if (!requireCommands(t, ['qemu-system-x86_64', 'ssh', 'ssh-keygen'])) return;
  const img = await buildTinyImage(CACHE); // a build that throws is a product failure, never a skip
  const work = mkdtempSync(join(tmpdir(), 'gureum-tiny-e2e-'));
  const cloud = await createTestCloud();
  t.after(async () => {
    await cloud.close();
    rmSync(work, { recursive: true, force: true });
  });
  await cloud.controller.server.listen({ host: '127.0.0.1', port: 0 });
  const port = (cloud.controller.server.server.address() as AddressInfo).port;
  cloud.controller.deps.metadata.setControllerUrl(`http://127.0.0.1:${port}`);
  const { id, keyFile } = await serverFixture(cloud, work);

  await t.test('boots from the metadata service: host name, keys, user-data, finished line, SSH', async (st) => {
    const sshPort = await freePort();
    const fwd = guestfwdOption(cloud.controller.deps.metadata.proxyCommand(id));
    const g = bootGuest(st, img, work, 'md', {
      netdev: `user,id=n0,net=169.254.0.0/16,${`guestfwd=${fwd}`},hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
    });
    const fin = await waitForConsole(
      g,
      new RegExp(`${FINISHED_MARK} at ([0-9.]+)s: hostname=(\\S+) ip=(\\S+) datasource=(.+)`),
      120_000,
    );
    assert.equal(fin[2], 'vm1', g.console());
    assert.match(fin[4]!, /metadata service/);
    assert.match(g.console(), /user-data says hello from vm1/);
    assert.match(g.console(), /datasource: metadata service, instance ([0-9a-f-]{36})/);
    assert.ok(g.console().includes(`instance ${id}`), 'the guest saw its own instance id');
    for (const user of ['root', 'gureum']) {
      const ssh = spawnSync(
        'ssh',
        [
          '-i',
          keyFile,
          '-p',
          String(sshPort),
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
          `${user}@127.0.0.1`,
          'hostname; id -un',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(ssh.status, 0, `ssh as ${user}: ${ssh.stderr}\n${g.console().slice(-2000)}`);
      assert.deepEqual(ssh.stdout.trim().split('\n'), ['vm1', user]);
    }
    // A key the instance does not hold is refused.
    const other = join(work, 'other');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const denied = spawnSync(
      'ssh',
      [
        '-i',
        other,
        '-p',
        String(sshPort),
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'LogLevel=ERROR',
        'root@127.0.0.1',
        'true',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.notEqual(denied.status, 0);
    await g.kill();
  });

  await t.test('boots from a config drive when there is no metadata service', async (st) => {
    const iso = join(work, 'config.iso');
    await cloud.controller.deps.metadata.writeConfigDrive(id, iso);
    const g = bootGuest(st, img, work, 'cd', {
      netdev: 'user,id=n0,net=169.254.0.0/16',
      args: ['-drive', `file=${iso},if=virtio,format=raw,readonly=on`],
    });
    const fin = await waitForConsole(
      g,
      new RegExp(`${FINISHED_MARK} at ([0-9.]+)s: hostname=(\\S+) ip=(\\S+) datasource=(.+)`),
      120_000,
    );
    assert.equal(fin[2], 'vm1');
    assert.match(fin[4]!, /^config-drive \/dev\/vd[a-z]/);
    assert.match(g.console(), /user-data says hello from vm1/);
    await g.kill();
  });
});
