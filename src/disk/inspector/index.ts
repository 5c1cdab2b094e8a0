// The format inspector for untrusted disk images: pure TypeScript, reads only headers, runs before
// qemu-img or anything else opens the file. Rules follow what OpenStack's format_inspector learned from
// CVE-2022-47951 and CVE-2024-32498: no backing or data files, no VMDK extents naming paths, no QED,
// no content that looks like two formats at once, and content must match the declared disk_format.
import type { ByteSource } from './source.js';
import { HEAD_BYTES, type DetectedFormat, type FormatProbe, type FormatReport } from './types.js';
import { qcow2Probe, qedProbe } from './qcow2.js';
import { vmdkProbe } from './vmdk.js';
import { vhdProbe, vhdxProbe } from './microsoft.js';
import { vdiProbe, isoProbe, gptProbe, luksProbe } from './others.js';

export type { ByteSource, FileSource } from './source.js';
export { bufferSource, sliceSource, openFileSource } from './source.js';
export type { DetectedFormat, FormatReport } from './types.js';

const PROBES: FormatProbe[] = [
  qcow2Probe,
  qedProbe,
  vmdkProbe,
  vhdProbe,
  vhdxProbe,
  vdiProbe,
  isoProbe,
  gptProbe,
  luksProbe,
];

/** Formats whose content can be recognised; a declared one of these must match what is found. */
export const INSPECTABLE = new Set(['qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso']);

/** Why an image was refused: `unsafe` (dangerous content), `mismatch` (not the declared format), `polyglot`. */
export type RefusalKind = 'unsafe' | 'mismatch' | 'polyglot';

/** An image the inspector refuses, with a message fit for the API user. */
export class ImageRefused extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
    this.name = 'ImageRefused';
  }
}

/** Every format whose header matches (raw is never listed: it is what matches when nothing else does). */
export async function probeAll(src: ByteSource): Promise<FormatReport[]> {
  const head = await src.read(0, HEAD_BYTES);
  const found: FormatReport[] = [];
  for (const p of PROBES) {
    const r = await p.probe(src, head);
    if (r) found.push(r);
  }
  return found;
}

/** The one format of the content; throws `polyglot` when it matches several (ISO over GPT is allowed, as ISO). */
export async function detect(src: ByteSource): Promise<FormatReport> {
  const found = await probeAll(src);
  if (found.length === 0) return { name: 'raw', virtualSize: src.size, unsafe: [] };
  if (found.length === 1) return found[0]!;
  const names = found.map((f) => f.name).sort();
  if (names.length === 2 && names[0] === 'gpt' && names[1] === 'iso') {
    const iso = found.find((f) => f.name === 'iso')!;
    const gpt = found.find((f) => f.name === 'gpt')!;
    // A hybrid ISO's MBR must still be a sane one.
    return { ...iso, unsafe: [...iso.unsafe, ...gpt.unsafe] };
  }
  throw new ImageRefused('polyglot', `Image content matches more than one format (${names.join(', ')}); refusing it.`);
}

/** What an accepted image turned out to be. */
export interface Verdict {
  /** The format found in the content. */
  detected: DetectedFormat;
  /** Virtual size in bytes for the declared format (the file size when it is raw-like). */
  virtualSize: number;
}

/**
 * Decides whether content may be stored as `diskFormat` in `containerFormat`, as Glance does:
 * unsafe content is always refused; for a `bare` container an inspectable declared format must match the
 * content; a recognised format that differs from the declared one is refused in any container, except that
 * `raw` may hold anything safe.
 */
export async function verifyImage(src: ByteSource, diskFormat: string, containerFormat = 'bare'): Promise<Verdict> {
  const found = await detect(src);
  // A Linux kernel (bzImage) keeps the legacy boot-sector signature 0x55aa at byte 510, so it reads as an MBR
  // with nonsense partition entries. Declared as a kernel (aki) and carrying the boot protocol's "HdrS" magic at
  // 0x202, those bytes are a setup header, not a partition table: the content is a raw kernel.
  if (found.name === 'gpt' && diskFormat === 'aki' && (await src.read(0x202, 4)).toString('latin1') === 'HdrS') {
    return { detected: 'raw', virtualSize: src.size };
  }
  if (found.unsafe.length) {
    throw new ImageRefused('unsafe', `Image failed safety checks (${found.name}): ${found.unsafe.join('; ')}.`);
  }
  if (found.name === diskFormat) return { detected: found.name, virtualSize: found.virtualSize };
  if (diskFormat === 'raw') return { detected: found.name, virtualSize: src.size };
  if (found.name === 'raw') {
    if (!INSPECTABLE.has(diskFormat) || containerFormat !== 'bare') return { detected: 'raw', virtualSize: src.size };
    throw new ImageRefused(
      'mismatch',
      `Image disk_format ${diskFormat} does not match the uploaded data, which is not ${diskFormat}.`,
    );
  }
  if (found.name === 'gpt' && !INSPECTABLE.has(diskFormat)) return { detected: 'gpt', virtualSize: src.size };
  throw new ImageRefused(
    'mismatch',
    `Image disk_format ${diskFormat} does not match the uploaded data, which is ${found.name}.`,
  );
}
