// The backup store: volume backups as qcow2 files in DATA_DIR/backups (directory 0700, files 0600), one per
// backup. A full backup is a compressed copy of the volume's allocated data. An incremental backup is a qcow2
// file whose backing file is its parent backup and which holds only the clusters that differ from it
// (`qemu-img convert -B`), so a chain of incrementals costs only what changed; restoring reads through the chain.
// Backing files are named relative to the store, so the store can move as a whole.
import { execFile } from 'node:child_process';
import { chmod, copyFile, link, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir } from '../../util/fs.js';
import { qemuImgBinary, QemuImgError } from '../../disk/qemu-img.js';

const HOUR_MS = 3_600_000;

function qemuImg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(qemuImgBinary(), args, { timeout: HOUR_MS, maxBuffer: 4 * 1024 * 1024 }, (err, _stdout, stderr) => {
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
      else resolve();
    });
  });
}

/** A volume's bytes as the store reads or writes them. */
export interface VolumeFile {
  path: string;
  /** qcow2 or raw. */
  format: string;
}

export class BackupStore {
  constructor(readonly dir: string) {}

  private file(backupId: string): string {
    return join(this.dir, `backup-${backupId}.qcow2`);
  }

  /**
   * Copies a volume into backup `backupId`: everything, or (with `parentId`) only what differs from the parent.
   * `live`: a guest may be writing (read through QEMU's lock, crash-consistent). Answers the bytes the backup takes.
   */
  async create(
    backupId: string,
    source: VolumeFile,
    opts: { parentId?: string | null; live?: boolean } = {},
  ): Promise<number> {
    ensureDir(this.dir, 0o700);
    const out = this.file(backupId);
    const args = ['convert', ...(opts.live ? ['-U'] : []), '-f', source.format, '-O', 'qcow2'];
    if (opts.parentId) {
      if (!existsSync(this.file(opts.parentId)))
        throw new Error(`The parent backup ${opts.parentId} has no data in the backup store.`);
      // Relative to the new file: both live in this directory.
      args.push('-B', `backup-${opts.parentId}.qcow2`, '-F', 'qcow2');
    } else args.push('-c');
    args.push(source.path, out);
    try {
      await qemuImg(args);
      await chmod(out, 0o600);
      return (await stat(out)).size;
    } catch (e) {
      await rm(out, { force: true });
      throw e;
    }
  }

  /** Writes backup `backupId` (through its chain) over an existing volume of at least its size. */
  async restore(backupId: string, target: VolumeFile): Promise<void> {
    const src = this.file(backupId);
    if (!existsSync(src)) throw new Error(`Backup ${backupId} has no data in the backup store.`);
    // -n: the volume already exists with its own size and format; only its contents are replaced.
    await qemuImg(['convert', '-n', '-f', 'qcow2', '-O', target.format, src, target.path]);
  }

  /** Whether the store holds the backup's data (import of an exported record). */
  has(backupId: string): boolean {
    return existsSync(this.file(backupId));
  }

  /**
   * Makes backup `toId` hold the same data as `fromId` (an imported record under a new id) by a hard link: no copy,
   * and deleting either keeps the other's data. A copy when the file system has no hard links.
   */
  async share(fromId: string, toId: string): Promise<void> {
    const to = this.file(toId);
    if (existsSync(to)) return;
    await link(this.file(fromId), to).catch(() => copyFile(this.file(fromId), to));
  }

  async delete(backupId: string): Promise<void> {
    await rm(this.file(backupId), { force: true });
  }
}
