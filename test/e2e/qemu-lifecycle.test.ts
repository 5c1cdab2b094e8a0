// A server's whole life on real QEMU (TCG) through the compute API: boot, console, every power action, snapshot,
// rebuild, resize, shelve, delete leaving nothing behind. Needs qemu-system-x86_64, qemu-img and Debian packages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { qemuProcessesUnder } from '../../src/virt/qemu/process.js';
import type { QemuDriver } from '../../src/virt/qemu/index.js';
import {
  FINISHED,
  V,
  action,
  consoleOf,
  guestFacts,
  qemuCloud,
  registerGuest,
  ticksIn,
  upload,
  waitFinished,
  waitStatus,
} from './qemu-fixture.js';

test('a server on QEMU through every action, and delete leaves nothing behind', { timeout: 900_000 }, async (t) => {
  const env = await qemuCloud(t);
  if (!env) return;
  const { c, guest } = env;
  const driver = c.controller.deps.compute.driver as QemuDriver;
  assert.equal(driver.type, 'qemu');
  const imageId = await registerGuest(c, guest);

  const create = await c.request('POST', `${V}/servers`, {
    token: c.adminToken,
    body: { server: { name: 'vm1', imageRef: imageId, flavorRef: '42', networks: 'auto' } },
    headers: { 'OpenStack-API-Version': 'compute 2.37' },
  });
  assert.equal(create.status, 202, create.text);
  const id = create.json.server.id as string;
  const active = await waitStatus(c, id, 'ACTIVE');
  assert.equal(active['OS-EXT-STS:power_state'], 1);
  // The driver's facts are in the diagnostics, never in the user's metadata.
  assert.deepEqual(active.metadata, {});
  const facts = await guestFacts(c, id);
  assert.match(facts['gureum:ssh'] ?? '', /^127\.0\.0\.1:\d+$/);
  assert.match(facts['gureum:guest_network'] ?? '', /user networking/);
  const files = driver.files.paths(id);
  const pid = Number(readFileSync(files.pid, 'utf8'));
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline.some((a) => a.includes('manufacturer=OpenStack Foundation,product=OpenStack Nova')));
  const mac = (active.addresses &&
    Object.values(active.addresses as Record<string, any[]>)[0]?.[0]?.['OS-EXT-IPS-MAC:mac_addr']) as
    | string
    | undefined;
  assert.match(
    mac ?? '',
    /^fa:16:3e(:[0-9a-f]{2}){3}$/,
    `networks: auto gives the server a Neutron port: ${JSON.stringify(active.addresses)}`,
  );
  assert.ok(
    cmdline.some((a) => a.includes(`mac=${mac}`)),
    'the NIC carries the Neutron port MAC',
  );
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
    await action(c, id, { suspend: null });
    const s = await waitStatus(c, id, 'SUSPENDED');
    const atSuspend = await consoleOf(c, id); // the guest is stopped: its last tick is in here
    assert.equal(s['OS-EXT-STS:power_state'], 7);
    assert.ok(existsSync(files.suspendState));
    assert.equal(
      [...qemuProcessesUnder(driver.files.root).values()].filter((x) => x === id).length,
      0,
      'no process while suspended',
    );
    await action(c, id, { resume: null });
    assert.equal((await waitStatus(c, id, 'ACTIVE'))['OS-EXT-STS:power_state'], 1);
    assert.ok(!existsSync(files.suspendState));
    // Resumed, not rebooted: the guest's tick count goes on from where suspend stopped it, with no boot line
    // between (a reboot would print FINISHED again and count from 1).
    // Compared from the last whole line: the serial port may have stopped mid-line.
    const cut = atSuspend.lastIndexOf('\n') + 1;
    const lastTick = ticksIn(atSuspend.slice(0, cut)).at(-1);
    assert.ok(lastTick !== undefined, 'the guest ticked before suspend');
    let after = '';
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      after = await consoleOf(c, id);
      if (ticksIn(after.slice(cut)).length > 0) break;
    }
    const newer = after.slice(cut);
    assert.equal(ticksIn(newer)[0], lastTick + 1, `the guest went on counting after resume:\n${newer.slice(-1000)}`);
    assert.ok(!newer.includes(FINISHED), `no boot between suspend and resume:\n${newer.slice(-2000)}`);
    assert.ok(!ticksIn(newer).includes(1), 'the tick count did not restart');
  });

  let snapId = '';
  await t.test('createImage flattens the disk into a standalone qcow2 and the server stays ACTIVE', async () => {
    const res = await c.request('POST', `${V}/servers/${id}/action`, {
      token: c.adminToken,
      body: { createImage: { name: 'vm1-snap' } },
    });
    assert.equal(res.status, 202, res.text);
    snapId =
      String(res.headers.location ?? '')
        .split('/')
        .pop() || res.json?.image_id;
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
    assert.ok(img.size > 0);
    assert.equal((await waitStatus(c, id, 'ACTIVE'))['OS-EXT-STS:power_state'], 1);
    assert.deepEqual(
      readdirSync(files.dir).filter((f) => f.startsWith('snapshot')),
      [],
      'the streamed snapshot file is gone',
    );
    assert.deepEqual(
      readdirSync(c.config.dataDir).filter((f) => f.startsWith('snapshot')),
      [],
    );
  });

  await t.test('a snapshot whose upload fails leaves no file and a running guest', async () => {
    const host = driver.hosts()[0]!.host;
    let path = '';
    await assert.rejects(
      () =>
        driver.snapshot(host, id, async (f) => {
          path = f.path;
          assert.ok(existsSync(f.path) && f.size > 0);
          throw new Error('upload refused');
        }),
      /upload refused/,
    );
    assert.ok(path.startsWith(files.dir));
    assert.ok(!existsSync(path));
    assert.equal((await driver.getInfo(host, id))?.powerState, 1, 'the guest runs again');
  });

  await t.test('a server from the snapshot boots', async () => {
    const r = await c.request('POST', `${V}/servers`, {
      token: c.adminToken,
      body: { server: { name: 'vm2', imageRef: snapId, flavorRef: '42', networks: 'none' } },
      headers: { 'OpenStack-API-Version': 'compute 2.37' },
    });
    assert.equal(r.status, 202, r.text);
    const id2 = r.json.server.id as string;
    await waitStatus(c, id2, 'ACTIVE');
    await waitFinished(c, id2, 1);
    const del = await c.request('DELETE', `${V}/servers/${id2}`, { token: c.adminToken });
    assert.equal(del.status, 204);
    await waitStatus(c, id2, 'DELETED');
  });

  await t.test('rebuild: a new overlay from the image, the same port and MAC', async () => {
    const before = await waitStatus(c, id, 'ACTIVE');
    await action(c, id, { rebuild: { imageRef: imageId } });
    const after = await waitStatus(c, id, 'ACTIVE');
    assert.deepEqual(after.addresses, before.addresses);
    await waitFinished(c, id, 1);
  });

  await t.test('resize to a bigger flavor grows the disk and the memory; confirm keeps it', async () => {
    const f = await c.request('POST', `${V}/flavors`, {
      token: c.adminToken,
      body: { flavor: { name: 'qemu.bigger', ram: 192, vcpus: 1, disk: 2 } },
    });
    assert.equal(f.status, 200, f.text);
    await action(c, id, { resize: { flavorRef: f.json.flavor.id } });
    await waitStatus(c, id, 'VERIFY_RESIZE');
    await action(c, id, { confirmResize: null });
    await waitStatus(c, id, 'ACTIVE');
    const pid = Number(readFileSync(files.pid, 'utf8'));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.equal(argv[argv.indexOf('-m') + 1], '192');
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '-U', '-f', 'qcow2', '--output=json', files.root], { encoding: 'utf8' }),
    );
    assert.equal(info['virtual-size'], 2 * 1024 ** 3);
    await waitFinished(c, id, 1);
  });

  await t.test('shelve frees the host (snapshot kept), unshelve boots from it', async () => {
    await action(c, id, { shelve: null });
    const sh = await waitStatus(c, id, 'SHELVED_OFFLOADED');
    assert.equal(sh['OS-EXT-SRV-ATTR:host'] ?? null, null);
    assert.ok(!existsSync(files.dir), 'the host keeps nothing of a shelved-offloaded server');
    await action(c, id, { unshelve: null });
    await waitStatus(c, id, 'ACTIVE');
    await waitFinished(c, id, 1);
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

test('bad input on QEMU: a kernel that is no kernel, data that does not match its hash, a corrupt cached base', {
  timeout: 600_000,
}, async (t) => {
  const env = await qemuCloud(t);
  if (!env) return;
  const { c, guest } = env;
  const driver = c.controller.deps.compute.driver as QemuDriver;
  const good = await registerGuest(c, guest);
  const boot = async (imageRef: string) => {
    const r = await c.request('POST', `${V}/servers`, {
      token: c.adminToken,
      body: { server: { name: 'bad', imageRef, flavorRef: '42', networks: 'none' } },
      headers: { 'OpenStack-API-Version': 'compute 2.37' },
    });
    assert.equal(r.status, 202, r.text);
    return r.json.server.id as string;
  };
  const gone = async (id: string) => {
    assert.ok(!existsSync(driver.files.paths(id).dir), 'nothing of the failed guest is left on the host');
    assert.equal([...qemuProcessesUnder(driver.files.root).values()].filter((x) => x === id).length, 0);
  };

  await t.test("QEMU failing to start: ERROR with QEMU's reason as the fault, resources released", async () => {
    // A "kernel" of 1 KiB of random bytes: no Linux header, no multiboot/PVH note, and shorter than the smallest
    // real-mode setup QEMU's loader assumes (2.5 KiB), so QEMU refuses it ("invalid kernel header") every time.
    const junk = join(driver.files.root, '..', 'junk-kernel');
    writeFileSync(junk, randomBytes(1024));
    const kernel = await upload(c, 'junk-kernel', junk, 'aki', 'aki');
    const broken = await upload(c, 'broken', guest.disk, 'ami', 'ami', {
      kernel_id: kernel,
      os_command_line: 'console=ttyS0',
    });
    const id = await boot(broken);
    const s = await waitStatus(c, id, 'ERROR');
    assert.match(s.fault.message, /QEMU failed to start/);
    await gone(id);
  });

  await t.test('image data that does not match its recorded hash is never booted', async () => {
    const unique = join(driver.files.root, '..', 'unique-disk');
    writeFileSync(unique, randomBytes(1024 * 1024));
    const img = await upload(c, 'rotten', unique, 'raw', 'bare', {});
    const path = c.controller.deps.image.store.dataPath(img);
    chmodSync(path, 0o644);
    writeFileSync(path, Buffer.alloc(1024 * 1024, 1));
    const id = await boot(img);
    const s = await waitStatus(c, id, 'ERROR');
    assert.match(s.fault.message, /does not match/);
    await gone(id);
  });

  await t.test('a cached base damaged on disk is fetched again before it is used', async () => {
    const id1 = await boot(good);
    await waitStatus(c, id1, 'ACTIVE');
    const bases = await driver.cache.list();
    assert.ok(bases.length >= 1);
    for (const k of bases) {
      const p = join(driver.cache.dir, k);
      chmodSync(p, 0o644);
      const buf = readFileSync(p);
      buf[buf.length - 1] ^= 0xff;
      writeFileSync(p, buf);
    }
    const id2 = await boot(good);
    await waitStatus(c, id2, 'ACTIVE');
    await waitFinished(c, id2, 1);
    for (const id of [id1, id2]) {
      await c.request('DELETE', `${V}/servers/${id}`, { token: c.adminToken });
      await waitStatus(c, id, 'DELETED');
    }
  });
});
