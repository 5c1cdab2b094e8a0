// What /metrics exports, in Prometheus's text format: the control plane (requests by service, route template,
// method and status with latency histograms, bytes, tokens, image bytes, the task queue), each host (capacity,
// allocation, ratios, instances by state, the base-image cache) and each instance (the driver's live counters),
// labelled with instance id, name, project and host. Instances are capped at observability.maxInstanceSeries (oldest
// first) so the label set stays bounded; a deleted instance's labels leave with it (they are read fresh each scrape).
import { timingSafeEqual } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import { ExpositionWriter, LabeledCounter, LabeledHistogram, type Labels } from '../../util/prometheus.js';
import type { InstanceStats } from '../../virt/index.js';
import type { MonitoredInstance, MonitoringService } from './index.js';

/** One finished HTTP request, as the server's response hook sees it. */
export interface RequestObservation {
  service: string;
  /** The route template (/compute/v2.1/servers/:id), never the raw URL: bounded cardinality. */
  route: string;
  method: string;
  status: number;
  seconds: number;
  bytesIn: number;
  bytesOut: number;
  /** The request carried an X-Auth-Token (validated by the auth hook). */
  hadToken: boolean;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Live reads at once during a scrape (QMP round trips and /proc reads per guest). */
const SCRAPE_CONCURRENCY = 8;

/** The control plane's own counters, kept between scrapes. */
export class ControlPlaneCounters {
  readonly requests = new LabeledCounter(
    'gureum_http_requests_total',
    'HTTP requests answered, by service, route template, method and status.',
    ['service', 'route', 'method', 'status'],
  );
  readonly latency = new LabeledHistogram(
    'gureum_http_request_duration_seconds',
    'Time from request to response, by service, route template and method.',
    ['service', 'route', 'method'],
    LATENCY_BUCKETS,
  );
  readonly bytes = new LabeledCounter(
    'gureum_http_bytes_total',
    'Bytes of request (in) and response (out) bodies by service, from Content-Length (streamed bodies without one ' +
      'count 0).',
    ['service', 'direction'],
  );
  readonly tokens = new LabeledCounter('gureum_tokens_total', 'Keystone tokens issued and validated.', ['event']);
  readonly imageBytes = new LabeledCounter(
    'gureum_image_bytes_total',
    'Image data uploaded (in) and downloaded (out) through Glance, from Content-Length.',
    ['direction'],
  );

