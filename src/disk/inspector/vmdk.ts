import type { FormatProbe, FormatReport } from './types.js';
import { readExact, u64, type ByteSource } from './source.js';

// VMDK "hosted sparse extent" header (little-endian): magic "KDMV" @0, version u32 @4, flags u32 @8,
// capacity u64 (sectors) @12, grainSize u64 @20, descriptorOffset u64 @28, descriptorSize u64 @36,
// numGTEsPerGT u32 @44, rgdOffset u64 @48, gdOffset u64 @56. The descriptor is text naming the
// createType and the extents (files) that hold the data.
const DESC_OFFSET = 0x200;
const DESC_MAX = (1 << 20) - 1;
const GD_AT_END = 0xffffffffffffffffn;
const MARKER_EOS = 0;
const MARKER_FOOTER = 3;
const ALLOWED_TYPES = new Set(['monolithicsparse', 'streamoptimized']);
const EXTENT_ACCESS = new Set(['rw', 'rdonly', 'noaccess']);
const EXTENT_TYPES = new Set(['sparse', 'zero']);

interface SparseHeader {
  sig: string;
  version: number;
  capacity: number;
  descSector: bigint;
  descCount: bigint;
  gdOffset: bigint;
}

function parseHeader(b: Buffer): SparseHeader {
  return {
    sig: b.toString('latin1', 0, 4),
    version: b.readUInt32LE(4),
    capacity: u64(b, 12, 'le'),
    descSector: b.readBigUInt64LE(28),
    descCount: b.readBigUInt64LE(36),
    gdOffset: b.readBigUInt64LE(56),
  };
}

/** Checks a descriptor line by line: anything not understood is refused, as are extents naming paths. */
export function checkDescriptor(text: string): { createType: string; problems: string[] } {
  const problems: string[] = [];
  const lower = text.toLowerCase();
  const m = /createtype="([^"]{0,64})"/.exec(lower);
  const createType = m ? m[1]! : '';
  if (!createType) problems.push('VMDK descriptor has no createType');
  else if (!ALLOWED_TYPES.has(createType))
    problems.push(`VMDK subformat "${createType}" is not allowed (only monolithicSparse and streamOptimized)`);
  let extents = 0;
  for (const raw of lower.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('ddb')) continue;
    const eq = line.indexOf('=');
    if (eq > 0 && !line.slice(0, eq).trim().includes(' ')) continue;
    const words = line.split(/\s+/);
    if (EXTENT_ACCESS.has(words[0]!)) {
      extents++;
      if (line.includes('/') || line.includes('\\')) problems.push('VMDK extent names a path');
      else if (!EXTENT_TYPES.has(words[2] ?? ''))
        problems.push(`VMDK extent type "${(words[2] ?? '').slice(0, 16)}" is not allowed`);
      continue;
    }
    problems.push('VMDK descriptor has a line that is not understood');
    break;
  }
  if (extents === 0) problems.push('VMDK descriptor names no extents');
  return { createType, problems: [...new Set(problems)] };
}

function isText(b: Buffer): boolean {
  for (const c of b) {
    if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

async function checkFooter(src: ByteSource, h: SparseHeader, report: FormatReport): Promise<void> {
  const tail = await readExact(src, src.size - 1536, 1536);
  if (!tail) {
    report.unsafe.push('VMDK footer is missing');
    return;
  }
  const f = parseHeader(tail.subarray(512, 1024));
  if (f.sig !== h.sig || f.version !== h.version) report.unsafe.push('VMDK header and footer do not match');
  if (f.descSector !== h.descSector || f.descCount !== h.descCount)
    report.unsafe.push('VMDK footer names another descriptor');
  if (f.gdOffset === GD_AT_END) report.unsafe.push('VMDK footer points at another footer');
  const zero = (b: Buffer) => b.every((x) => x === 0);
  if (tail.readUInt32LE(8) !== 0 || tail.readUInt32LE(12) !== MARKER_FOOTER || !zero(tail.subarray(16, 512))) {
    report.unsafe.push('VMDK footer marker is invalid');
  }
  const eos = tail.subarray(1024);
  if (
    eos.readBigUInt64LE(0) !== 0n ||
    eos.readUInt32LE(8) !== 0 ||
    eos.readUInt32LE(12) !== MARKER_EOS ||
    !zero(eos.subarray(16))
  ) {
    report.unsafe.push('VMDK end-of-stream marker is invalid');
  }
}

/** VMware disks: only single-file monolithicSparse and streamOptimized, never extents that name files. */
export const vmdkProbe: FormatProbe = {
  name: 'vmdk',
  async probe(src, head) {
    if (head.length >= 4 && head.toString('latin1', 0, 4) === 'KDMV') {
      const report: FormatReport = { name: 'vmdk', virtualSize: 0, unsafe: [] };
      if (head.length < 64) {
        report.unsafe.push('truncated VMDK header');
        return report;
      }
      const h = parseHeader(head);
      if (h.version < 1 || h.version > 3) report.unsafe.push(`unsupported VMDK version ${h.version}`);
      if (Number(h.descSector) * 512 !== DESC_OFFSET || h.descCount === 0n) {
        report.unsafe.push('VMDK descriptor is not where it must be');
        return report;
      }
      const descLen = Math.min(Number(h.descCount > 4096n ? 4096n : h.descCount) * 512, DESC_MAX);
      const desc = await readExact(src, DESC_OFFSET, Math.min(descLen, src.size - DESC_OFFSET));
      if (!desc) {
        report.unsafe.push('VMDK descriptor is missing');
        return report;
      }
      const nul = desc.indexOf(0);
      const text = desc.subarray(0, nul < 0 ? desc.length : nul);
      if (!isText(text)) {
        report.unsafe.push('VMDK descriptor is not text');
        return report;
      }
      const { problems } = checkDescriptor(text.toString('latin1'));
      report.unsafe.push(...problems);
      if (problems.length === 0) report.virtualSize = h.capacity * 512;
      if (h.gdOffset === GD_AT_END) await checkFooter(src, h, report);
      return report;
    }
    // A text-only descriptor file: qemu would open the extents it names, so it is recognised and refused
    // unless it is harmless (which a descriptor without an embedded extent never is).
    const start = head.subarray(0, Math.min(head.length, 4096));
    const text = start.toString('latin1');
    if (isText(start) && /^\s*#\s*disk\s*descriptorfile/i.test(text)) {
      const { problems } = checkDescriptor(text);
      return {
        name: 'vmdk',
        virtualSize: 0,
        unsafe: problems.length ? problems : ['VMDK descriptor file without data is not allowed'],
      };
    }
    return null;
  },
};
