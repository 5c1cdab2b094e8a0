// The golden-image E2E: build debian-12 (from the factory's cache) → customize → seal → publish (its audit must
// be clean) → two servers on the QEMU driver → cloud-init finishes on both consoles, host names are the server
// names, SSH with the keypair works, the root was grown to the flavor's disk, and the two have different SSH
// host keys and machine-ids. `--install nginx` (a download from the apt mirror inside the libguestfs appliance)
// is added under CI=true or with GUREUM_TEST_IMAGE_INSTALL=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCI, requireCommands } from '../helpers/requirements.js';
import { startServer } from '../helpers/server.js';
import {
  ensureBuildCache,
  glance,
  gureum,
  imagesNamed,
  requireBuildTools,
  type CliResult,
} from '../integration/imaging/cloud-cli.js';
import { killLeftovers } from './qemu-fixture.js';

const show = (r: CliResult) => `exit ${String(r.code)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

function ssh(
  keyFile: string,
  hostPort: string,
  command: string,
): Promise<{ status: number; stdout: string; stderr: string }> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    execFile(
      'ssh',
      [
        '-i',
        keyFile,
        '-p',
        port!,
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
        `debian@${host}`,
        command,
      ],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : 255) : 0, stdout, stderr });
      },
    );
  });
}

test('golden image: build → customize → seal → publish → two QEMU servers with their own identity', {
  timeout: 1_200_000,
}, async (t) => {
  if (!requireBuildTools(t) || !requireCommands(t, ['qemu-system-x86_64', 'ssh', 'ssh-keygen'])) return;
  await ensureBuildCache();
  const install = isCI() || process.env.GUREUM_TEST_IMAGE_INSTALL === '1';
  const work = mkdtempSync(join(tmpdir(), 'gureum-golden-e2e-'));
  // About images, reached by SSH through the user-mode loopback forward (gureum:ssh): pinned to QEMU user networking.
  const server = await startServer({
    env: { GUREUM_HYPERVISOR: 'qemu', GUREUM_ACCEL: 'tcg', GUREUM_TINY_IMAGE: '0', GUREUM_DATA_PLANE: 'user' },
  });
  try {
    const dd = ['--data-dir', server.dataDir];
    const img = join(work, 'debian-12.qcow2');
    const b = await gureum(['image', 'build', 'debian-12', '--output', img]);
    assert.equal(b.code, 0, show(b));
    const c = await gureum([
      'image',
      'customize',
      img,
      '--run-command',
      'echo golden > /etc/gureum-golden',
      ...(install ? ['--install', 'nginx', '--enable', 'nginx'] : []),
    ]);
    assert.equal(c.code, 0, show(c));
    const s = await gureum(['image', 'seal', img, '--json']);
    assert.equal(s.code, 0, show(s));
    assert.ok(
      (JSON.parse(s.stdout) as { changes: { op: string }[] }).changes.some((x) => x.op === 'machine-id'),
      'customize left a machine-id that seal removed',
    );
    const p = await gureum([
      'image',
      'publish',
      img,
      '--name',
      'debian-12-golden',
      '--recipe',
      'debian-12',
      '--visibility',
      'public',
      ...dd,
    ]);
    assert.equal(p.code, 0, show(p));
    const g = await glance(server);
    const [image] = await imagesNamed(g, 'debian-12-golden');
    assert.equal(image?.gureum_audit, 'clean', 'the audit publish ran is clean');
    assert.equal(image?.min_disk, 2);

    const h = { 'x-auth-token': g.token, 'content-type': 'application/json' };
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${g.computeUrl}${path}`, {
        method,
        headers: { ...h, 'openstack-api-version': 'compute 2.37' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null, text };
    };
    const fl = await api('POST', '/flavors', { flavor: { name: 'golden-e2e', ram: 768, vcpus: 1, disk: 3 } });
    assert.equal(fl.status, 200, fl.text);
    const keyFile = join(work, 'id_ed25519');
    assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]).status, 0);
    const kp = await api('POST', '/os-keypairs', {
      keypair: { name: 'k', public_key: readFileSync(`${keyFile}.pub`, 'utf8') },
    });
    assert.equal(kp.status, 201, kp.text); // 2.2 and later
    const ids: string[] = [];
    for (const name of ['golden1', 'golden2']) {
      const r = await api('POST', '/servers', {
        server: { name, imageRef: image!.id, flavorRef: fl.json.flavor.id, key_name: 'k', networks: 'auto' },
      });
      assert.equal(r.status, 202, r.text);
      ids.push(r.json.server.id as string);
    }
    const seen: { name: string; hostKey: string; machineId: string; rootBytes: number }[] = [];
    for (const [i, id] of ids.entries()) {
      const name = `golden${i + 1}`;
      let srv: any;
      const deadline = Date.now() + 420_000;
      let consoleText = '';
      for (;;) {
        srv = (await api('GET', `/servers/${id}`)).json.server;
        assert.notEqual(srv.status, 'ERROR', JSON.stringify(srv.fault));
        if (srv.status === 'ACTIVE') {
          consoleText = String((await api('POST', `/servers/${id}/action`, { 'os-getConsoleOutput': {} })).json.output);
          if (/Cloud-init v\. \S+ finished at/.test(consoleText)) break;
        }
        assert.ok(Date.now() < deadline, `${name}: cloud-init did not finish; console:\n${consoleText.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 2000));
      }
      assert.match(
        consoleText,
        new RegExp(`root@${name} \\(ED25519\\)`),
        'cloud-init made host keys for this host name',
      );
      // 2.37 diagnostics are the free-form view that carries Gureum's guest facts.
      const fwd = String((await api('GET', `/servers/${id}/diagnostics`)).json['gureum:ssh']);
      const r = await ssh(
        keyFile,
        fwd,
        `hostname; cat /etc/ssh/ssh_host_ed25519_key.pub; cat /etc/machine-id; df -B1 --output=size / | tail -1; ` +
          `cat /etc/gureum-golden${install ? '; systemctl is-active nginx' : ''}`,
      );
      assert.equal(r.status, 0, r.stderr);
      const [hostname, hostKey, machineId, rootBytes, marker, nginx] = r.stdout.trim().split('\n');
      assert.equal(hostname, name);
      assert.equal(marker, 'golden');
      assert.match(machineId!, /^[0-9a-f]{32}$/);
      if (install) assert.equal(nginx, 'active');
      seen.push({ name, hostKey: hostKey!.split(' ')[1]!, machineId: machineId!, rootBytes: Number(rootBytes) });
    }
    assert.notEqual(seen[0]!.hostKey, seen[1]!.hostKey, 'different SSH host keys');
    assert.notEqual(seen[0]!.machineId, seen[1]!.machineId, 'different machine-ids');
    for (const x of seen)
      assert.ok(x.rootBytes > 2.5 * 2 ** 30, `${x.name}: root grown to the 3 GiB flavor disk (${x.rootBytes} bytes)`);

    for (const id of ids) assert.equal((await api('DELETE', `/servers/${id}`)).status, 204);
    for (const id of ids) {
      for (let i = 0; i < 240 && (await api('GET', `/servers/${id}`)).status !== 404; i++)
        await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    killLeftovers(server.dataDir);
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
