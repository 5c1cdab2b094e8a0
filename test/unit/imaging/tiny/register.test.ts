// Registration of the tiny image set in the image service (with a stand-in build: no apt, no network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createTestCloud } from '../../../helpers/cloud.js';
import { requireCommands } from '../../../helpers/requirements.js';
import { registerTinyImage, TINY_MARKER, type TinyImage } from '../../../../src/imaging/tiny/index.js';
import { checkBzImage } from '../../../../src/imaging/tiny/build.js';

function fakeBuild(dir: string): TinyImage {
  const k = Buffer.alloc(8192, 1);
  k.write('HdrS', 0x202, 'latin1');
  k[510] = 0x55;
  k[511] = 0xaa;
  // The 0x55aa signature stays: registration proves the image service accepts a real kernel as aki.
  writeFileSync(join(dir, 'vmlinuz'), checkBzImage(k));
  writeFileSync(join(dir, 'initrd.gz'), gzipSync(Buffer.from('070701 not really')));
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'root.qcow2'), '64M']);
  return {
    kernelPath: join(dir, 'vmlinuz'),
    initrdPath: join(dir, 'initrd.gz'),
    rootDiskPath: join(dir, 'root.qcow2'),
    rootDiskFormat: 'qcow2',
    cmdline: 'console=ttyS0 quiet',
    minDiskGb: 1,
    minRamMb: 128,
    versions: { 'busybox-static': '1:1.35.0' },
    key: 'k123',
    built: true,
  };
}

test(
  'registers tiny, tiny-kernel and tiny-ramdisk once, public, linked AMI-style; a failed build is a clear ' + 'skip',
  async (t) => {
    if (!requireCommands(t, ['qemu-img'])) return;
    const dir = mkdtempSync(join(tmpdir(), 'tiny-reg-'));
    const c = await createTestCloud();
    t.after(async () => {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const adminProjectId = c.controller.bootstrap.adminProjectId;
    const image = c.controller.deps.image;

    const failed = await registerTinyImage(image, {
      adminProjectId,
      cacheDir: dir,
      build: async () => {
        throw new Error('apt-get: no network');
      },
    });
    assert.deepEqual(failed, { status: 'skipped', reason: 'apt-get: no network' });

    let builds = 0;
    const build = async () => {
      builds++;
      return fakeBuild(dir);
    };
    const r = await registerTinyImage(image, { adminProjectId, cacheDir: dir, build });
    assert.equal(r.status, 'registered');
    if (r.status !== 'registered') return;
    const list = await c.request('GET', '/image/v2/images?name=tiny', { token: c.adminToken });
    assert.equal(list.json.images.length, 1);
    const tiny = list.json.images[0];
    assert.equal(tiny.id, r.imageId);
    assert.equal(tiny.status, 'active');
    assert.equal(tiny.visibility, 'public');
    assert.equal(tiny.disk_format, 'qcow2');
    assert.equal(tiny.min_disk, 1);
    assert.equal(tiny.min_ram, 128);
    assert.equal(tiny.kernel_id, r.kernelId);
    assert.equal(tiny.ramdisk_id, r.ramdiskId);
    assert.equal(tiny.os_command_line, 'console=ttyS0 quiet');
    assert.equal(tiny[TINY_MARKER], 'k123');
    const kernel = await c.request('GET', `/image/v2/images/${r.kernelId}`, { token: c.adminToken });
    assert.equal(kernel.json.disk_format, 'aki');
    assert.equal(kernel.json.status, 'active');
    const ramdisk = await c.request('GET', `/image/v2/images/${r.ramdiskId}`, { token: c.adminToken });
    assert.equal(ramdisk.json.disk_format, 'ari');

    const again = await registerTinyImage(image, { adminProjectId, cacheDir: dir, build });
    assert.deepEqual(again, { status: 'present', imageId: r.imageId });
    assert.equal(builds, 1, 'no second build when the image is there');

    // A half-registered set (root image deleted) is cleaned and registered again.
    assert.equal((await c.request('DELETE', `/image/v2/images/${r.imageId}`, { token: c.adminToken })).status, 204);
    const redo = await registerTinyImage(image, { adminProjectId, cacheDir: dir, build });
    assert.equal(redo.status, 'registered');
    const all = await c.request('GET', '/image/v2/images', { token: c.adminToken });
    const names = all.json.images
      .map((i: { name: string }) => i.name)
      .filter((n: string) => n.startsWith('tiny'))
      .sort();
    assert.deepEqual(names, ['tiny', 'tiny-kernel', 'tiny-ramdisk']);
  },
);
