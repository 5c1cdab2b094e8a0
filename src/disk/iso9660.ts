// A small ISO 9660 writer with Joliet long names (and a reader for checks): enough for config drives.
// Layout: 16 empty sectors, the primary volume descriptor (short upper-case names), a Joliet supplementary
// descriptor (UCS-2 names up to 64 characters), the terminator, four path tables, the directories of both
// hierarchies, then file data shared by both. Sector size 2048; every multi-byte field as ISO 9660 wants it.

const SECTOR = 2048;

/** Options of `writeIso9660`. */
export interface IsoOptions {
  /** Volume label (e.g. "config-2"), at most 32 characters. */
  volumeId: string;
  /** Time stamped on the volume and every record (fixed input gives identical bytes). */
  date?: Date;
  /** Application id recorded in the descriptors. */
  application?: string;
}

interface DirNode {
  name: string;
  dirs: Map<string, DirNode>;
  files: Map<string, Buffer>;
  parent: DirNode | null;
  number: number;
  lba: [number, number];
  size: [number, number];
}

function bothEndian32(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(n, 0);
  b.writeUInt32BE(n, 4);
  return b;
}

function bothEndian16(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(n, 0);
  b.writeUInt16BE(n, 2);
  return b;
}

function padText(s: string, len: number): Buffer {
  const b = Buffer.alloc(len, 0x20);
  b.write(s.slice(0, len), 'latin1');
  return b;
}

function ucs2be(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) {
    const t = le[i]!;
    le[i] = le[i + 1]!;
    le[i + 1] = t;
  }
  return le;
}

function padUcs2(s: string, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i + 1 < len; i += 2) b.writeUInt16BE(0x20, i);
  ucs2be(s).copy(b, 0, 0, len - (len % 2));
  return b;
}

function recDate(d: Date): Buffer {
  return Buffer.from([
    d.getUTCFullYear() - 1900,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0,
  ]);
}

