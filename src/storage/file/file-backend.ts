// Volumes as files under DATA_DIR/volumes (0700), each 0600. Design (docs/volumes.md says more):
// - a snapshot is a standalone copy (`qemu-img convert`, only allocated clusters are read), never an external
//   snapshot that would make the live volume an overlay: the volume keeps one path for its whole life, so an
//   attached guest never has to pivot its block node, and volumes and snapshots can be deleted in any order;
// - volumes made from an image or a snapshot are cheap qcow2 clones: the source file is hard-linked to
//   `<volume>.base` and the volume is an overlay on it. The link makes the base live exactly as long as the volume,
//   whatever happens to the image cache or the snapshot (the file system counts the references);
// - raw volumes (format `raw`) are always full copies.
import { execFile } from 'node:child_process';
import { chmod, link, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from '../../util/fs.js';
import { qemuImgBinary, QemuImgError, qemuFormat } from '../../disk/qemu-img.js';
import type { ImageFile, VolumeBackend, VolumeConnection } from '../volume-backend.js';

function qemuImg(args: string[], timeoutMs = 3_600_000): Promise<string> {
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

/** Settings of the file backend. */
export interface FileBackendOptions {
  /** Directory that holds the files (DATA_DIR/volumes). */
  dir: string;
  /** Format of new volumes. */
  format: 'qcow2' | 'raw';
  /** qemu-img preallocation for new volumes: off (sparse), metadata, falloc, full. */
  preallocation?: 'off' | 'metadata' | 'falloc' | 'full';
}

/** The file backend. */
export class FileVolumeBackend implements VolumeBackend {
  readonly name = 'file';
  readonly format: 'qcow2' | 'raw';

  constructor(private readonly opts: FileBackendOptions) {
    this.format = opts.format;
    ensureDir(opts.dir, 0o700);
  }

  private volumePath(id: string): string {
    return join(this.opts.dir, `volume-${id}`);
  }

  private basePath(id: string): string {
    return join(this.opts.dir, `volume-${id}.base`);
  }

  private snapshotPath(id: string): string {
    return join(this.opts.dir, `snapshot-${id}`);
  }

  private prealloc(): string[] {
    const p = this.opts.preallocation ?? 'off';
    return p === 'off' ? [] : ['-o', `preallocation=${p}`];
  }

  private async finish(path: string): Promise<void> {
    await chmod(path, 0o600);
  }

  async createBlank(volumeId: string, sizeBytes: number): Promise<void> {
    const path = this.volumePath(volumeId);
    await qemuImg(['create', '-q', '-f', this.format, ...this.prealloc(), path, String(sizeBytes)], 60_000);
    await this.finish(path);
  }

  /** qcow2: an overlay on a hard link of `src` (nothing copied); raw: a full conversion. */
  private async cloneFrom(volumeId: string, src: string, srcFormat: string, sizeBytes: number): Promise<void> {
    const path = this.volumePath(volumeId);
    if (this.format === 'qcow2' && (srcFormat === 'qcow2' || srcFormat === 'raw')) {
      const base = this.basePath(volumeId);
      await rm(base, { force: true });
      try {
        await link(src, base);
      } catch {
        // Another file system (EXDEV) or links refused: a full copy as the base instead.
        await qemuImg(['convert', '-f', srcFormat, '-O', srcFormat, src, base]);
      }
      await qemuImg(['create', '-q', '-f', 'qcow2', '-F', srcFormat, '-b', base, path, String(sizeBytes)], 60_000);
    } else {
      await qemuImg(['convert', '-f', qemuFormat(srcFormat), '-O', this.format, src, path]);
      await this.grow(path, this.format, sizeBytes);
    }
    await this.finish(path);
  }

  async createFromImage(volumeId: string, image: ImageFile, sizeBytes: number): Promise<void> {
    await this.cloneFrom(volumeId, image.path, image.format, sizeBytes);
  }

  async createFromSnapshot(volumeId: string, snapshotId: string, sizeBytes: number): Promise<void> {
    await this.cloneFrom(volumeId, this.snapshotPath(snapshotId), this.format, sizeBytes);
  }

  async cloneVolume(volumeId: string, sourceVolumeId: string, sizeBytes: number): Promise<void> {
    // The source keeps changing, so it cannot be a shared base: a full (flattened) copy.
    const path = this.volumePath(volumeId);
    await qemuImg(['convert', '-U', '-f', this.format, '-O', this.format, this.volumePath(sourceVolumeId), path]);
    await this.grow(path, this.format, sizeBytes);
    await this.finish(path);
  }

  async createSnapshot(snapshotId: string, volumeId: string, live: boolean): Promise<void> {
    const path = this.snapshotPath(snapshotId);
    await qemuImg([
      'convert',
      ...(live ? ['-U'] : []),
      '-f',
      this.format,
      '-O',
      this.format,
      this.volumePath(volumeId),
      path,
    ]);
    await chmod(path, 0o400);
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    await rm(this.snapshotPath(snapshotId), { force: true });
  }

  async deleteVolume(volumeId: string): Promise<void> {
    await rm(this.volumePath(volumeId), { force: true });
    await rm(this.basePath(volumeId), { force: true });
  }

  async extend(volumeId: string, sizeBytes: number): Promise<void> {
    await this.grow(this.volumePath(volumeId), this.format, sizeBytes);
  }

  private async grow(path: string, format: string, sizeBytes: number): Promise<void> {
    const out = JSON.parse(await qemuImg(['info', '-U', '-f', format, '--output=json', path], 60_000)) as {
      'virtual-size': number;
    };
    if (sizeBytes > out['virtual-size']) await qemuImg(['resize', '-q', '-f', format, path, String(sizeBytes)], 60_000);
  }

  /** The file system holding the volume store: its size and what is free (thin volumes can overcommit it). */
  async stats(): Promise<{ storageProtocol: string; totalGb: number; freeGb: number }> {
    const fs = await statfs(this.opts.dir);
    const gb = (blocks: number) => Math.floor((blocks * fs.bsize) / 1024 ** 3);
    return { storageProtocol: 'file', totalGb: gb(fs.blocks), freeGb: gb(fs.bavail) };
  }

  connection(volumeId: string): VolumeConnection {
    return { driver: 'file', path: this.volumePath(volumeId), format: this.format };
  }

  snapshotConnection(snapshotId: string): VolumeConnection {
    return { driver: 'file', path: this.snapshotPath(snapshotId), format: this.format };
  }

  async exists(volumeId: string): Promise<boolean> {
    return !!(await stat(this.volumePath(volumeId)).catch(() => null));
  }
}
