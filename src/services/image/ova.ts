// OVA = a tar of an OVF descriptor and its disks. Read without ever using a member name as a path:
// members are located by offset in the archive and copied into files we name ourselves.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { badRequest } from '../../errors.js';
import type { ByteSource } from '../../disk/inspector/index.js';

/** One regular file inside the archive. */
export interface TarMember {
  name: string;
  offset: number;
  size: number;
}

const MAX_MEMBERS = 256;
const MAX_OVF_BYTES = 1024 * 1024;

function octal(b: Buffer, start: number, len: number): number {
  const f = b.subarray(start, start + len);
  if (f[0]! & 0x80) {
    // base-256 (GNU) for large sizes
    let n = 0;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i]!;
    return n;
  }
  const s = f.toString('latin1').replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw badRequest('OVA archive is malformed (bad number in a tar header).');
  return parseInt(s, 8);
}

function cstr(b: Buffer, start: number, len: number): string {
  const f = b.subarray(start, start + len);
  const nul = f.indexOf(0);
  return f.subarray(0, nul < 0 ? f.length : nul).toString('utf8');
}

/** A member name is kept only if it is a plain relative path (no "..", no absolute path, no NUL). */
function safeName(name: string): string {
  const n = name.replace(/^\.\//, '');
  if (n === '' || n.startsWith('/') || n.includes('\0') || n.split('/').some((p) => p === '..') || n.length > 1024) {
    throw badRequest(`OVA archive member "${name.slice(0, 80)}" has an unsafe path.`);
  }
  return n;
}

/** Lists the regular files of a tar archive; refuses links, devices and unsafe names. */
export async function listTar(src: ByteSource): Promise<TarMember[]> {
  const out: TarMember[] = [];
  let off = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  for (let guard = 0; guard < MAX_MEMBERS * 4; guard++) {
    if (off + 512 > src.size) throw badRequest('OVA archive is truncated.');
    const h = await src.read(off, 512);
    if (h.every((x) => x === 0)) return out;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== octal(h, 148, 8)) throw badRequest('OVA archive is not a valid tar file (header checksum mismatch).');
    const type = String.fromCharCode(h[156]!);
    const size = paxSize ?? octal(h, 124, 12);
    const dataOff = off + 512;
    if (dataOff + size > src.size) throw badRequest('OVA archive is truncated.');
    const next = dataOff + Math.ceil(size / 512) * 512;
    const prefix = h.toString('latin1', 257, 262) === 'ustar' ? cstr(h, 345, 155) : '';
    const name = longName ?? paxPath ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    if (type === 'L') {
      if (size > 4096) throw badRequest('OVA archive has an oversized long name.');
      longName = (await src.read(dataOff, size)).toString('utf8').replace(/\0+$/, '');
    } else if (type === 'x') {
      if (size > 65536) throw badRequest('OVA archive has an oversized extended header.');
      const text = (await src.read(dataOff, size)).toString('utf8');
      for (const rec of text.split('\n')) {
        const m = /^\d+ (path|size)=(.*)$/s.exec(rec);
        if (m?.[1] === 'path') paxPath = m[2];
        if (m?.[1] === 'size' && /^\d+$/.test(m[2]!)) paxSize = Number(m[2]);
      }
    } else if (type === 'g') {
      // global extended header: nothing we need
    } else {
      longName = paxPath = paxSize = undefined;
      if (type === '0' || type === '\0' || type === '7') {
        out.push({ name: safeName(name), offset: dataOff, size });
        if (out.length > MAX_MEMBERS) throw badRequest('OVA archive has too many members.');
      } else if (type === '5') {
        safeName(name);
      } else {
        throw badRequest(`OVA archive member "${name.slice(0, 80)}" is a link or special file; refusing the archive.`);
      }
    }
    off = next;
  }
  throw badRequest('OVA archive has too many members.');
}

/** What the OVF descriptor says about the VM. */
export interface OvfInfo {
  /** The archive member holding the first disk. */
  diskHref: string;
  cpus?: number;
  memoryMb?: number;
  osDescription?: string;
}

