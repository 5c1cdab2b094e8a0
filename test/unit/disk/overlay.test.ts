// Overlays and the base image cache with a real qemu-img on small images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  backingOf,
  createOverlay,
  DiskTooSmallError,
  flatten,
  growDisk,
  rootDiskBytes,
} from '../../../src/disk/overlay.js';
import { ImageCache, ImageCacheError, type ImageSource, type SourceImage } from '../../../src/disk/image-cache.js';
import { info } from '../../../src/disk/qemu-img.js';
import { requireCommands } from '../../helpers/requirements.js';

const GiB = 1024 ** 3;

test("root disk size: the flavor's, the image's when the flavor says 0, refused when smaller than the image", () => {
  assert.equal(rootDiskBytes(1, 10 * 1024 * 1024), GiB);
  assert.equal(rootDiskBytes(0, 12345 * 512), 12345 * 512);
  assert.throws(() => rootDiskBytes(1, 2 * GiB), DiskTooSmallError);
});

test('an overlay names its base with an explicit format, grows to the flavor size and copies nothing', async (t) => {
  if (!requireCommands(t, ['qemu-img'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'overlay-test-'));
  try {
    const base = join(dir, 'base.raw');
    writeFileSync(base, Buffer.alloc(4 * 1024 * 1024, 7));
    const ov = join(dir, 'disk.qcow2');
    await createOverlay(ov, base, 'raw', GiB);
    const i = await info(ov, 'qcow2');
    assert.equal(i.virtualSize, GiB);
    assert.equal(await backingOf(ov), base);
    const json = JSON.parse(
      execFileSync('qemu-img', ['info', '-f', 'qcow2', '--output=json', ov], { encoding: 'utf8' }),
    ) as Record<string, unknown>;
    assert.equal(json['backing-filename-format'], 'raw');
    assert.ok(statSync(ov).size < 1024 * 1024, 'the overlay holds metadata only');
    await growDisk(ov, 2 * GiB);
    assert.equal((await info(ov, 'qcow2')).virtualSize, 2 * GiB);
    await growDisk(ov, GiB); // never shrinks
    assert.equal((await info(ov, 'qcow2')).virtualSize, 2 * GiB);
    const flat = join(dir, 'flat.qcow2');
    await flatten(ov, flat);
    assert.equal(await backingOf(flat), null);
    // The flattened image holds the base's bytes.
    const back = join(dir, 'back.raw');
    execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', flat, back]);
    const head = Buffer.alloc(4096);
    const fd = openSync(back, 'r');
    readSync(fd, head, 0, 4096, 0);
    closeSync(fd);
    assert.ok(head.every((b) => b === 7));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function sourceOf(bytes: () => Buffer, img: Partial<SourceImage> = {}): ImageSource & { opens: number } {
  const data = bytes();
  const s = {
    opens: 0,
    async describe(id: string): Promise<SourceImage> {
      return {
        id,
        diskFormat: 'raw',
        size: data.length,
        checksum: createHash('md5').update(data).digest('hex'),
        hashAlgo: 'sha512',
        hashValue: createHash('sha512').update(data).digest('hex'),
        minDisk: 0,
        properties: {},
        ...img,
      };
    },
    async open(): Promise<Readable> {
      s.opens++;
      return Readable.from([bytes()]);
    },
  };
  return s;
}

test(
  'the base cache fetches once, shares by hash, re-fetches a corrupted file, and refuses data that does not ' + 'match',
  async (t) => {
    if (!requireCommands(t, ['qemu-img'])) return;
    const dir = mkdtempSync(join(tmpdir(), 'cache-test-'));
    try {
      const good = Buffer.alloc(1024 * 1024, 3);
      const src = sourceOf(() => good);
      const cache = new ImageCache(join(dir, 'images'), () => src);
      const a = await cache.get('img-a');
      const b = await cache.get('img-b'); // same bytes, another record
      assert.equal(a.path, b.path);
      assert.equal(src.opens, 1);
      assert.match(a.path, /sha512-[0-9a-f]{128}$/);
      assert.equal(a.format, 'raw');
      // Corrupt the cached file: it is re-hashed, found wrong and fetched again.
      chmodSync(a.path, 0o644);
      writeFileSync(a.path, Buffer.alloc(1024 * 1024, 4));
      const c = await cache.get('img-a');
      assert.equal(src.opens, 2);
      assert.ok(readFileSync(c.path).equals(good));
      // The image service hands over bytes that do not match the recorded hash: never cached, never booted.
      const lying = sourceOf(() => Buffer.alloc(1024, 9), { hashValue: 'ab'.repeat(64) });
      const cache2 = new ImageCache(join(dir, 'images2'), () => lying);
      await assert.rejects(cache2.get('img-x'), ImageCacheError);
      assert.equal(lying.opens, 2, 'one re-fetch, then an error');
      assert.deepEqual(await cache2.list(), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('a qcow2 base that names a backing file is refused', async (t) => {
  if (!requireCommands(t, ['qemu-img'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'cache-test-'));
  try {
    const target = join(dir, 'secret.raw');
    writeFileSync(target, Buffer.alloc(65536));
    const evil = join(dir, 'evil.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', target, evil, '1M']);
    const bytes = readFileSync(evil);
    const cache = new ImageCache(join(dir, 'images'), () => sourceOf(() => bytes, { diskFormat: 'qcow2' }));
    await assert.rejects(cache.get('evil'), /backing file/);
    assert.ok(existsSync(target));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
