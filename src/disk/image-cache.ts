// The per-host base image cache: each image's bytes fetched once from the image service, keyed and verified by hash.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { info, qemuFormat } from './qemu-img.js';

/** The image record fields the cache and the driver need. */
export interface SourceImage {
  id: string;
  diskFormat: string | null;
  size: number | null;
  /** md5 (Glance's legacy checksum). */
  checksum: string | null;
  /** Glance's multihash: algorithm (sha512) and value. */
  hashAlgo: string | null;
  hashValue: string | null;
  minDisk: number;
  properties: Record<string, string>;
}

/** Where the cache reads images from (the image service, acting as the compute service). */
export interface ImageSource {
  describe(imageId: string): Promise<SourceImage>;
  open(imageId: string): Promise<Readable>;
}

/** A verified base image on local disk. */
export interface CachedImage {
  path: string;
  /** qemu format name of the file (qcow2, raw, ...). */
  format: string;
  virtualSize: number;
  image: SourceImage;
}

/** The cached file failed verification twice, or the image cannot be used as a base. */
export class ImageCacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageCacheError';
  }
}

/** Picks the strongest hash Glance recorded: [node algorithm, expected hex, key prefix]. */
function expectedHash(img: SourceImage): [string, string, string] {
  if (img.hashAlgo && img.hashValue && ['sha512', 'sha256', 'sha384', 'sha1', 'md5'].includes(img.hashAlgo)) {
    return [img.hashAlgo, img.hashValue.toLowerCase(), img.hashAlgo];
  }
  if (img.checksum) return ['md5', img.checksum.toLowerCase(), 'md5'];
  throw new ImageCacheError(`Image ${img.id} has no checksum; refusing to cache it.`);
}

async function hashFile(path: string, algo: string): Promise<string> {
  const h = createHash(algo);
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/**
 * Base images under `dir`, one file per content hash (`sha512-<hex>`), so two image records with the same bytes
 * share one file. A file is re-hashed whenever its size or mtime differ from when it was last verified; a mismatch
 * means one re-fetch, and a second mismatch is an error (never boot it).
 */
export class ImageCache {
  private readonly inflight = new Map<string, Promise<CachedImage>>();

  constructor(
    readonly dir: string,
    private readonly source: () => ImageSource | null,
  ) {}

  /** The verified local copy of an image, fetched when missing or corrupt. */
  async get(imageId: string): Promise<CachedImage> {
    const src = this.source();
    if (!src) throw new ImageCacheError('No image service is connected to this host.');
    const image = await src.describe(imageId);
    const [algo, expected, prefix] = expectedHash(image);
    const key = `${prefix}-${expected}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.ensure(src, image, algo, expected, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** The path an image with that hash is cached at. */
  pathOf(key: string): string {
    return join(this.dir, key);
  }

  private async ensure(
    src: ImageSource,
    image: SourceImage,
    algo: string,
    expected: string,
    key: string,
  ): Promise<CachedImage> {
    await mkdir(this.dir, { recursive: true });
    const path = this.pathOf(key);
    if (await this.verified(path, algo, expected)) return this.describe(path, image);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const tmp = `${path}.part-${process.pid}-${Date.now()}`;
      try {
        const h = createHash(algo);
        const body = await src.open(image.id);
        await pipeline(
          body,
          async function* (chunks: AsyncIterable<Buffer>) {
            for await (const c of chunks) {
              h.update(c);
              yield c;
            }
          },
          createWriteStream(tmp, { mode: 0o444 }),
        );
        const got = h.digest('hex');
        if (got !== expected) {
          await rm(tmp, { force: true });
          if (attempt === 2)
            throw new ImageCacheError(
              `Image ${image.id}: data hash ${got.slice(0, 16)}... does not match the recorded ${algo} ` +
                `${expected.slice(0, 16)}...`,
            );
          continue;
        }
        await rename(tmp, path);
        await this.stamp(path);
        return this.describe(path, image);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    }
    throw new ImageCacheError(`Image ${image.id} could not be fetched.`);
  }

  /** True when the file exists and (re-)hashes to the expected value; a corrupt file is removed. */
  private async verified(path: string, algo: string, expected: string): Promise<boolean> {
    const st = await stat(path).catch(() => null);
    if (!st) return false;
    const stampText = await readFile(`${path}.verified`, 'utf8').catch(() => '');
    if (stampText === `${st.size} ${st.mtimeMs}`) return true;
    const got = await hashFile(path, algo);
    if (got === expected) {
      await this.stamp(path);
      return true;
    }
    await rm(path, { force: true });
    await rm(`${path}.verified`, { force: true });
    return false;
  }

  private async stamp(path: string): Promise<void> {
    const st = await stat(path);
    await writeFile(`${path}.verified`, `${st.size} ${st.mtimeMs}`);
  }

  private readonly described = new Map<string, { stamp: string; virtualSize: number; format: string }>();

  private async describe(path: string, image: SourceImage): Promise<CachedImage> {
    const fmt = qemuFormat(image.diskFormat ?? 'raw');
    const st = await stat(path);
    const stamp = `${st.size} ${st.mtimeMs}`;
    const known = this.described.get(path);
    if (known && known.stamp === stamp && known.format === fmt)
      return { path, format: fmt, virtualSize: known.virtualSize, image };
    if (!['raw', 'qcow2'].includes(fmt)) {
      // Other formats boot too, but only qcow2 and raw are tested as overlay bases here.
      if (!['vmdk', 'vdi', 'vpc', 'vhdx', 'qed'].includes(fmt))
        throw new ImageCacheError(`Image ${image.id}: disk format ${image.diskFormat} cannot be booted.`);
    }
    const i = await info(path, fmt);
    if (i.backingFile) throw new ImageCacheError(`Image ${image.id} refers to a backing file; refusing to use it.`);
    this.described.set(path, { stamp, virtualSize: i.virtualSize, format: fmt });
    return { path, format: fmt, virtualSize: i.virtualSize, image };
  }

  /** Cached files (keys), for reporting and cleaning bases no instance uses. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => !n.includes('.'));
  }

  /** Removes one cached base (the caller checked no overlay uses it). */
  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
    await rm(`${this.pathOf(key)}.verified`, { force: true });
  }
}