const UNIT_MB: Record<string, number> = {
  byte: 1 / (1024 * 1024),
  'byte * 2^10': 1 / 1024,
  'byte * 2^20': 1,
  'byte * 2^30': 1024,
};

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\b(?:\\w+:)?${name}\\s*=\\s*"([^"]*)"`).exec(tag);
  return m?.[1];
}

/** Reads the OVF XML (only the elements needed; no DTDs or entities accepted). */
export function parseOvf(xml: string): OvfInfo {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw badRequest('OVF descriptor with a DTD or entities is not accepted.');
  const files = new Map<string, string>();
  for (const m of xml.matchAll(/<(?:\w+:)?File\b([^>]*)>/g)) {
    const id = attr(m[1]!, 'id');
    const href = attr(m[1]!, 'href');
    if (id && href) files.set(id, href);
  }
  const disk = /<(?:\w+:)?Disk\b([^>]*)>/.exec(xml);
  const ref = disk ? attr(disk[1]!, 'fileRef') : undefined;
  const href = ref ? files.get(ref) : [...files.values()][0];
  if (!href) throw badRequest('OVF descriptor names no disk file.');
  const info: OvfInfo = { diskHref: href };
  for (const m of xml.matchAll(/<(?:\w+:)?Item\b[^>]*>([\s\S]*?)<\/(?:\w+:)?Item>/g)) {
    const body = m[1]!;
    const type = /<(?:\w+:)?ResourceType>\s*(\d+)\s*</.exec(body)?.[1];
    const qty = Number(/<(?:\w+:)?VirtualQuantity>\s*(\d+)\s*</.exec(body)?.[1]);
    if (!Number.isFinite(qty)) continue;
    if (type === '3') info.cpus = qty;
    if (type === '4') {
      const unit = (/<(?:\w+:)?AllocationUnits>\s*([^<]+?)\s*</.exec(body)?.[1] ?? 'byte * 2^20')
        .toLowerCase()
        .replace(/\s+/g, ' ');
      const factor = UNIT_MB[unit] ?? (unit === 'mb' || unit === 'megabytes' ? 1 : undefined);
      if (factor !== undefined) info.memoryMb = Math.round(qty * factor);
    }
  }
  const os = /<(?:\w+:)?OperatingSystemSection\b[^>]*>[\s\S]*?<(?:\w+:)?Description>([^<]{1,255})</.exec(xml);
  if (os) info.osDescription = os[1]!.trim();
  return info;
}

/** Finds the OVF and its first disk in the archive. */
export async function readOva(src: ByteSource): Promise<{ ovf: OvfInfo; disk: TarMember }> {
  const members = await listTar(src);
  const ovfMember = members.find((m) => m.name.toLowerCase().endsWith('.ovf'));
  if (!ovfMember) throw badRequest('OVA archive has no .ovf descriptor.');
  if (ovfMember.size > MAX_OVF_BYTES) throw badRequest('OVF descriptor is too large.');
  const ovf = parseOvf((await src.read(ovfMember.offset, ovfMember.size)).toString('utf8'));
  const want = ovf.diskHref.replace(/^\.\//, '');
  const disk = members.find((m) => m.name === want || m.name.split('/').pop() === want);
  if (!disk) throw badRequest(`OVA archive lacks the disk "${want.slice(0, 80)}" its descriptor names.`);
  return { ovf, disk };
}

/** Copies one member's bytes into a file of our choosing. */
export async function extractMember(archivePath: string, m: TarMember, dest: string): Promise<void> {
  if (m.size === 0) {
    await pipeline(
      async function* () {
        /* empty */
      },
      createWriteStream(dest, { flags: 'wx', mode: 0o640 }),
    );
    return;
  }
  await pipeline(
    createReadStream(archivePath, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1024 * 1024 }),
    createWriteStream(dest, { flags: 'wx', mode: 0o640 }),
  );
}
