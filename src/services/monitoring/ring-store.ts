// The built-in time series: per instance, one point a minute for 24 hours of a fixed set of rates, in fixed-size
// typed arrays (memory is bounded by the number of instances, never by time), written to one file and read back at
// start so a restart keeps the history.
//
// Size: per instance 1,440 slots × (11 Float32 values + 1 Int32 minute stamp) = 69,120 bytes (67.5 KiB) plus a Map
// entry; 200 instances ≈ 13.2 MiB in memory and on disk.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The figures kept per minute, all rates or levels (never raw counters). */
export const FIELDS = [
  'cpu_percent',
  'memory_rss_bytes',
  'disk_read_bytes_per_sec',
  'disk_write_bytes_per_sec',
  'disk_read_ops_per_sec',
  'disk_write_ops_per_sec',
  'net_rx_bytes_per_sec',
  'net_tx_bytes_per_sec',
  'net_rx_packets_per_sec',
  'net_tx_packets_per_sec',
  'net_drops_per_sec',
] as const;
export type Field = (typeof FIELDS)[number];

/** Slots per series: 24 hours of minutes. */
export const SLOTS = 1440;
const NF = FIELDS.length;
const MINUTE_MS = 60_000;
const MAGIC = 'GRMS1\n';

/** One instance's ring: `minutes[slot]` says which minute (since the epoch) the slot holds; 0 = empty. */
interface Series {
  minutes: Int32Array;
  values: Float32Array;
}

/** Bytes one instance's series takes (the typed arrays; the Map entry is small beside them). */
export const SERIES_BYTES = SLOTS * 4 + SLOTS * NF * 4;

export class RingStore {
  private readonly series = new Map<string, Series>();

  constructor(private readonly maxSeries = 1000) {}

  /** Records one sample's figures in the slot of its minute (a later sample in the same minute replaces it). */
  record(id: string, atMs: number, values: Partial<Record<Field, number | null>>): void {
    let s = this.series.get(id);
    if (!s) {
      // The cap: past it, new instances get no history (their live figures still show in /metrics and diagnostics).
      if (this.series.size >= this.maxSeries) return;
      s = { minutes: new Int32Array(SLOTS), values: new Float32Array(SLOTS * NF).fill(Number.NaN) };
      this.series.set(id, s);
    }
    const minute = Math.floor(atMs / MINUTE_MS);
    const slot = minute % SLOTS;
    s.minutes[slot] = minute;
    FIELDS.forEach((f, i) => {
      const v = values[f];
      s.values[slot * NF + i] = v === null || v === undefined || !Number.isFinite(v) ? Number.NaN : v;
    });
  }

  /**
   * One point per minute from `startMs` to `endMs` (at most 24 h back from now), for the fields asked:
   * `[unixSeconds, value | null]`, null where no sample was taken.
   */
  range(
    id: string,
    startMs: number,
    endMs: number,
    fields: readonly Field[],
  ): Record<string, [number, number | null][]> {
    const s = this.series.get(id);
    const out: Record<string, [number, number | null][]> = {};
    for (const f of fields) out[f] = [];
    const first = Math.ceil(startMs / MINUTE_MS);
    const last = Math.floor(endMs / MINUTE_MS);
    for (let m = first; m <= last; m++) {
      const slot = m % SLOTS;
      const held = s && s.minutes[slot] === m;
      for (const f of fields) {
        const v = held ? s.values[slot * NF + FIELDS.indexOf(f)]! : Number.NaN;
        out[f]!.push([m * 60, Number.isNaN(v) ? null : Math.round(v * 100) / 100]);
      }
    }
    return out;
  }

  has(id: string): boolean {
    return this.series.has(id);
  }

  ids(): string[] {
    return [...this.series.keys()];
  }

  /** Forgets an instance (deleted: its history goes with it). */
  drop(id: string): void {
    this.series.delete(id);
  }

  /** Bytes held by the typed arrays. */
  bytes(): number {
    return this.series.size * SERIES_BYTES;
  }

  /** The whole store as one buffer: a magic line, a JSON header (fields, slots, ids), then each id's arrays. */
  serialize(): Buffer {
    const ids = this.ids();
    const header = Buffer.from(JSON.stringify({ fields: FIELDS, slots: SLOTS, ids }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    const parts: Buffer[] = [Buffer.from(MAGIC), len, header];
    for (const id of ids) {
      const s = this.series.get(id)!;
      parts.push(Buffer.from(s.minutes.buffer, s.minutes.byteOffset, s.minutes.byteLength));
      parts.push(Buffer.from(s.values.buffer, s.values.byteOffset, s.values.byteLength));
    }
    return Buffer.concat(parts);
  }

  /** Loads what `serialize` wrote; a file of another layout (fields changed) or a damaged one is ignored. */
  load(buf: Buffer): boolean {
    if (buf.subarray(0, MAGIC.length).toString() !== MAGIC) return false;
    try {
      const hl = buf.readUInt32LE(MAGIC.length);
      const start = MAGIC.length + 4;
      const h = JSON.parse(buf.subarray(start, start + hl).toString()) as {
        fields: string[];
        slots: number;
        ids: string[];
      };
      if (h.slots !== SLOTS || h.fields.join(',') !== FIELDS.join(',')) return false;
      if (buf.length !== start + hl + h.ids.length * SERIES_BYTES) return false;
      let off = start + hl;
      for (const id of h.ids.slice(0, this.maxSeries)) {
        // Copies: a view into the file's buffer would keep the whole buffer alive and be misaligned.
        const minutes = new Int32Array(SLOTS);
        new Uint8Array(minutes.buffer).set(buf.subarray(off, off + SLOTS * 4));
        off += SLOTS * 4;
        const values = new Float32Array(SLOTS * NF);
        new Uint8Array(values.buffer).set(buf.subarray(off, off + SLOTS * NF * 4));
        off += SLOTS * NF * 4;
        this.series.set(id, { minutes, values });
      }
      return true;
    } catch {
      // A damaged file: start with an empty history rather than refuse to start.
      return false;
    }
  }

  /** Writes the store to `path` (0600, through a temporary file and a rename, so a crash leaves the old one). */
  async save(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.tmp`;
    await writeFile(tmp, this.serialize(), { mode: 0o600 });
    await rename(tmp, path);
  }

  /** Reads `path` if it exists; false when there was nothing usable. */
  async open(path: string): Promise<boolean> {
    const buf = await readFile(path).catch(() => null);
    return buf ? this.load(buf) : false;
  }
}
