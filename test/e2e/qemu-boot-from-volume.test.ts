// Boot from volume on real QEMU (TCG): the tiny image into a new 1 GiB volume that is the guest's root disk
// (no local root disk is made), stop/start boots it again, and deleting the server with
// delete_on_termination=false keeps the volume, which holds what the guest wrote to its root disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINISHED_MARK } from '../../src/imaging/tiny/index.js';
import { registerTinyImage } from '../../src/imaging/tiny/register.js';
import type { QemuDriver } from '../../src/virt/qemu/qemu-driver.js';
import { V, action, consoleOf, qemuCloud, waitStatus } from './qemu-fixture.js';
import { projectOf, waitStatus as waitVolume } from '../api/volume/helpers.js';

const CACHE = process.env.GUREUM_TINY_CACHE || join(tmpdir(), 'gureum-tiny-cache');

async function waitConsoleCount(
  c: Parameters<typeof consoleOf>[0],
  id: string,
  mark: string,
  n: number,
  timeoutMs = 240_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let out = '';
  while (Date.now() < deadline) {
    out = await consoleOf(c, id);
    if (out.split(mark).length - 1 >= n) return out;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`console never showed "${mark}" ${n} time(s):\n${out.slice(-3000)}`);
}

test('tiny boots from a volume on QEMU: root disk is the volume, stop/start, delete keeps the volume', {
  timeout: 900_000,
}, async (t) => {
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
  const VOL = `/volume/v3/${await projectOf(c, c.adminToken)}`;

  const r = await c.request('POST', `${V}/servers`, {
    token: c.adminToken,
    headers: { 'OpenStack-API-Version': 'compute 2.37' },
    body: {
      server: {
        name: 'bfv',
        imageRef: '',
        flavorRef: '42',
        networks: 'auto',
        block_device_mapping_v2: [
          {
            uuid: reg.imageId,
            source_type: 'image',
            destination_type: 'volume',
            boot_index: 0,
            volume_size: 1,
            delete_on_termination: false,
          },
        ],
      },
    },
  });
  assert.equal(r.status, 202, r.text);
  const id = r.json.server.id as string;
  const s = await waitStatus(c, id, 'ACTIVE', 300_000);
  assert.equal(s.image, '');
  await waitConsoleCount(c, id, FINISHED_MARK, 1);
  const atts = (await c.request('GET', `${V}/servers/${id}/os-volume_attachments`, { token: c.adminToken })).json
    .volumeAttachments;
  assert.equal(atts.length, 1);
  assert.equal(atts[0].device, '/dev/vda');
  const vid = atts[0].volumeId as string;
  // No local root disk: the guest's root is the volume's file.
  const driver = c.controller.deps.compute.driver as unknown as QemuDriver;
  assert.equal(existsSync(driver.files.paths(id).root), false, 'a volume-backed guest has no local root disk');

  await action(c, id, { 'os-stop': null });
  await waitStatus(c, id, 'SHUTOFF');
  await action(c, id, { 'os-start': null });
  await waitStatus(c, id, 'ACTIVE');
  await waitConsoleCount(c, id, FINISHED_MARK, 2);

  assert.equal((await c.request('DELETE', `${V}/servers/${id}`, { token: c.adminToken })).status, 204);
  await waitStatus(c, id, 'DELETED');
  const v = await waitVolume(c, c.adminToken, `${VOL}/volumes/${vid}`, 'volume', 'available');
  assert.equal(v.bootable, 'true');
  // The guest wrote its instance id to its root disk: it is in the volume.
  const work = mkdtempSync(join(tmpdir(), 'gureum-bfv-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const file = join(c.config.dataDir, 'volumes', `volume-${vid}`);
  execFileSync('qemu-img', ['convert', '-O', 'raw', file, join(work, 'root.raw')]);
  assert.ok(
    readFileSync(join(work, 'root.raw')).includes(Buffer.from(id)),
    'the instance id the guest wrote is on the volume',
  );
  assert.equal((await c.request('DELETE', `${VOL}/volumes/${vid}`, { token: c.adminToken })).status, 202);
  await waitVolume(c, c.adminToken, `${VOL}/volumes/${vid}`, 'volume', 'DELETED');
});
