// Builds hostile (and benign) disk images with qemu-img for the inspector and upload tests.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QEMU_IMG = '/usr/bin/qemu-img';
export const hasQemuImg = () => existsSync(QEMU_IMG);

export function qemuImg(...args: string[]): void {
  execFileSync(QEMU_IMG, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A scratch directory with a canary file whose access time proves whether anything read it. */
export interface Lab {
  dir: string;
  canary: string;
  /** True when something read the canary since the lab was made (atime moved). */
  canaryWasRead(): boolean;
  file(name: string): string;
}

/** A canary with atime far older than mtime: with relatime (or strictatime) any read moves atime. */
export function makeLab(): Lab {
  const dir = mkdtempSync(join(tmpdir(), 'gureum-hostile-'));
  const canary = join(dir, 'canary-secret.txt');
  writeFileSync(canary, 'root:x:0:0:canary:/root:/bin/sh\n'.repeat(64));
  const old = new Date(1_000_000_000);
  utimesSync(canary, old, new Date());
  const atime0 = statSync(canary).atimeMs;
  return {
    dir,
    canary,
    canaryWasRead: () => statSync(canary).atimeMs !== atime0,
    file: (name) => join(dir, name),
  };
}

/** Writes an ISO 9660 primary volume descriptor at 32 KiB into an existing file (making it look like an ISO). */
export function plantIsoDescriptor(path: string, blocks = 32): void {
  const buf = readFileSync(path);
  const out = buf.length < 34816 ? Buffer.concat([buf, Buffer.alloc(34816 - buf.length)]) : buf;
  const pvd = Buffer.alloc(2048);
  pvd[0] = 1;
  pvd.write('CD001', 1, 'latin1');
  pvd[6] = 1;
  pvd.writeUInt32LE(blocks, 80);
  pvd.writeUInt32BE(blocks, 84);
  pvd.writeUInt16LE(2048, 128);
  pvd.writeUInt16BE(2048, 130);
  pvd.copy(out, 32768);
  writeFileSync(path, out);
}

/** A plain ISO (system area of zeros + one PVD + terminator), `blocks` of 2 KiB. */
export function makeIso(path: string, blocks = 32): void {
  const out = Buffer.alloc(blocks * 2048);
  writeFileSync(path, out);
  plantIsoDescriptor(path, blocks);
  const b = readFileSync(path);
  b[34816] = 255;
  b.write('CD001', 34817, 'latin1');
  writeFileSync(path, b);
}

/** A monolithicSparse VMDK whose embedded descriptor names an extent by absolute path. */
export function makeVmdkWithPathExtent(path: string, target: string): void {
  qemuImg('create', '-f', 'vmdk', '-o', 'subformat=monolithicSparse', path, '1M');
  const b = readFileSync(path);
  const text = b.toString('latin1', 512, 1536);
  const m = /RW \d+ SPARSE "[^"]+"/.exec(text);
  if (!m) throw new Error('no extent line in the VMDK descriptor');
  const line = m[0].replace(/"[^"]+"/, `"${target}"`);
  const start = 512 + m.index;
  // Rewrite from the extent line on (the descriptor area is NUL padded up to its size).
  const after = text.slice(m.index + m[0].length).replace(/\0+$/, '');
  Buffer.from(line + after, 'latin1').copy(b, start);
  writeFileSync(path, b);
}

/** A descriptor-only VMDK (monolithicFlat) whose extent is an absolute path: CVE-2022-47951's shape. */
export function makeFlatVmdkDescriptor(path: string, target: string): void {
  writeFileSync(
    path,
    [
      '# Disk DescriptorFile',
      'version=1',
      'CID=fffffffe',
      'parentCID=ffffffff',
      'createType="monolithicFlat"',
      '',
      '# Extent description',
      `RW 2048 FLAT "${target}" 0`,
      '',
      '# The Disk Data Base',
      '#DDB',
      '',
      'ddb.virtualHWVersion = "4"',
      'ddb.geometry.cylinders = "2"',
      'ddb.geometry.heads = "16"',
      'ddb.geometry.sectors = "63"',
      'ddb.adapterType = "ide"',
      '',
    ].join('\n'),
  );
}
