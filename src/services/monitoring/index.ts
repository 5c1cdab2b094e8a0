// Instance monitoring built into Gureum: a collector samples every running instance's counters on a timer, turns
// them into rates and keeps one point a minute for 24 h in the ring store; the API reads graphs from it with the
// user's own token (a reader of the instance's project, or an admin). The latest counters are also what /metrics
// exports (live reads, see liveStats).
import type { Kysely } from 'kysely';
import { badRequest, notFound } from '../../errors.js';
import type { Database } from '../../store/tables.js';
import type { InstanceStats } from '../../virt/index.js';
import { type AuthContext, isAdmin } from '../auth-context.js';
import { rates, totals, type CounterTotals } from './collector.js';
import { type Field, RingStore } from './ring-store.js';

export { FIELDS, SERIES_BYTES, SLOTS, RingStore, type Field } from './ring-store.js';

/** The graphs the API serves and the fields each draws. */
export const METRICS: Record<string, readonly Field[]> = {
  cpu: ['cpu_percent'],
  memory: ['memory_rss_bytes'],
  disk: ['disk_read_bytes_per_sec', 'disk_write_bytes_per_sec', 'disk_read_ops_per_sec', 'disk_write_ops_per_sec'],
  net: [
    'net_rx_bytes_per_sec',
    'net_tx_bytes_per_sec',
    'net_rx_packets_per_sec',
    'net_tx_packets_per_sec',
    'net_drops_per_sec',
  ],
};
export type MetricName = keyof typeof METRICS;

/** Units of the fields, for axis labels. */
const UNITS: Record<Field, string> = {
  cpu_percent: 'percent',
  memory_rss_bytes: 'bytes',
  disk_read_bytes_per_sec: 'bytes/s',
  disk_write_bytes_per_sec: 'bytes/s',
  disk_read_ops_per_sec: 'ops/s',
  disk_write_ops_per_sec: 'ops/s',
  net_rx_bytes_per_sec: 'bytes/s',
  net_tx_bytes_per_sec: 'bytes/s',
  net_rx_packets_per_sec: 'packets/s',
  net_tx_packets_per_sec: 'packets/s',
  net_drops_per_sec: 'packets/s',
};

/** Colour thresholds the dashboard may draw (no alarms: issue 16 leaves those out). */
const THRESHOLDS: Partial<Record<Field, { warning: number; critical: number }>> = {
  cpu_percent: { warning: 70, critical: 90 },
};

const DAY_MS = 24 * 3600 * 1000;

/** An instance the collector and /metrics look at. */
export interface MonitoredInstance {
  id: string;
  name: string;
  projectId: string;
  host: string | null;
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  vmState: string;
  powerState: number;
}

export interface MonitoringOptions {
  sampleIntervalMs: number;
  persistIntervalMs: number;
  maxInstanceSeries: number;
  /** Where the store is kept (DATA_DIR/monitoring/series.bin). */
  file: string;
}

/** Parses a time given as ISO 8601 or unix seconds; null when absent; 400 when it is neither. */
function parseTime(name: string, v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) throw badRequest(`Invalid ${name} time "${v}": give ISO 8601 or unix seconds.`);
  return ms;
}

/** A query's time window: end defaults to now, start to an hour before end; at most 24 h long, end after start. */
export function timeWindow(q: { start?: string; end?: string }, now = Date.now()): { startMs: number; endMs: number } {
  const endMs = parseTime('end', q.end) ?? now;
  const startMs = parseTime('start', q.start) ?? endMs - 3600 * 1000;
  if (endMs < startMs) throw badRequest('end is before start.');
  if (endMs - startMs > DAY_MS) throw badRequest('The time range is longer than the 24 hours the store keeps.');
  return { startMs, endMs };
}

