// The default tiny image on the QEMU driver through the compute API: keypair, server create, ACTIVE, the guest's
// finished line, SSH through the loopback forward shown in the server's details, user-data, and two instances
// that each read only their own metadata through their per-instance forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINISHED_MARK } from '../../src/imaging/tiny/index.js';
import { registerTinyImage } from '../../src/imaging/tiny/register.js';
import { requireCommands } from '../helpers/requirements.js';
import { V, consoleOf, guestFacts, qemuCloud, waitStatus } from './qemu-fixture.js';

const CACHE = process.env.GUREUM_TINY_CACHE || join(tmpdir(), 'gureum-tiny-cache');

/** SSH without blocking the event loop (the in-process controller answers the guest's metadata requests meanwhile). */
function ssh(
  keyFile: string,
  hostPort: string,
  command: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
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
        `root@${host}`,
        command,
      ],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : 255) : 0, stdout, stderr });
      },
    );
  });
}

async function waitConsole(
  c: Parameters<typeof consoleOf>[0],
  id: string,
  pattern: RegExp,
  timeoutMs = 120_000,
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

test('tiny on QEMU: create with a key and user-data, SSH in, metadata only of its own', {
  timeout: 900_000,
}, async (t) => {
  if (!requireCommands(t, ['ssh', 'ssh-keygen'])) return;
  const env = await qemuCloud(t);
  if (!env) return;
  const { c } = env;
  const reg = await registerTinyImage(c.controller.deps.image, {
    adminProjectId: c.controller.bootstrap.adminProjectId,
    cacheDir: CACHE,
  });
  if (reg.status === 'skipped') assert.fail(`the tiny image was not built (a product failure): ${reg.reason}`);
  await c.controller.server.listen({ host: '127.0.0.1', port: 0 });
  c.controller.deps.metadata.setControllerUrl(
    `http://127.0.0.1:${(c.controller.server.server.address() as AddressInfo).port}`,
  );
  const work = mkdtempSync(join(tmpdir(), 'gureum-qemu-tiny-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const keyFile = join(work, 'id_ed25519');
  assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]).status, 0);
  const kp = await c.request('POST', `${V}/os-keypairs`, {
    token: c.adminToken,
    body: { keypair: { name: 'k', public_key: readFileSync(`${keyFile}.pub`, 'utf8') } },
  });
  assert.equal(kp.status, 200, kp.text);

  const boot = async (name: string): Promise<string> => {
    const userData = Buffer.from(`#!/bin/sh\necho "user-data of ${name} ran on $(hostname)"\n`).toString('base64');
    const r = await c.request('POST', `${V}/servers`, {
      token: c.adminToken,
      headers: { 'OpenStack-API-Version': 'compute 2.37' },
      body: {
        server: { name, imageRef: reg.imageId, flavorRef: '42', key_name: 'k', user_data: userData, networks: 'auto' },
      },
    });
    assert.equal(r.status, 202, r.text);
    return r.json.server.id as string;
  };
  const id1 = await boot('vm1');
  const id2 = await boot('vm2');
  const s1 = await waitStatus(c, id1, 'ACTIVE');
  const s2 = await waitStatus(c, id2, 'ACTIVE');
  const fin = await waitConsole(c, id1, new RegExp(`${FINISHED_MARK}.*hostname=(\\S+)`));
  assert.equal(fin[1], 'vm1');
  assert.match(await consoleOf(c, id1), /user-data of vm1 ran on vm1/);
  await waitConsole(c, id2, new RegExp(`${FINISHED_MARK}.*hostname=vm2`));

  const fwd1 = String((await guestFacts(c, s1.id))['gureum:ssh']);
  const fwd2 = String((await guestFacts(c, s2.id))['gureum:ssh']);
  assert.notEqual(fwd1, fwd2);
  const h1 = await ssh(keyFile, fwd1, 'hostname');
  assert.equal(h1.status, 0, h1.stderr);
  assert.equal(h1.stdout.trim(), 'vm1');
  assert.equal((await ssh(keyFile, fwd2, 'hostname')).stdout.trim(), 'vm2');

  // Each guest asks 169.254.169.254 and gets its own record, whatever it claims about itself.
  const ask = (fwd: string, extra = '') =>
    ssh(keyFile, fwd, `timeout 20 wget -q -O - ${extra} http://169.254.169.254/openstack/latest/meta_data.json`);
  const m1 = await ask(fwd1);
  assert.equal(m1.status, 0, m1.stderr);
  assert.equal(JSON.parse(m1.stdout).uuid, id1);
  assert.equal(JSON.parse((await ask(fwd2)).stdout).uuid, id2);
  const forged = await ask(fwd1, `--header 'X-Instance-ID: ${id2}' --header 'X-Forwarded-For: 10.0.0.99'`);
  assert.equal(JSON.parse(forged.stdout).uuid, id1, 'a forged header changes nothing');

  for (const id of [id1, id2]) {
    assert.equal((await c.request('DELETE', `${V}/servers/${id}`, { token: c.adminToken })).status, 204);
    await waitStatus(c, id, 'DELETED');
  }
});