  readonly dbLatency = new LabeledHistogram(
    'gureum_db_query_duration_seconds',
    'Time the database took per statement, by kind (select, insert, update, delete, with, other).',
    ['kind'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );

  /** One executed statement (the store's query callback). */
  observeQuery(kind: string, ms: number): void {
    this.dbLatency.observe([kind], ms / 1000);
  }

  observe(r: RequestObservation): void {
    this.requests.inc([r.service, r.route, r.method, String(r.status)]);
    this.latency.observe([r.service, r.route, r.method], r.seconds);
    if (r.bytesIn > 0) this.bytes.inc([r.service, 'in'], r.bytesIn);
    if (r.bytesOut > 0) this.bytes.inc([r.service, 'out'], r.bytesOut);
    if (r.hadToken) this.tokens.inc(['validated']);
    if (r.route === '/identity/v3/auth/tokens' && r.method === 'POST' && r.status === 201) this.tokens.inc(['issued']);
    if (r.route.startsWith('/image/v2/images/:') && /\/(file|stage)$/.test(r.route) && r.status < 300) {
      if (r.method === 'PUT' && r.bytesIn > 0) this.imageBytes.inc(['in'], r.bytesIn);
      if (r.method === 'GET' && r.bytesOut > 0) this.imageBytes.inc(['out'], r.bytesOut);
    }
  }

  write(w: ExpositionWriter): void {
    this.requests.write(w);
    this.latency.write(w);
    this.bytes.write(w);
    this.tokens.write(w);
    this.imageBytes.write(w);
    this.dbLatency.write(w);
  }
}

/** Total size of the files directly in a folder (the base-image cache is flat), 0 when it does not exist. */
async function folderBytes(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let sum = 0;
  for (const n of names) sum += (await stat(join(dir, n)).catch(() => null))?.size ?? 0;
  return sum;
}

/** Runs `f` over `items`, `n` at a time, keeping the order. */
async function mapLimited<T, R>(items: T[], n: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** The scheduler's figures /metrics reads (Scheduler.outcomes and its decision timer). */
export interface SchedulerFigures {
  outcomes: { placed: number; noValidHost: number };
  timer: { percentile(p: number): number };
}

/** One Neutron metering label's traffic summed over this host's routers (the network service's figures). */
export interface MeteringTraffic {
  labelId: string;
  name: string;
  projectId: string;
  bytes: number;
  packets: number;
}

export class MetricsService {
  readonly http: ControlPlaneCounters;
  private readonly scrapeToken: Buffer;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      /** The control plane's counters (made before the store, whose query timings they take). */
      counters: ControlPlaneCounters;
      scheduler: SchedulerFigures | null;
      /** Neutron metering labels' counters (the data plane's nftables counters), when the network service runs. */
      metering: (() => Promise<MeteringTraffic[]>) | null;
      /** PostgreSQL's pool, when the store has one. */
      poolStats: (() => { total: number; idle: number; waiting: number }) | null;
      monitoring: MonitoringService;
      imageCacheDir: string;
      /** The bearer token a Prometheus scrape may present instead of an admin's X-Auth-Token. */
      scrapeToken: string;
    },
  ) {
    this.scrapeToken = Buffer.from(deps.scrapeToken);
    this.http = deps.counters;
  }

  /** True when `presented` is the scrape credential (compared in constant time). */
  acceptsScrapeToken(presented: string): boolean {
    const p = Buffer.from(presented);
    return this.scrapeToken.length > 0 && p.length === this.scrapeToken.length && timingSafeEqual(p, this.scrapeToken);
  }

  /** The whole exposition, read now. */
  async render(): Promise<string> {
    const w = new ExpositionWriter();
    this.http.write(w);
    await this.writeTasks(w);
    await this.writeHosts(w);
    await this.writeInstances(w);
    await this.writeMetering(w);
    return w.text();
  }

  private async writeTasks(w: ExpositionWriter): Promise<void> {
    const rows = await this.deps.db
      .selectFrom('compute_tasks')
      .select((eb) => ['state', eb.fn.countAll<number>().as('n'), eb.fn.min<string | null>('created_at').as('oldest')])
      .where('state', 'in', ['queued', 'running', 'failed'])
      .groupBy('state')
      .execute();
    const now = Date.now();
    const by = new Map(rows.map((r) => [r.state, r]));
    const states = ['queued', 'running', 'failed'];
    w.metric(
      'gureum_task_queue_depth',
      'gauge',
      'Host tasks by state (queued: waiting for an agent; failed: kept for inspection).',
      states.map((s) => [{ state: s }, Number(by.get(s)?.n ?? 0)]),
    );
    w.metric(
      'gureum_task_queue_oldest_age_seconds',
      'gauge',
      'Age of the oldest queued or running host task (0 when there is none).',
      ['queued', 'running'].map((s) => {
        const o = by.get(s)?.oldest;
        return [{ state: s }, o ? Math.max(0, (now - Date.parse(o)) / 1000) : 0];
      }),
    );
    const failed = await this.deps.db
      .selectFrom('compute_instances')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('deleted', '=', 0)
      .where('vm_state', '=', 'error')
      .where('host', 'is', null)
      .executeTakeFirst();
    const sch = this.deps.scheduler;
    if (sch) {
      w.metric('gureum_scheduler_decisions_total', 'counter', 'Scheduling decisions since start, by result.', [
        [{ result: 'placed' }, sch.outcomes.placed],
        [{ result: 'no_valid_host' }, sch.outcomes.noValidHost],
      ]);
      w.metric(
        'gureum_scheduler_decision_seconds',
        'gauge',
        'Time a scheduling decision took (filter, weigh, claim), over the last 100,000 decisions.',
        [
          [{ quantile: '0.5' }, sch.timer.percentile(50) / 1000],
          [{ quantile: '0.99' }, sch.timer.percentile(99) / 1000],
        ],
      );
    }
    const pool = this.deps.poolStats?.();
    if (pool)
      w.metric('gureum_db_pool_connections', 'gauge', "PostgreSQL pool's connections by state.", [
        [{ state: 'total' }, pool.total],
        [{ state: 'idle' }, pool.idle],
        [{ state: 'waiting_clients' }, pool.waiting],
      ]);
    w.metric(
      'gureum_scheduler_unplaced_instances',
      'gauge',
      'Instances in ERROR that never got a host (the scheduler found no valid host).',
      [[{}, Number(failed?.n ?? 0)]],
    );
  }

