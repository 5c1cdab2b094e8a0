import { open, type FileHandle } from 'node:fs/promises';

/** Random-access bytes of an untrusted file: the inspector reads only the few regions a format names. */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /** Reads up to `length` bytes at `offset`; fewer (or none) past the end. */
  read(offset: number, length: number): Promise<Buffer>;
}

/** A source over a buffer held in memory (tests, small headers). */
export function bufferSource(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    async read(offset, length) {
      if (offset >= buf.length || length <= 0) return Buffer.alloc(0);
      return buf.subarray(offset, Math.min(buf.length, offset + length));
    },
  };
}

/** A window of another source (a member inside a tar archive). */
export function sliceSource(src: ByteSource, start: number, size: number): ByteSource {
  return {
    size,
    async read(offset, length) {
      if (offset >= size || length <= 0) return Buffer.alloc(0);
      return src.read(start + offset, Math.min(length, size - offset));
    },
  };
}

/** An open file as a source; close it when done. */
export interface FileSource extends ByteSource {
  close(): Promise<void>;
}

/** Opens a file read-only for inspection. */
export async function openFileSource(path: string): Promise<FileSource> {
  const fh: FileHandle = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    return {
      size,
      async read(offset, length) {
        if (offset >= size || length <= 0) return Buffer.alloc(0);
        const n = Math.min(length, size - offset);
        const buf = Buffer.alloc(n);
        let got = 0;
        while (got < n) {
          const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got === n ? buf : buf.subarray(0, got);
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Reads exactly `length` bytes or returns undefined when the source is too short. */
export async function readExact(src: ByteSource, offset: number, length: number): Promise<Buffer | undefined> {
  if (offset < 0 || offset + length > src.size) return undefined;
  const b = await src.read(offset, length);
  return b.length === length ? b : undefined;
}

/** A 64-bit unsigned field as a number; values past 2^53 (never a sane size) become Infinity. */
export function u64(buf: Buffer, offset: number, endian: 'le' | 'be'): number {
  const v = endian === 'le' ? buf.readBigUInt64LE(offset) : buf.readBigUInt64BE(offset);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
}
