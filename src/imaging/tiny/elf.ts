// Just enough ELF64 (little-endian) reading to copy a dynamically linked program with its libraries:
// the interpreter (PT_INTERP) and the DT_NEEDED sonames of PT_DYNAMIC.

/** What a program needs from the dynamic loader. */
export interface ElfDeps {
  interpreter: string | null;
  needed: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;

/** Reads the interpreter and DT_NEEDED entries; a static binary gives `{interpreter: null, needed: []}`. */
export function elfDeps(buf: Buffer): ElfDeps {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('only 64-bit little-endian ELF is supported');
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let interpreter: string | null = null;
  let dyn: { offset: number; size: number } | null = null;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    const type = buf.readUInt32LE(p);
    const offset = Number(buf.readBigUInt64LE(p + 8));
    const vaddr = Number(buf.readBigUInt64LE(p + 16));
    const filesz = Number(buf.readBigUInt64LE(p + 32));
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_INTERP) interpreter = buf.toString('latin1', offset, offset + filesz).replace(/\0+$/, '');
    else if (type === PT_DYNAMIC) dyn = { offset, size: filesz };
  }
  if (!dyn) return { interpreter, needed: [] };
  const toOffset = (addr: number) => {
    const seg = loads.find((l) => addr >= l.vaddr && addr < l.vaddr + l.filesz);
    if (!seg) throw new Error('ELF: string table outside every loaded segment');
    return addr - seg.vaddr + seg.offset;
  };
  let strtab = -1;
  const neededOffsets: number[] = [];
  for (let o = dyn.offset; o + 16 <= dyn.offset + dyn.size; o += 16) {
    const tag = buf.readBigInt64LE(o);
    const val = buf.readBigUInt64LE(o + 8);
    if (tag === 0n) break;
    if (tag === DT_NEEDED) neededOffsets.push(Number(val));
    else if (tag === DT_STRTAB) strtab = toOffset(Number(val));
  }
  if (neededOffsets.length && strtab < 0) throw new Error('ELF: DT_NEEDED without DT_STRTAB');
  const needed = neededOffsets.map((n) => {
    const start = strtab + n;
    const end = buf.indexOf(0, start);
    return buf.toString('latin1', start, end);
  });
  return { interpreter, needed };
}
