// A writer for the "newc" cpio format (the one the Linux kernel unpacks as an initramfs), in memory.
// Layout per entry: a 110-byte ASCII header "070701" + 13 eight-digit hex fields, the NUL-terminated name,
// padding to 4 bytes, the data, padding to 4 bytes. The archive ends with an entry named "TRAILER!!!".

/** One entry of an archive. Paths are relative ("bin/busybox"), without a leading slash. */
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer | string; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'char' | 'block'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`cpio field out of range: ${n}`);
  return n.toString(16).toUpperCase().padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Checks a member path: relative, no empty, "." or ".." parts (the kernel would follow them). */
export function checkCpioPath(path: string): void {
  if (path === '.') return;
  if (path === '' || path.startsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`bad cpio path "${path}"`);
  }
}

/**
 * Builds a newc archive from entries, in the order given (parents must come before their children for the
 * kernel to create them). All files are owned by root with mtime `mtime` (seconds), so equal input gives
 * byte-identical output.
 */
export function writeCpio(entries: CpioEntry[], opts: { mtime?: number } = {}): Buffer {
  const mtime = opts.mtime ?? 0;
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  let ino = 1;
  const push = (name: string, mode: number, data: Buffer, rdev: [number, number], nlink: number) => {
    const nameBuf = Buffer.from(`${name}\0`, 'utf8');
    const header =
      '070701' +
      hex8(ino++) +
      hex8(mode) +
      hex8(0) +
      hex8(0) +
      hex8(nlink) +
      hex8(mtime) +
      hex8(data.length) +
      hex8(0) +
      hex8(0) +
      hex8(rdev[0]) +
      hex8(rdev[1]) +
      hex8(nameBuf.length) +
      hex8(0);
    parts.push(
      Buffer.from(header, 'ascii'),
      nameBuf,
      Buffer.alloc(pad4(110 + nameBuf.length)),
      data,
      Buffer.alloc(pad4(data.length)),
    );
  };
  for (const e of entries) {
    checkCpioPath(e.path);
    if (seen.has(e.path)) throw new Error(`duplicate cpio path "${e.path}"`);
    seen.add(e.path);
    switch (e.kind) {
      case 'dir':
        push(e.path, S_IFDIR | ((e.mode ?? 0o755) & 0o7777), Buffer.alloc(0), [0, 0], 2);
        break;
      case 'file':
        push(
          e.path,
          S_IFREG | ((e.mode ?? 0o644) & 0o7777),
          typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data,
          [0, 0],
          1,
        );
        break;
      case 'symlink':
        push(e.path, S_IFLNK | 0o777, Buffer.from(e.target, 'utf8'), [0, 0], 1);
        break;
      case 'char':
      case 'block':
        push(
          e.path,
          (e.kind === 'char' ? S_IFCHR : S_IFBLK) | ((e.mode ?? 0o600) & 0o7777),
          Buffer.alloc(0),
          [e.major, e.minor],
          1,
        );
        break;
    }
  }
  ino = 0;
  push('TRAILER!!!', 0, Buffer.alloc(0), [0, 0], 1);
  return Buffer.concat(parts);
}

/** One member as read back by `readCpio`. */
export interface CpioMember {
  path: string;
  mode: number;
  data: Buffer;
  rdevMajor: number;
  rdevMinor: number;
}

/** Parses a newc archive (for tests and for checking a built initramfs); stops at the trailer. */
export function readCpio(buf: Buffer): CpioMember[] {
  const out: CpioMember[] = [];
  let off = 0;
  for (;;) {
    if (off + 110 > buf.length) throw new Error('cpio: truncated header');
    const magic = buf.toString('ascii', off, off + 6);
    if (magic !== '070701') throw new Error(`cpio: bad magic "${magic}" at ${off}`);
    const field = (i: number) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const rdevMajor = field(9);
    const rdevMinor = field(10);
    const nameSize = field(11);
    const nameStart = off + 110;
    const path = buf.toString('utf8', nameStart, nameStart + nameSize - 1);
    const dataStart = nameStart + nameSize + pad4(110 + nameSize);
    if (dataStart + size > buf.length) throw new Error('cpio: truncated data');
    if (path === 'TRAILER!!!') return out;
    out.push({ path, mode, data: buf.subarray(dataStart, dataStart + size), rdevMajor, rdevMinor });
    off = dataStart + size + pad4(size);
  }
}