  /** Neutron metering: one series per label (labels are few and made by admins, so cardinality stays bounded). */
  private async writeMetering(w: ExpositionWriter): Promise<void> {
    if (!this.deps.metering) return;
    const labels = await this.deps.metering();
    const of = (l: MeteringTraffic) => ({ label_id: l.labelId, name: l.name, project: l.projectId });
    w.metric(
      'gureum_metering_label_bytes_total',
      'counter',
      "Bytes counted by a Neutron metering label's rules on this host's routers.",
      labels.map((l) => [of(l), l.bytes]),
    );
    w.metric(
      'gureum_metering_label_packets_total',
      'counter',
      "Packets counted by a Neutron metering label's rules on this host's routers.",
      labels.map((l) => [of(l), l.packets]),
    );
  }

  private async writeHosts(w: ExpositionWriter): Promise<void> {
    const nodes = await this.deps.db.selectFrom('compute_nodes').selectAll().orderBy('seq').execute();
    const g = (name: string, help: string, f: (n: (typeof nodes)[number]) => number) =>
      w.metric(
        name,
        'gauge',
        help,
        nodes.map((n) => [{ host: n.host }, f(n)]),
      );
    g('gureum_host_vcpus', 'vCPUs the host has.', (n) => n.vcpus);
    g('gureum_host_vcpus_allocated', 'vCPUs claimed by instances.', (n) => n.vcpus_used);
    g('gureum_host_memory_bytes', 'RAM the host has.', (n) => n.memory_mb * 1024 * 1024);
    g('gureum_host_memory_allocated_bytes', 'RAM claimed by instances.', (n) => n.memory_mb_used * 1024 * 1024);
    g('gureum_host_disk_bytes', 'Local disk the host has.', (n) => n.local_gb * 1024 ** 3);
    g('gureum_host_disk_allocated_bytes', 'Local disk claimed by instances.', (n) => n.local_gb_used * 1024 ** 3);
    g('gureum_host_cpu_allocation_ratio', 'vCPU overcommit the scheduler allows.', (n) => n.cpu_allocation_ratio);
    g('gureum_host_ram_allocation_ratio', 'RAM overcommit the scheduler allows.', (n) => n.ram_allocation_ratio);
    g('gureum_host_disk_allocation_ratio', 'Disk overcommit the scheduler allows.', (n) => n.disk_allocation_ratio);
    const states = await this.deps.db
      .selectFrom('compute_instances')
      .select((eb) => ['host', 'vm_state', eb.fn.countAll<number>().as('n')])
      .where('deleted', '=', 0)
      .groupBy(['host', 'vm_state'])
      .execute();
    w.metric(
      'gureum_host_instances',
      'gauge',
      'Instances by host and vm_state (host "" = not placed).',
      states.map((r) => [{ host: r.host ?? '', state: r.vm_state }, Number(r.n)]),
    );
    w.metric('gureum_image_cache_bytes', 'gauge', "Size of this host's base-image cache.", [
      [{}, await folderBytes(this.deps.imageCacheDir)],
    ]);
  }