function volDate(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  const s = `${date}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
  return Buffer.concat([Buffer.from(s, 'ascii'), Buffer.from([0])]);
}

/** ISO 9660 level 2 name: upper-case d-characters, "NAME.EXT;1" for files. */
export function primaryName(name: string, isDir: boolean): string {
  const clean = name.toUpperCase().replace(/[^A-Z0-9_.]/g, '_');
  if (isDir) return clean.replace(/\./g, '_').slice(0, 31);
  const dot = clean.lastIndexOf('.');
  const ext = (dot >= 0 ? clean.slice(dot + 1) : '').slice(0, 8);
  const base = (dot >= 0 ? clean.slice(0, dot) : clean).replace(/\./g, '_').slice(0, 29 - ext.length);
  return `${base}.${ext};1`;
}

function dirRecord(nameBytes: Buffer, lba: number, size: number, isDir: boolean, date: Buffer): Buffer {
  const len = 33 + nameBytes.length + (nameBytes.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(len);
  r[0] = len;
  r[1] = 0;
  bothEndian32(lba).copy(r, 2);
  bothEndian32(size).copy(r, 10);
  date.copy(r, 18);
  r[25] = isDir ? 2 : 0;
  bothEndian16(1).copy(r, 28);
  r[32] = nameBytes.length;
  nameBytes.copy(r, 33);
  return r;
}

/** Lays records into sectors: a record never crosses a sector boundary. */
function packRecords(records: Buffer[]): Buffer {
  const out: Buffer[] = [];
  let used = 0;
  for (const r of records) {
    if (used + r.length > SECTOR) {
      out.push(Buffer.alloc(SECTOR - used));
      used = 0;
    }
    out.push(r);
    used += r.length;
  }
  if (used > 0) out.push(Buffer.alloc(SECTOR - used));
  return Buffer.concat(out);
}

const sectorsFor = (bytes: number) => Math.max(1, Math.ceil(bytes / SECTOR));

/** Builds an ISO 9660 + Joliet image of the files ([path, bytes], "/"-separated relative paths). */
export function writeIso9660(files: [string, Buffer][], opts: IsoOptions): Buffer {
  if (opts.volumeId.length > 32) throw new Error('volume id longer than 32 characters');
  const date = opts.date ?? new Date();
  const rdate = recDate(date);
  const vdate = volDate(date);
  const root: DirNode = {
    name: '',
    dirs: new Map(),
    files: new Map(),
    parent: null,
    number: 1,
    lba: [0, 0],
    size: [0, 0],
  };
  for (const [path, data] of files) {
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) throw new Error(`bad ISO path "${path}"`);
    if (parts.some((p) => p.length > 64)) throw new Error(`name longer than 64 characters in "${path}"`);
    let d = root;
    for (const p of parts.slice(0, -1)) {
      let next = d.dirs.get(p);
      if (!next)
        d.dirs.set(
          p,
          (next = { name: p, dirs: new Map(), files: new Map(), parent: d, number: 0, lba: [0, 0], size: [0, 0] }),
        );
      d = next;
    }
    const leaf = parts[parts.length - 1]!;
    if (d.files.has(leaf) || d.dirs.has(leaf)) throw new Error(`duplicate ISO path "${path}"`);
    d.files.set(leaf, data);
  }
  // Breadth-first directory order with sorted children: the order path tables need.
  const order: DirNode[] = [];
  const queue = [root];
  while (queue.length) {
    const d = queue.shift()!;
    d.number = order.length + 1;
    order.push(d);
    queue.push(...[...d.dirs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  }

  // Names per hierarchy (0 primary, 1 Joliet), checked for collisions after mapping.
  const nameOf = (h: 0 | 1, name: string, isDir: boolean): Buffer =>
    h === 0 ? Buffer.from(primaryName(name, isDir), 'latin1') : ucs2be(name);
  const childRecords = (h: 0 | 1, d: DirNode, fileLba: Map<Buffer, number>): Buffer[] => {
    const kids: { key: Buffer; rec: Buffer }[] = [];
    for (const c of d.dirs.values()) {
      const n = nameOf(h, c.name, true);
      kids.push({ key: n, rec: dirRecord(n, c.lba[h], c.size[h], true, rdate) });
    }
    for (const [fname, data] of d.files) {
      const n = nameOf(h, fname, false);
      kids.push({ key: n, rec: dirRecord(n, data.length ? fileLba.get(data)! : 0, data.length, false, rdate) });
    }
    kids.sort((a, b) => Buffer.compare(a.key, b.key));
    for (let i = 1; i < kids.length; i++) {
      if (Buffer.compare(kids[i - 1]!.key, kids[i]!.key) === 0)
        throw new Error(`two names map to the same ISO name in "${d.name || '/'}"`);
    }
    const self = dirRecord(Buffer.from([0]), d.lba[h], d.size[h], true, rdate);
    const parent = d.parent ?? d;
    const up = dirRecord(Buffer.from([1]), parent.lba[h], parent.size[h], true, rdate);
    return [self, up, ...kids.map((k) => k.rec)];
  };
  // Sizes do not depend on addresses: measure with zero addresses first.
  const noFiles = new Map<Buffer, number>();
  for (const d of order) for (const f of d.files.values()) noFiles.set(f, 0);
  for (const h of [0, 1] as const) for (const d of order) d.size[h] = packRecords(childRecords(h, d, noFiles)).length;

  const pathTable = (h: 0 | 1, bigEndian: boolean): Buffer => {
    const parts: Buffer[] = [];
    for (const d of order) {
      const n = d === root ? Buffer.from([0]) : nameOf(h, d.name, true);
      const e = Buffer.alloc(8 + n.length + (n.length % 2));
      e[0] = n.length;
      if (bigEndian) {
        e.writeUInt32BE(d.lba[h], 2);
        e.writeUInt16BE(d.parent?.number ?? 1, 6);
      } else {
        e.writeUInt32LE(d.lba[h], 2);
        e.writeUInt16LE(d.parent?.number ?? 1, 6);
      }
      n.copy(e, 8);
      parts.push(e);
    }
    return Buffer.concat(parts);
  };
  const ptSize = [pathTable(0, false).length, pathTable(1, false).length];
  let lba = 19; // 16 system sectors, PVD, SVD, terminator
  const ptLba: number[][] = [];
  for (const h of [0, 1]) {
    const l = lba;
    lba += sectorsFor(ptSize[h]!);
    const m = lba;
    lba += sectorsFor(ptSize[h]!);
    ptLba.push([l, m]);
  }
  for (const h of [0, 1] as const)
    for (const d of order) {
      d.lba[h] = lba;
      lba += d.size[h] / SECTOR;
    }
  const fileLba = new Map<Buffer, number>();
  const dataParts: Buffer[] = [];
  for (const d of order) {
    for (const f of d.files.values()) {
      if (!f.length || fileLba.has(f)) continue;
      fileLba.set(f, lba);
      lba += sectorsFor(f.length);
      dataParts.push(f, Buffer.alloc(sectorsFor(f.length) * SECTOR - f.length));
    }
  }
  const total = lba;

  const descriptor = (h: 0 | 1): Buffer => {
    const v = Buffer.alloc(SECTOR);
    v[0] = h === 0 ? 1 : 2;
    v.write('CD001', 1, 'ascii');
    v[6] = 1;
    const text = (s: string, len: number) => (h === 0 ? padText(s, len) : padUcs2(s, len));
    text('LINUX', 32).copy(v, 8);
    text(opts.volumeId, 32).copy(v, 40);
    bothEndian32(total).copy(v, 80);
    if (h === 1) Buffer.from('%/E', 'ascii').copy(v, 88); // Joliet UCS-2 level 3
    bothEndian16(1).copy(v, 120);
    bothEndian16(1).copy(v, 124);
    bothEndian16(SECTOR).copy(v, 128);
    bothEndian32(ptSize[h]!).copy(v, 132);
    v.writeUInt32LE(ptLba[h]![0]!, 140);
    v.writeUInt32BE(ptLba[h]![1]!, 148);
    dirRecord(Buffer.from([0]), root.lba[h], root.size[h], true, rdate).copy(v, 156);
    text('', 128).copy(v, 190);
    text('', 128).copy(v, 318);
    text('', 128).copy(v, 446);
    text(opts.application ?? 'GUREUM', 128).copy(v, 574);
    text('', 37).copy(v, 702);
    text('', 37).copy(v, 739);
    text('', 37).copy(v, 776);
    vdate.copy(v, 813);
    vdate.copy(v, 830);
    Buffer.concat([Buffer.from('0000000000000000', 'ascii'), Buffer.from([0])]).copy(v, 847);
    vdate.copy(v, 864);
    v[881] = 1;
    return v;
  };
  const term = Buffer.alloc(SECTOR);
  term[0] = 255;
  term.write('CD001', 1, 'ascii');
  term[6] = 1;

  const sectorPad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(sectorsFor(b.length) * SECTOR - b.length)]);
  const out = [Buffer.alloc(16 * SECTOR), descriptor(0), descriptor(1), term];
  for (const h of [0, 1] as const) out.push(sectorPad(pathTable(h, false)), sectorPad(pathTable(h, true)));
  for (const h of [0, 1] as const) for (const d of order) out.push(packRecords(childRecords(h, d, fileLba)));
  out.push(...dataParts);
  const img = Buffer.concat(out);
  if (img.length !== total * SECTOR) throw new Error(`ISO layout error: ${img.length} bytes for ${total} sectors`);
  return img;
}

/** What `readIso9660` finds. */
export interface IsoContents {
  volumeId: string;
  /** Joliet volume id, when there is a Joliet descriptor. */
  jolietVolumeId: string | null;
  /** Files by path, from the Joliet tree when present (else the primary tree). */
  files: Map<string, Buffer>;
}

function decodeUcs2be(b: Buffer): string {
  const le = Buffer.from(b);
  for (let i = 0; i + 1 < le.length; i += 2) {
    const t = le[i]!;
    le[i] = le[i + 1]!;
    le[i + 1] = t;
  }
  return le.toString('utf16le');
}

/** Reads an ISO 9660 image (for tests and checks): volume ids and every file, walking the directory records. */
export function readIso9660(img: Buffer, opts: { preferJoliet?: boolean } = {}): IsoContents {
  let pvd: Buffer | null = null;
  let svd: Buffer | null = null;
  for (let s = 16; (s + 1) * SECTOR <= img.length; s++) {
    const v = img.subarray(s * SECTOR, (s + 1) * SECTOR);
    if (v.toString('ascii', 1, 6) !== 'CD001') throw new Error(`sector ${s} is not a volume descriptor`);
    if (v[0] === 1) pvd = v;
    else if (v[0] === 2 && v.toString('ascii', 88, 91) === '%/E') svd = v;
    else if (v[0] === 255) break;
  }
  if (!pvd) throw new Error('no primary volume descriptor');
  const joliet = (opts.preferJoliet ?? true) && svd !== null;
  const desc = joliet ? svd! : pvd;
  const files = new Map<string, Buffer>();
  const walk = (lba: number, size: number, prefix: string, depth: number) => {
    if (depth > 32) throw new Error('directory nesting too deep');
    let off = lba * SECTOR;
    const end = off + size;
    while (off < end) {
      const len = img[off]!;
      if (len === 0) {
        off = (Math.floor(off / SECTOR) + 1) * SECTOR;
        continue;
      }
      const recLba = img.readUInt32LE(off + 2);
      const recSize = img.readUInt32LE(off + 10);
      const flags = img[off + 25]!;
      const nlen = img[off + 32]!;
      const nameBytes = img.subarray(off + 33, off + 33 + nlen);
      off += len;
      if (nlen === 1 && (nameBytes[0] === 0 || nameBytes[0] === 1)) continue;
      let name = joliet ? decodeUcs2be(nameBytes) : nameBytes.toString('latin1');
      name = name.replace(/;1$/, '');
      if (!joliet) name = name.replace(/\.$/, '');
      const path = prefix ? `${prefix}/${name}` : name;
      if (flags & 2) walk(recLba, recSize, path, depth + 1);
      else files.set(path, img.subarray(recLba * SECTOR, recLba * SECTOR + recSize));
    }
  };
  walk(desc.readUInt32LE(156 + 2), desc.readUInt32LE(156 + 10), '', 0);
  return {
    volumeId: pvd.toString('latin1', 40, 72).trimEnd(),
    jolietVolumeId: svd ? decodeUcs2be(svd.subarray(40, 72)).trimEnd() : null,
    files,
  };
}