export class MonitoringService {
  readonly store: RingStore;
  private readonly prev = new Map<string, CounterTotals>();
  private sampleTimer: NodeJS.Timeout | null = null;
  private persistTimer: NodeJS.Timeout | null = null;
  private sampling: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      /** Live counters of a guest on a host this process drives; null where no driver runs here. */
      stats: ((host: string, id: string) => Promise<InstanceStats | null>) | null;
      options: MonitoringOptions;
    },
  ) {
    this.store = new RingStore(deps.options.maxInstanceSeries);
  }

  /** Loads the saved history and starts the sampling and saving timers. */
  async start(): Promise<void> {
    await this.store.open(this.deps.options.file);
    this.sampleTimer = setInterval(() => {
      // One sample at a time; a failed round (database busy) is the next round's to retry.
      this.sampling = this.sampling.then(() => this.sampleOnce()).catch(() => {});
    }, this.deps.options.sampleIntervalMs);
    this.sampleTimer.unref();
    this.persistTimer = setInterval(() => {
      this.store.save(this.deps.options.file).catch(() => {});
    }, this.deps.options.persistIntervalMs);
    this.persistTimer.unref();
  }

  /** Stops the timers and saves the store. */
  async stop(): Promise<void> {
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    if (this.persistTimer) clearInterval(this.persistTimer);
    this.sampleTimer = this.persistTimer = null;
    await this.sampling.catch(() => {});
    await this.store.save(this.deps.options.file);
  }

  /** Every instance not deleted, up to the cardinality cap (oldest first, so the set is stable). */
  async instances(projectId?: string): Promise<MonitoredInstance[]> {
    let q = this.deps.db
      .selectFrom('compute_instances')
      .select(['id', 'name', 'project_id', 'host', 'vcpus', 'memory_mb', 'root_gb', 'vm_state', 'power_state'])
      .where('deleted', '=', 0);
    if (projectId) q = q.where('project_id', '=', projectId);
    const rows = await q.orderBy('seq').limit(this.deps.options.maxInstanceSeries).execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      projectId: r.project_id,
      host: r.host,
      vcpus: r.vcpus,
      memoryMb: r.memory_mb,
      rootGb: r.root_gb,
      vmState: r.vm_state,
      powerState: r.power_state,
    }));
  }

  /** Live counters of one instance; null when it does not run here. */
  async liveStats(i: MonitoredInstance): Promise<InstanceStats | null> {
    if (!this.deps.stats || !i.host) return null;
    return this.deps.stats(i.host, i.id).catch(() => null);
  }

  /** Samples every instance once; deleted instances' history is dropped. Returns how many were sampled. */
  async sampleOnce(): Promise<number> {
    const list = await this.instances();
    const alive = new Set(list.map((i) => i.id));
    for (const id of this.store.ids()) if (!alive.has(id)) this.store.drop(id);
    for (const id of this.prev.keys()) if (!alive.has(id)) this.prev.delete(id);
    let n = 0;
    for (const i of list) {
      const s = await this.liveStats(i);
      if (!s) {
        // Not running: the next start's counters begin again from zero.
        this.prev.delete(i.id);
        continue;
      }
      const cur = totals(s);
      this.store.record(i.id, s.at, rates(this.prev.get(i.id), cur, i.vcpus, s.memoryRssBytes));
      this.prev.set(i.id, cur);
      n++;
    }
    return n;
  }

  private metricFields(metric: string | undefined): readonly Field[] {
    if (metric === undefined) return Object.values(METRICS).flat();
    const f = METRICS[metric];
    if (!f) throw badRequest(`Unknown metric "${metric}" (${Object.keys(METRICS).join(', ')}).`);
    return f;
  }

  private view(fields: readonly Field[], w: { startMs: number; endMs: number }) {
    return {
      step: 60,
      start: Math.floor(w.startMs / 1000),
      end: Math.floor(w.endMs / 1000),
      units: Object.fromEntries(fields.map((f) => [f, UNITS[f]])),
      thresholds: Object.fromEntries(fields.flatMap((f) => (THRESHOLDS[f] ? [[f, THRESHOLDS[f]]] : []))),
    };
  }

  /** One server's graphs; another project's server is not found (404), as Nova's own lookups. */
  async serverSeries(ctx: AuthContext, id: string, q: { metric?: string; start?: string; end?: string }) {
    const fields = this.metricFields(q.metric);
    const w = timeWindow(q);
    const row = await this.deps.db
      .selectFrom('compute_instances')
      .select(['id', 'name', 'project_id'])
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (!row || (!isAdmin(ctx) && row.project_id !== ctx.projectId))
      throw notFound(`Instance ${id} could not be found.`, { code: 'InstanceNotFound' });
    return {
      server: { id: row.id, name: row.name, project_id: row.project_id },
      metric: q.metric ?? 'all',
      ...this.view(fields, w),
      series: this.store.range(row.id, w.startMs, w.endMs, fields),
    };
  }

  /** Every server of a project, each with its graphs (the route's policy has checked the caller may read it). */
  async projectSeries(projectId: string, q: { metric?: string; start?: string; end?: string }) {
    const fields = this.metricFields(q.metric);
    const w = timeWindow(q);
    const list = await this.instances(projectId);
    return {
      project_id: projectId,
      metric: q.metric ?? 'all',
      ...this.view(fields, w),
      servers: list.map((i) => ({
        id: i.id,
        name: i.name,
        series: this.store.range(i.id, w.startMs, w.endMs, fields),
      })),
    };
  }
}
