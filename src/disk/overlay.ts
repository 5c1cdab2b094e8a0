// Instance disks: qcow2 overlays on cached bases (never a full copy), blank ephemeral and swap disks, flattening for
// snapshots.
import { execFile } from 'node:child_process';
import { qemuImgBinary, QemuImgError, info } from './qemu-img.js';

const GiB = 1024 ** 3;

function qemuImg(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(qemuImgBinary(), args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new QemuImgError(
            `qemu-img ${args[0]} failed: ${String(stderr || err.message)
              .trim()
              .split('\n')
              .slice(-2)
              .join(' ')}`,
            String(stderr),
          ),
        );
      else resolve(String(stdout));
    });
  });
}

/** The requested disk is smaller than the image inside it. */
export class DiskTooSmallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiskTooSmallError';
  }
}

/** The size in bytes a root disk gets: the flavor's size, or the image's own when the flavor says 0. */
export function rootDiskBytes(flavorRootGb: number, imageVirtualSize: number): number {
  if (flavorRootGb <= 0) return imageVirtualSize;
  const want = flavorRootGb * GiB;
  if (want < imageVirtualSize) {
    throw new DiskTooSmallError(
      `Flavor's disk is too small for requested image. Flavor disk is ${want} bytes, image is ${imageVirtualSize} ` +
        `bytes.`,
    );
  }
  return want;
}

/**
 * Creates a qcow2 overlay backed by `base` (format given explicitly, never probed), of `sizeBytes` virtual bytes.
 * `qemu-img create -f qcow2 -F FMT -b BASE OVERLAY SIZE`: nothing of the base is copied.
 */
export async function createOverlay(
  overlay: string,
  base: string,
  baseFormat: string,
  sizeBytes: number,
): Promise<void> {
  await qemuImg(['create', '-q', '-f', 'qcow2', '-F', baseFormat, '-b', base, overlay, String(sizeBytes)], 60_000);
}

/** A blank qcow2 disk (ephemeral, swap). */
export async function createBlank(path: string, sizeBytes: number): Promise<void> {
  await qemuImg(['create', '-q', '-f', 'qcow2', path, String(sizeBytes)], 60_000);
}

/** Grows a qcow2 disk (resize); never shrinks. */
export async function growDisk(path: string, sizeBytes: number): Promise<void> {
  const cur = await info(path, 'qcow2');
  if (sizeBytes > cur.virtualSize) await qemuImg(['resize', '-q', '-f', 'qcow2', path, String(sizeBytes)], 60_000);
}

/**
 * Flattens an overlay and its backing chain into one standalone qcow2 (`qemu-img convert -f qcow2 -O qcow2`).
 * `-U` reads the disk while QEMU holds its lock; callers pause the guest (or freeze its file systems) first.
 */
export async function flatten(overlay: string, dest: string, timeoutMs = 3_600_000): Promise<void> {
  await qemuImg(['convert', '-U', '-f', 'qcow2', '-O', 'qcow2', '-c', overlay, dest], timeoutMs);
}

/** The backing file an overlay names (to tell which cached bases are in use). */
export async function backingOf(path: string): Promise<string | null> {
  const out = JSON.parse(await qemuImg(['info', '-U', '-f', 'qcow2', '--output=json', path], 30_000)) as Record<
    string,
    unknown
  >;
  return typeof out['full-backing-filename'] === 'string'
    ? out['full-backing-filename']
    : typeof out['backing-filename'] === 'string'
      ? out['backing-filename']
      : null;
}
