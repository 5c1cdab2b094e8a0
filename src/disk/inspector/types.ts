import type { ByteSource } from './source.js';

/** Formats the inspector recognises from content. `gpt` stands for any MBR/GPT partitioned disk. */
export type DetectedFormat = 'raw' | 'qcow2' | 'qed' | 'vhd' | 'vhdx' | 'vmdk' | 'vdi' | 'iso' | 'gpt' | 'luks';

/** What one format's probe found in a file that matched it. */
export interface FormatReport {
  name: DetectedFormat;
  /** Size of the disk the guest sees, in bytes (0 when the format does not say). */
  virtualSize: number;
  /** Why handing this file to qemu-img would be unsafe; empty when it is safe. */
  unsafe: string[];
}

/** One format's recogniser: null when the content is not this format. */
export interface FormatProbe {
  readonly name: DetectedFormat;
  /** `head` is the first bytes of the file (up to HEAD_BYTES), to spare small reads. */
  probe(src: ByteSource, head: Buffer): Promise<FormatReport | null>;
}

/** How much of the file's start every probe gets without asking. */
export const HEAD_BYTES = 64 * 1024;
