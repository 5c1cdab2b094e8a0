import type { FormatProbe, FormatReport } from './types.js';
import { readExact, u64 } from './source.js';

// QCOW2 header (big-endian): magic "QFI\xfb" @0, version u32 @4, backing_file_offset u64 @8,
// backing_file_size u32 @16, cluster_bits u32 @20, size u64 @24, ... incompatible_features u64 @72,
// header_length u32 @100 (v3). Header extensions follow the header: {type u32, length u32, data padded to 8}.
const MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);
const INCOMPAT_DIRTY = 0n;
const INCOMPAT_CORRUPT = 1n;
const INCOMPAT_DATA_FILE = 2n;
const INCOMPAT_COMPRESSION = 3n;
const INCOMPAT_EXTENDED_L2 = 4n;
const KNOWN_INCOMPAT = [
  INCOMPAT_DIRTY,
  INCOMPAT_CORRUPT,
  INCOMPAT_DATA_FILE,
  INCOMPAT_COMPRESSION,
  INCOMPAT_EXTENDED_L2,
].reduce((m, b) => m | (1n << b), 0n);
const EXT_END = 0x00000000;
const EXT_DATA_FILE = 0x44415441; // "DATA": external data file name
const EXT_MAX = 64;

/** QEMU's copy-on-write format. Refused: backing files, external data files, unknown incompatible features, v1. */
export const qcow2Probe: FormatProbe = {
  name: 'qcow2',
  async probe(src, head) {
    if (head.length < 32 || !head.subarray(0, 4).equals(MAGIC)) return null;
    const report: FormatReport = { name: 'qcow2', virtualSize: 0, unsafe: [] };
    const version = head.readUInt32BE(4);
    report.virtualSize = u64(head, 24, 'be');
    if (version !== 2 && version !== 3) {
      report.unsafe.push(`unsupported qcow2 version ${version}`);
      return report;
    }
    const hdr = await readExact(src, 0, version === 3 ? 104 : 72);
    if (!hdr) {
      report.unsafe.push('truncated qcow2 header');
      return report;
    }
    if (hdr.readBigUInt64BE(8) !== 0n) report.unsafe.push('qcow2 image names a backing file');
    let extStart = 72;
    if (version === 3) {
      const incompat = hdr.readBigUInt64BE(72);
      if (incompat & (1n << INCOMPAT_DATA_FILE)) report.unsafe.push('qcow2 image uses an external data file');
      if (incompat & ~KNOWN_INCOMPAT) report.unsafe.push('qcow2 image has unknown incompatible features');
      const headerLength = hdr.readUInt32BE(100);
      if (headerLength < 104 || headerLength > 64 * 1024) {
        report.unsafe.push('qcow2 header length is invalid');
        return report;
      }
      extStart = headerLength;
    }
    // Walk the header extensions: a data-file name there is refused even without the feature bit.
    const clusterBits = hdr.readUInt32BE(20);
    const limit = clusterBits >= 9 && clusterBits <= 21 ? 2 ** clusterBits : 64 * 1024;
    let off = extStart;
    for (let i = 0; i < EXT_MAX && off + 8 <= limit; i++) {
      const e = await readExact(src, off, 8);
      if (!e) break;
      const type = e.readUInt32BE(0);
      const len = e.readUInt32BE(4);
      if (type === EXT_END) break;
      if (type === EXT_DATA_FILE) report.unsafe.push('qcow2 image names an external data file');
      off += 8 + Math.ceil(len / 8) * 8;
    }
    return report;
  },
};

/** QED: recognised only to be refused (nothing supports it and qemu would follow its backing file). */
export const qedProbe: FormatProbe = {
  name: 'qed',
  async probe(_src, head) {
    if (head.length < 4 || head.toString('latin1', 0, 4) !== 'QED\0') return null;
    return {
      name: 'qed',
      virtualSize: head.length >= 48 ? u64(head, 40, 'le') : 0,
      unsafe: ['QED images are not allowed'],
    };
  },
};