  private async writeInstances(w: ExpositionWriter): Promise<void> {
    const list = await this.deps.monitoring.instances();
    const mon = this.deps.monitoring;
    const read = await mapLimited(list, SCRAPE_CONCURRENCY, async (i) => ({
      i,
      s: i.powerState === 1 ? await mon.liveStats(i) : null,
    }));
    const live = read.filter((x): x is { i: MonitoredInstance; s: InstanceStats } => x.s !== null);
    const id = (i: MonitoredInstance): Labels => ({
      instance_id: i.id,
      name: i.name,
      project_id: i.projectId,
      host: i.host ?? '',
    });
    w.metric(
      'gureum_instance_up',
      'gauge',
      'Whether the instance runs and its counters could be read (1), or not (0).',
      read.map(({ i, s }) => [id(i), s ? 1 : 0]),
    );
    w.metric(
      'gureum_instance_cpu_seconds_total',
      'counter',
      "CPU time of the instance's hypervisor process.",
      live.map(({ i, s }) => [id(i), s.cpuTimeNs / 1e9]),
    );
    w.metric(
      'gureum_instance_vcpus',
      'gauge',
      'vCPUs of the instance (its flavor).',
      read.map(({ i }) => [id(i), i.vcpus]),
    );
    w.metric(
      'gureum_instance_memory_bytes',
      'gauge',
      'Guest RAM as configured.',
      live.map(({ i, s }) => [id(i), s.memoryMaxBytes]),
    );
    w.metric(
      'gureum_instance_memory_rss_bytes',
      'gauge',
      "Resident memory of the instance's hypervisor process.",
      live.map(({ i, s }) => [id(i), s.memoryRssBytes]),
    );
    const disk = (name: string, help: string, f: (d: InstanceStats['disks'][number]) => number) =>
      w.metric(
        name,
        'counter',
        help,
        live.flatMap(({ i, s }) => s.disks.map((d): [Labels, number] => [{ ...id(i), device: d.id }, f(d)])),
      );
    disk('gureum_instance_disk_read_bytes_total', 'Bytes read from the disk.', (d) => d.readBytes);
    disk('gureum_instance_disk_write_bytes_total', 'Bytes written to the disk.', (d) => d.writeBytes);
    disk('gureum_instance_disk_read_ops_total', 'Read operations on the disk.', (d) => d.readOps);
    disk('gureum_instance_disk_write_ops_total', 'Write operations on the disk.', (d) => d.writeOps);
    const nic = (name: string, help: string, f: (n: InstanceStats['nics'][number]) => number | null) =>
      w.metric(
        name,
        'counter',
        help,
        live.flatMap(({ i, s }) =>
          s.nics.map((n): [Labels, number | null] => [{ ...id(i), interface: n.device ?? '', mac: n.mac }, f(n)]),
        ),
      );
    const guest = ' (the guest\u2019s view; absent for user networking, which keeps no counters).';
    nic('gureum_instance_network_receive_bytes_total', `Bytes received${guest}`, (n) => n.rxBytes);
    nic('gureum_instance_network_transmit_bytes_total', `Bytes sent${guest}`, (n) => n.txBytes);
    nic('gureum_instance_network_receive_packets_total', `Packets received${guest}`, (n) => n.rxPackets);
    nic('gureum_instance_network_transmit_packets_total', `Packets sent${guest}`, (n) => n.txPackets);
    nic('gureum_instance_network_receive_drops_total', `Received packets dropped${guest}`, (n) => n.rxDrops);
    nic('gureum_instance_network_transmit_drops_total', `Sent packets dropped${guest}`, (n) => n.txDrops);
  }
}
