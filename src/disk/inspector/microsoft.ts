import type { FormatProbe, FormatReport } from './types.js';
import { readExact, u64, type ByteSource } from './source.js';

// VHD ("vpc" in qemu): a 512-byte big-endian footer with cookie "conectix". Dynamic disks keep a copy at
// offset 0; fixed disks have it only at the end. Current size u64 @48, disk type u32 @60 (2 fixed,
// 3 dynamic, 4 differencing: a parent file is named, so refused).
function vhdFooter(b: Buffer): FormatReport {
  const report: FormatReport = { name: 'vhd', virtualSize: u64(b, 48, 'be'), unsafe: [] };
  const type = b.readUInt32BE(60);
  if (type === 4) report.unsafe.push('VHD differencing disks (with a parent file) are not allowed');
  else if (type !== 2 && type !== 3) report.unsafe.push(`VHD disk type ${type} is not supported`);
  return report;
}

/** Microsoft Virtual PC disks. */
export const vhdProbe: FormatProbe = {
  name: 'vhd',
  async probe(src, head) {
    if (head.length >= 512 && head.toString('latin1', 0, 8) === 'conectix') return vhdFooter(head);
    if (src.size >= 1024) {
      const tail = await readExact(src, src.size - 512, 512);
      if (tail && tail.toString('latin1', 0, 8) === 'conectix') return vhdFooter(tail);
    }
    return null;
  },
};

// VHDX (little-endian): identifier "vhdxfile" @0; region table at 192 KiB ("regi", entry count u32 @8,
// 32-byte entries from @16: GUID, file offset u64, length u32). The metadata region starts with "metadata",
// entry count u16 @10 and 32-byte entries from @32: GUID, offset u32 (from the region start), length u32.
const REGION_TABLE = 192 * 1024;
const METADATA_REGION = '8B7CA206-4790-4B9A-B8FE-575F050F886E';
const VIRTUAL_DISK_SIZE = '2FA54224-CD1B-4876-B211-5DBED83BF4B8';
const FILE_PARAMETERS = 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B';
const PARENT_LOCATOR = 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C';

function guid(b: Buffer): string {
  const h = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
  const tail = [...b.subarray(8, 16)].map((x) => h(x, 2)).join('');
  return [
    h(b.readUInt32LE(0), 8),
    h(b.readUInt16LE(4), 4),
    h(b.readUInt16LE(6), 4),
    tail.slice(0, 4),
    tail.slice(4),
  ].join('-');
}

async function vhdxMetadata(src: ByteSource, report: FormatReport): Promise<void> {
  const table = await readExact(src, REGION_TABLE, 64 * 1024);
  if (table?.toString('latin1', 0, 4) !== 'regi') {
    report.unsafe.push('VHDX region table is missing');
    return;
  }
  const count = table.readUInt32LE(8);
  if (count >= 2048) {
    report.unsafe.push('VHDX region table is invalid');
    return;
  }
  let metaOffset = -1;
  for (let i = 0; i < count; i++) {
    const e = table.subarray(16 + i * 32, 48 + i * 32);
    if (e.length < 32) break;
    if (guid(e) === METADATA_REGION) metaOffset = u64(e, 16, 'le');
  }
  const meta = metaOffset >= 0 && Number.isFinite(metaOffset) ? await readExact(src, metaOffset, 32) : undefined;
  if (meta?.toString('latin1', 0, 8) !== 'metadata') {
    report.unsafe.push('VHDX metadata region is missing');
    return;
  }
  const entries = meta.readUInt16LE(10);
  if (entries >= 2048) {
    report.unsafe.push('VHDX metadata table is invalid');
    return;
  }
  const tableBytes = await readExact(src, metaOffset + 32, entries * 32);
  if (!tableBytes) {
    report.unsafe.push('VHDX metadata table is truncated');
    return;
  }
  for (let i = 0; i < entries; i++) {
    const e = tableBytes.subarray(i * 32, i * 32 + 32);
    const id = guid(e);
    const off = metaOffset + e.readUInt32LE(16);
    if (id === VIRTUAL_DISK_SIZE) {
      const v = await readExact(src, off, 8);
      if (v) report.virtualSize = u64(v, 0, 'le');
    } else if (id === FILE_PARAMETERS) {
      const v = await readExact(src, off, 8);
      if (v && v.readUInt32LE(4) & 0x2)
        report.unsafe.push('VHDX differencing disks (with a parent file) are not allowed');
    } else if (id === PARENT_LOCATOR) {
      report.unsafe.push('VHDX image names a parent disk');
    }
  }
}

/** Microsoft Hyper-V disks; differencing disks (parent locators) are refused. */
export const vhdxProbe: FormatProbe = {
  name: 'vhdx',
  async probe(src, head) {
    if (head.length < 8 || head.toString('latin1', 0, 8) !== 'vhdxfile') return null;
    const report: FormatReport = { name: 'vhdx', virtualSize: 0, unsafe: [] };
    await vhdxMetadata(src, report);
    report.unsafe = [...new Set(report.unsafe)];
    return report;
  },
};
