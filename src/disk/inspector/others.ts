import type { FormatProbe, FormatReport } from './types.js';
import { readExact, u64 } from './source.js';

// VDI (VirtualBox, little-endian): signature 0xbeda107f @0x40, image type u32 @0x4c
// (1 dynamic, 2 fixed, 3 undo, 4 differencing), disk size u64 @0x170.
export const vdiProbe: FormatProbe = {
  name: 'vdi',
  async probe(_src, head) {
    if (head.length < 0x178 || head.readUInt32LE(0x40) !== 0xbeda107f) return null;
    const report: FormatReport = { name: 'vdi', virtualSize: u64(head, 0x170, 'le'), unsafe: [] };
    const type = head.readUInt32LE(0x4c);
    if (type !== 1 && type !== 2) report.unsafe.push(`VDI image type ${type} is not allowed`);
    return report;
  },
};

// ISO 9660 / UDF: the first volume descriptor sits at 32 KiB ("CD001", or "NSR02"/"NSR03"/"BEA01" for UDF).
// A primary volume descriptor (type 1) holds the block count (LE u32 @80) and block size (LE u16 @128).
export const isoProbe: FormatProbe = {
  name: 'iso',
  async probe(src) {
    const d = await readExact(src, 32 * 1024, 2048);
    if (!d) return null;
    const id = d.toString('latin1', 1, 6);
    if (!['CD001', 'NSR02', 'NSR03', 'BEA01'].includes(id)) return null;
    let virtualSize = 0;
    if (id === 'CD001' && d[0] === 1) virtualSize = d.readUInt32LE(80) * d.readUInt16LE(128);
    return { name: 'iso', virtualSize, unsafe: [] };
  },
};

// MBR (and the protective MBR of GPT disks): signature 0x55aa @510, four 16-byte partition entries @446.
// A FAT boot sector has the same signature and is told apart by its BIOS parameter block.
export const gptProbe: FormatProbe = {
  name: 'gpt',
  async probe(src, head) {
    if (head.length < 512 || head.readUInt16LE(510) !== 0xaa55) return null;
    if (head[0x10] === 2 && head[0x15] === 0xf8) return null; // FAT volume boot record
    const report: FormatReport = { name: 'gpt', virtualSize: src.size, unsafe: [] };
    const used: number[] = [];
    let gpt = false;
    for (let i = 0; i < 4; i++) {
      const p = head.subarray(446 + i * 16, 462 + i * 16);
      if (p[0] !== 0x00 && p[0] !== 0x80) report.unsafe.push(`MBR partition ${i} has an invalid boot flag`);
      if (p[4] !== 0) used.push(i);
      if (p[4] === 0xee) {
        gpt = true;
        if (p[1] !== 0 || p[2] !== 2 || p[3] !== 0) report.unsafe.push('GPT protective MBR has an invalid start CHS');
        if (p.readUInt32LE(8) !== 1) report.unsafe.push('GPT protective MBR has an invalid start LBA');
      }
    }
    if (gpt && (used.length !== 1 || used[0] !== 0)) report.unsafe.push('GPT protective MBR defines extra partitions');
    if (used.length === 0) report.unsafe.push('MBR defines no partitions');
    return report;
  },
};

// LUKS v1 (big-endian): magic "LUKS\xba\xbe", version u16 @6, payload offset u32 (sectors) @104.
export const luksProbe: FormatProbe = {
  name: 'luks',
  async probe(src, head) {
    if (head.length < 6 || !head.subarray(0, 6).equals(Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]))) return null;
    const h = await readExact(src, 0, 108);
    const report: FormatReport = { name: 'luks', virtualSize: 0, unsafe: [] };
    if (!h) {
      report.unsafe.push('truncated LUKS header');
      return report;
    }
    const version = h.readUInt16BE(6);
    if (version !== 1) report.unsafe.push(`LUKS version ${version} is not supported`);
    report.virtualSize = Math.max(0, src.size - h.readUInt32BE(104) * 512);
    return report;
  },
};
