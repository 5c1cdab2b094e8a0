// convert, compress, sparsify and shrink. qemu-img always gets an explicit -f (the format the inspector found);
// shrinking shrinks the ext filesystem first (resize2fs inside libguestfs), then its partition, then the disk.
import { renameSync, rmSync, statSync } from 'node:fs';
import { ImagingError } from './errors.js';
import { diskFormatOf } from './guest.js';
import { GuestfishSession, GuestfsError } from './guestfish.js';
import { requireTools, runTool } from './tools.js';
import { childEnv } from '../util/host-env.js';

/** Virtual and on-disk sizes of an image. */
export interface Sizes {
  virtualBytes: number;
  fileBytes: number;
}

/** Before/after sizes of one step. */
export interface SizeReport {
  image: string;
  step: string;
  format: string;
  before: Sizes;
  after: Sizes;
  output: string;
}

export async function sizesOf(path: string, format?: string): Promise<Sizes> {
  const fmt = format ?? (await diskFormatOf(path));
  const info = JSON.parse(
    await runTool('qemu-img', ['info', '-f', fmt, '--output=json', path], { env: childEnv() }),
  ) as Record<string, number>;
  return { virtualBytes: Number(info['virtual-size']), fileBytes: statSync(path).size };
}

/** Writes `src` as `toFormat` (qcow2 compressed when `compress`) to `output` (default: replace src). */
export async function convertImage(
  src: string,
  opts: { toFormat?: string; compress?: boolean; output?: string } = {},
): Promise<SizeReport> {
  requireTools({ 'qemu-img': 'qemu-utils' });
  const from = await diskFormatOf(src);
  const to = opts.toFormat ?? (opts.compress ? 'qcow2' : from);
  if (!['qcow2', 'raw', 'vmdk', 'vdi', 'vhdx', 'vpc'].includes(to))
    throw new ImagingError('bad-input', `cannot convert to "${to}" (qcow2, raw, vmdk, vdi, vhdx, vpc)`);
  if (opts.compress && to !== 'qcow2') throw new ImagingError('bad-input', 'compression needs the qcow2 format');
  const before = await sizesOf(src, from);
  const output = opts.output ?? src;
  const tmp = `${output}.partial-${process.pid}`;
  try {
    await runTool('qemu-img', ['convert', '-f', from, '-O', to, ...(opts.compress ? ['-c'] : []), src, tmp], {
      env: childEnv(),
    });
    renameSync(tmp, output);
  } finally {
    rmSync(tmp, { force: true });
  }
  return {
    image: src,
    step: opts.compress ? 'compress' : 'convert',
    format: to,
    before,
    after: await sizesOf(output, to),
    output,
  };
}

/** virt-sparsify in place: unused blocks of the filesystems become holes (or zero clusters). */
export async function sparsifyImage(path: string): Promise<SizeReport> {
  requireTools({ 'virt-sparsify': 'libguestfs-tools' });
  const fmt = await diskFormatOf(path);
  const before = await sizesOf(path, fmt);
  await runTool('virt-sparsify', ['--in-place', '--format', fmt, path], { timeoutMs: 3_600_000 });
  return { image: path, step: 'sparsify', format: fmt, before, after: await sizesOf(path, fmt), output: path };
}

/**
 * Shrinks the disk to just hold its last filesystem: e2fsck, resize2fs -M (inside libguestfs), the partition
 * moved in to the new end (MBR disks or a whole-disk filesystem), then `qemu-img resize --shrink`.
 * `slackBytes` of free space is kept in the filesystem so the image still boots before growpart runs.
 */
export async function shrinkImage(path: string, opts: { slackBytes?: number } = {}): Promise<SizeReport> {
  requireTools({ 'qemu-img': 'qemu-utils', guestfish: 'libguestfs-tools' });
  const fmt = await diskFormatOf(path);
  const before = await sizesOf(path, fmt);
  const slack = opts.slackBytes ?? 64 * 2 ** 20;
  const g = await GuestfishSession.start(path, fmt, { readonly: false });
  let newSize: number;
  try {
    const parts = (await g.call(['list-partitions']))
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    const dev = parts.length ? parts[parts.length - 1]! : '/dev/sda';
    const fsType = (await g.call(['vfs-type', dev])).trim();
    if (!/^ext[234]$/.test(fsType))
      throw new ImagingError(
        'bad-input',
        `shrink: the last filesystem (${dev}) is ${fsType || 'unknown'}, only ext2/3/4 can be shrunk`,
      );
    if (parts.length && (await g.call(['part-get-parttype', '/dev/sda'])).trim() !== 'msdos')
      throw new ImagingError(
        'bad-input',
        'shrink: only MBR (msdos) partition tables are handled; use virt-resize for GPT',
      );
    await g.call(['e2fsck', dev, 'forceall:true']);
    await g.call(['resize2fs-M', dev]);
    const tl = await g.call(['tune2fs-l', dev]);
    const num = (k: string) => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(tl)?.[1]);
    const blockSize = num('Block size');
    const minBlocks = num('Block count');
    if (!blockSize || !minBlocks) throw new ImagingError('tool', 'shrink: could not read the filesystem size');
    const fsBytes = Math.ceil((minBlocks * blockSize + slack) / 2 ** 20) * 2 ** 20;
    await g.call(['resize2fs-size', dev, String(fsBytes)]);
    if (parts.length) {
      const n = Number(/(\d+)$/.exec(dev)![1]);
      const list = await g.call(['part-list', '/dev/sda']);
      const starts = [...list.matchAll(/part_num: (\d+)\s+part_start: (\d+)/g)].map((m) => ({
        n: Number(m[1]),
        start: Number(m[2]),
      }));
      const start = starts.find((p) => p.n === n)?.start;
      if (start === undefined) throw new ImagingError('tool', 'shrink: could not read the partition start');
      const endSect = Math.floor((start + fsBytes) / 512) - 1; // part-list gives the start in bytes
      if (n > 4)
        throw new ImagingError(
          'bad-input',
          'shrink: the last filesystem is in a logical partition; only primary MBR partitions are handled',
        );
      // parted asks for confirmation before shrinking a partition (part-resize fails without a terminal), so the
      // entry is recreated with the same start, type and boot flag: the data does not move.
      const [boot, id] = await g.batch([
        ['part-get-bootable', '/dev/sda', String(n)],
        ['part-get-mbr-id', '/dev/sda', String(n)],
      ]);
      await g.call(['part-del', '/dev/sda', String(n)]);
      await g.call(['part-add', '/dev/sda', 'p', String(start / 512), String(endSect)]);
      await g.call(['part-set-mbr-id', '/dev/sda', String(n), String(Number(id!.trim()))]);
      if (boot!.trim() === 'true') await g.call(['part-set-bootable', '/dev/sda', String(n), 'true']);
      newSize = Math.ceil(((endSect + 1) * 512) / 2 ** 20) * 2 ** 20;
    } else {
      newSize = fsBytes;
    }
    await g.call(['sync']);
  } catch (e) {
    if (e instanceof GuestfsError) throw new ImagingError('tool', `shrink: ${e.message}`);
    throw e;
  } finally {
    await g.close();
  }
  if (newSize < before.virtualBytes) {
    await runTool('qemu-img', ['resize', '-f', fmt, '--shrink', path, String(newSize)], { env: childEnv() });
  }
  return { image: path, step: 'shrink', format: fmt, before, after: await sizesOf(path, fmt), output: path };
}
