// A server's whole life on real QEMU (TCG) through the compute API: boot, console, every power action, snapshot,
// rebuild, resize, shelve, delete leaving nothing behind. Needs qemu-system-x86_64, qemu-img and Debian packages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCloud, type TestCloud } from '../helpers/cloud.js';
import { requireOrSkip } from '../helpers/requirements.js';
import { qemuAvailable } from '../../src/virt/index.js';
import { qemuProcessesUnder } from '../../src/virt/qemu/process.js';
import { QemuDriver } from '../../src/virt/qemu/index.js';
import { FINISHED, testGuest, type TestGuest } from './qemu-fixture.js';

const V = '/compute/v2.1';

/** Uploads a file as a public image; returns its id. */
async function upload(c: TestCloud, name: string, file: string, diskFormat: string, containerFormat: string, props: Record<string, string> = {}): Promise<string> {
  const res = await c.request('POST', '/image/v2/images', {
    token: c.adminToken, body: { name, disk_format: diskFormat, container_format: containerFormat, visibility: 'public', ...props },
  });
  assert.equal(res.status, 201, res.text);
  const up = await c.request('PUT', `/image/v2/images/${res.json.id}/file`, {
    token: c.adminToken, payload: readFileSync(file), headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(up.status, 204, up.text);
  return res.json.id as string;
}

/** Registers the test guest AMI-style: kernel (aki), ramdisk (ari), and a root disk pointing at both. */
export async function registerGuest(c: TestCloud, g: TestGuest): Promise<string> {
  const k = await upload(c, 'test-kernel', g.kernel, 'aki', 'aki');
  const r = await upload(c, 'test-ramdisk', g.initrd, 'ari', 'ari');
  return upload(c, 'test-guest', g.disk, 'ami', 'ami', {
    kernel_id: k, ramdisk_id: r, os_command_line: 'console=ttyS0 quiet mitigations=off tsc=reliable no_timer_check cryptomgr.notests 8250.nr_uarts=1',
  });
}

/** Polls until the server has `status` and no task (or is gone for DELETED). */
export async function waitStatus(c: TestCloud, id: string, status: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const res = await c.request('GET', `${V}/servers/${id}`, { token: c.adminToken });
    if (status === 'DELETED' && res.status === 404) return null;
    last = res.json?.server;
    if (last && last.status === status && last['OS-EXT-STS:task_state'] === null) return last;
    if (last?.status === 'ERROR' && status !== 'ERROR') throw new Error(`server went to ERROR: ${JSON.stringify(last.fault)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server ${id} did not reach ${status}; last ${JSON.stringify(last)?.slice(0, 400)}`);
}

/** The console log through os-getConsoleOutput. */
export async function consoleOf(c: TestCloud, id: string): Promise<string> {
  const res = await c.request('POST', `${V}/servers/${id}/action`, { token: c.adminToken, body: { 'os-getConsoleOutput': {} } });
  assert.equal(res.status, 200, res.text);
  return String(res.json.output);
}

/** Waits until the console shows `FINISHED` at least `n` times. */
export async function waitFinished(c: TestCloud, id: string, n = 1, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let out = '';
  while (Date.now() < deadline) {
    out = await consoleOf(c, id);
    if (out.split(FINISHED).length - 1 >= n) return out;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`guest did not print "${FINISHED}" ${n} time(s); console:\n${out.slice(-2000)}`);
}

export async function action(c: TestCloud, id: string, body: unknown): Promise<void> {
  const res = await c.request('POST', `${V}/servers/${id}/action`, { token: c.adminToken, body });
  assert.ok(res.status === 202 || res.status === 200, `${JSON.stringify(body)}: ${res.status} ${res.text}`);
}

/** Kills any QEMU left under the cloud's data dir (tests must never leak processes). */
export function killLeftovers(dataDir: string): number {
  let n = 0;
  for (const pid of qemuProcessesUnder(join(dataDir, 'instances')).keys()) {
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

/** A QEMU cloud, or null (test skipped) when the machine lacks QEMU or the guest's parts. */
export async function qemuCloud(t: import('node:test').TestContext): Promise<{ c: TestCloud; guest: TestGuest } | null> {
  if (!requireOrSkip(t, qemuAvailable(), 'needs qemu-system-x86_64 (apt-get install qemu-system-x86)')) return null;
  const guest = testGuest();
  if (!requireOrSkip(t, !('missing' in guest), `needs a test guest: ${'missing' in guest ? guest.missing : ''}`)) return null;
  const c = await createTestCloud({ config: { hypervisor: 'qemu', accel: 'tcg' } });
  t.after(async () => {
    killLeftovers(c.config.dataDir);
    await c.close();
  });
  return { c, guest: guest as TestGuest };
}

test('a server on QEMU through every action, and delete leaves nothing behind', { timeout: 900_000 }, async (t) => {
  const env = await qemuCloud(t);
  if (!env) return;
  const { c, guest } = env;
  const driver = c.controller.deps.compute.driver as QemuDriver;
  assert.equal(driver.type, 'qemu');
  const imageId = await registerGuest(c, guest);

  const create = await c.request('POST', `${V}/servers`, {
    token: c.adminToken, body: { server: { name: 'vm1', imageRef: imageId, flavorRef: '42', networks: 'auto' } }, headers: { 'OpenStack-API-Version': 'compute 2.37' },
  });
  assert.equal(create.status, 202, create.text);
  const id = create.json.server.id as string;
  const active = await waitStatus(c, id, 'ACTIVE');
  assert.equal(active['OS-EXT-STS:power_state'], 1);
  assert.match(active.metadata.gureum_ssh ?? '', /^127\.0\.0\.1:\d+$/);
  assert.match(active.metadata.gureum_guest_network ?? '', /user networking/);
  const files = driver.files.paths(id);
  const pid = Number(readFileSync(files.pid, 'utf8'));
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline.some((a) => a.includes('manufacturer=OpenStack Foundation,product=OpenStack Nova')));
  const mac = (active.addresses && Object.values(active.addresses as Record<string, any[]>)[0]?.[0]?.['OS-EXT-IPS-MAC:mac_addr']) as string | undefined;
  if (mac) assert.ok(cmdline.some((a) => a.includes(`mac=${mac}`)), 'the NIC carries the Neutron port MAC');
  await waitFinished(c, id, 1);

  await t.test('pause and unpause', async () => {
    await action(c, id, { pause: null });
    assert.equal((await waitStatus(c, id, 'PAUSED'))['OS-EXT-STS:power_state'], 3);
    assert.equal((await driver.monitor(id))!.isClosed, false);
    await action(c, id, { unpause: null });
    assert.equal((await waitStatus(c, id, 'ACTIVE'))['OS-EXT-STS:power_state'], 1);
  });

  await t.test('stop (ACPI power-down) and start boot the guest again', async () => {
    await action(c, id, { 'os-stop': null });
    const off = await waitStatus(c, id, 'SHUTOFF');
    assert.equal(off['OS-EXT-STS:power_state'], 4);
    assert.ok(!existsSync(files.pid) || !existsSync(`/proc/${readFileSync(files.pid, 'utf8').trim()}`));
    await action(c, id, { 'os-start': null });
    await waitStatus(c, id, 'ACTIVE');
    await waitFinished(c, id, 2);
  });

  await t.test('reboot soft and hard both boot the guest again', async () => {
    await action(c, id, { reboot: { type: 'SOFT' } });
    await waitStatus(c, id, 'ACTIVE');
    await waitFinished(c, id, 3);
    await action(c, id, { reboot: { type: 'HARD' } });
    await waitStatus(c, id, 'ACTIVE');
    await waitFinished(c, id, 4);
  });

  await t.test('suspend saves the state and frees the host; resume brings the same guest back', async () => {
    const before = (await consoleOf(c, id)).split(FINISHED).length;
    await action(c, id, { suspend: null });
    const s = await waitStatus(c, id, 'SUSPENDED');
    assert.equal(s['OS-EXT-STS:power_state'], 7);
    assert.ok(existsSync(files.suspendState));
    assert.equal([...qemuProcessesUnder(driver.files.root).values()].filter((x) => x === id).length, 0, 'no process while suspended');
    await action(c, id, { resume: null });
    assert.equal((await waitStatus(c, id, 'ACTIVE'))['OS-EXT-STS:power_state'], 1);
    assert.ok(!existsSync(files.suspendState));
    // Resumed, not rebooted: no new boot line.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await consoleOf(c, id)).split(FINISHED).length, before);
  });

  let snapId = '';
  await t.test('createImage flattens the disk into a standalone qcow2 and the server stays ACTIVE', async () => {
    const res = await c.request('POST', `${V}/servers/${id}/action`, { token: c.adminToken, body: { createImage: { name: 'vm1-snap' } } });
    assert.equal(res.status, 202, res.text);
    snapId = String(res.headers.location ?? '').split('/').pop() || res.json?.image_id;
    assert.ok(snapId);
    const deadline = Date.now() + 120_000;
    let img: any;
    while (Date.now() < deadline) {
      img = (await c.request('GET', `/image/v2/images/${snapId}`, { token: c.adminToken })).json;
      if (img?.status === 'active') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(img.status, 'active');
    assert.equal(img.disk_format, 'qcow2');
    assert.equal(img.kernel_id !== undefined, true, 'kernel_id carried over so the snapshot boots');
    assert.equal((await waitStatus(c, id, 'ACTIVE'))['OS-EXT-STS:power_state'], 1);
  });

  await t.test('a server from the snapshot boots', async () => {
    const r = await c.request('POST', `${V}/servers`, { token: c.adminToken, body: { server: { name: 'vm2', imageRef: snapId, flavorRef: '42', networks: 'none' } }, headers: { 'OpenStack-API-Version': 'compute 2.37' } });
    assert.equal(r.status, 202, r.text);
    const id2 = r.json.server.id as string;
    await waitStatus(c, id2, 'ACTIVE');
    await waitFinished(c, id2, 1);
    const del = await c.request('DELETE', `${V}/servers/${id2}`, { token: c.adminToken });
    assert.equal(del.status, 204);
    await waitStatus(c, id2, 'DELETED');
  });

  await t.test('delete: no process, no disk, no socket, no console log', async () => {
    const del = await c.request('DELETE', `${V}/servers/${id}`, { token: c.adminToken });
    assert.equal(del.status, 204);
    await waitStatus(c, id, 'DELETED');
    assert.ok(!existsSync(files.dir));
    assert.ok(!existsSync(files.sockDir));
    assert.deepEqual([...qemuProcessesUnder(driver.files.root).keys()], []);
    assert.deepEqual(existsSync(driver.files.root) ? readdirSync(driver.files.root) : [], []);
  });
});
