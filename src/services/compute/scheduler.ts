import { sql } from 'kysely';
import { CloudError } from '../../errors.js';
import type { ComputeNodeRow } from '../../store/compute-tables.js';
import { type ComputeDeps, type Db, parseJson } from './common.js';
import type { HostService } from './hosts.js';
import type { ComputeOptions } from './options.js';

/** What one instance needs from a host. */
export interface ResourceRequest {
  vcpus: number;
  memoryMb: number;
  diskGb: number;
}

/** What the scheduler is asked. */
export interface ScheduleRequest extends ResourceRequest {
  /** Requested availability zone (null = any). */
  az: string | null;
  /** Forced host (admin's "zone:host"). */
  forceHost: string | null;
  /** Image properties to match (architecture, img_hv_type / hypervisor_type). */
  imageProps: Record<string, string>;
  /** Server group policy and the hosts its members are on. */
  group: { policy: string; hosts: string[]; maxPerHost: number } | null;
  /** scheduler_hints same_host / different_host resolved to hosts. */
  sameHosts: string[] | null;
  differentHosts: string[];
  /** Hosts to skip (the current host on a migration). */
  ignoreHosts: string[];
}

interface HostState {
  node: ComputeNodeRow;
  az: string;
  enabled: boolean;
  up: boolean;
  arch: string;
}

/** Keeps p50/p99 of scheduling decisions for the benchmark and os-hypervisors-style reports. */
export class DecisionTimer {
  private samples: number[] = [];
  record(ms: number): void {
    if (this.samples.length >= 100_000) this.samples.shift();
    this.samples.push(ms);
  }
  percentile(p: number): number {
    if (this.samples.length === 0) return 0;
    const s = [...this.samples].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  }
  count(): number {
    return this.samples.length;
  }
  reset(): void {
    this.samples = [];
  }
}

const NO_VALID_HOST = 'No valid host was found. There are not enough hosts available.';

/**
 * Filter scheduler with placement-style accounting: hosts are filtered (enabled and alive, AZ, resources with
 * allocation ratios, image properties, server-group policy, hints) and weighed (free RAM), then the winner is
 * claimed with one conditional UPDATE, so concurrent creates can never overcommit a host. Host state is cached
 * in memory (our own claims applied to it). When it is older than 5 s it is reloaded in the background, outside the
 * caller's transaction, so no scheduling decision waits for a full host scan; only the first load, an explicit
 * invalidation or a lost claim race reload inline. A stale cache can cost a retry, never an overcommit: the claim
 * itself is checked by the database.
 */
export class Scheduler {
  private cache: HostState[] = [];
  private loadedAt = 0;
  private reloading: Promise<void> | undefined;
  readonly timer = new DecisionTimer();
  /** Decisions since start: a host claimed, or none fitting (NoValidHost); read by /metrics. */
  readonly outcomes = { placed: 0, noValidHost: 0 };

  constructor(
    private readonly d: ComputeDeps,
    private readonly hosts: HostService,
    private readonly opts: ComputeOptions,
  ) {}

  /** Forgets the cached host state (after services or aggregates change). */
  invalidate(): void {
    this.loadedAt = 0;
  }

  /** Starts a background reload if the cache is stale and none is running; never awaited by a decision. */
  private reloadIfStale(): void {
    if (this.reloading || Date.now() - this.loadedAt < 5000) return;
    this.reloading = this.refresh(this.d.db, true)
      .catch(() => {})
      .finally(() => {
        this.reloading = undefined;
      });
  }

  private async refresh(trx: Db, force = false): Promise<void> {
    if (!force && Date.now() - this.loadedAt < 5000) return;
    const started = Date.now();
    const nodes = await this.hosts.listNodes(trx);
    const services = await trx
      .selectFrom('compute_services')
      .selectAll()
      .where('binary', '=', 'nova-compute')
      .execute();
    const zones = await this.hosts.hostZones(trx);
    const svc = new Map(services.map((s) => [s.host, s]));
    this.cache = nodes.map((n) => {
      const s = svc.get(n.host);
      return {
        node: n,
        az: zones.get(n.host) ?? this.opts.defaultAvailabilityZone,
        enabled: !!s && s.disabled === 0,
        up: !!s && this.hosts.isUp(s),
        arch: String(parseJson<Record<string, unknown>>(n.cpu_info, {}).arch ?? 'x86_64'),
      };
    });
    this.loadedAt = started;
  }

  private fits(h: HostState, r: ResourceRequest): boolean {
    const n = h.node;
    return (
      n.vcpus_used + r.vcpus <= n.vcpus * n.cpu_allocation_ratio &&
      n.memory_mb_used + r.memoryMb <= n.memory_mb * n.ram_allocation_ratio &&
      n.local_gb_used + r.diskGb <= n.local_gb * n.disk_allocation_ratio
    );
  }

  private passes(h: HostState, req: ScheduleRequest, perHost: Map<string, number>): boolean {
    if (req.forceHost) {
      if (h.node.host !== req.forceHost && h.node.hypervisor_hostname !== req.forceHost) return false;
    } else if (!h.enabled || !h.up) return false;
    if (req.az && h.az !== req.az) return false;
    if (req.ignoreHosts.includes(h.node.host)) return false;
    if (!this.fits(h, req)) return false;
    const arch = req.imageProps.architecture ?? req.imageProps.hw_architecture;
    if (arch && arch !== h.arch && !(arch === 'x86_64' && h.arch === 'x86_64')) return false;
    const hv = req.imageProps.img_hv_type ?? req.imageProps.hypervisor_type;
    if (hv && hv !== h.node.hypervisor_type) return false;
    if (req.sameHosts && !req.sameHosts.includes(h.node.host)) return false;
    if (req.differentHosts.includes(h.node.host)) return false;
    if (req.group) {
      const onHost = perHost.get(h.node.host) ?? 0;
      if (req.group.policy === 'affinity' && req.group.hosts.length > 0 && onHost === 0) return false;
      if (req.group.policy === 'anti-affinity' && onHost >= req.group.maxPerHost) return false;
    }
    return true;
  }

  private weigh(h: HostState, req: ScheduleRequest, perHost: Map<string, number>): number {
    const n = h.node;
    const freeRam = n.memory_mb * n.ram_allocation_ratio - n.memory_mb_used;
    let w = this.opts.ramWeightMultiplier * freeRam;
    const onHost = perHost.get(n.host) ?? 0;
    if (req.group?.policy === 'soft-affinity') w += onHost * 1e9;
    if (req.group?.policy === 'soft-anti-affinity') w -= onHost * 1e9;
    return w;
  }

  /**
   * Picks and claims a host inside the caller's transaction. Throws 'NoValidHost' (a CloudError the caller turns into
   * an ERROR instance, as Nova does) when nothing fits.
   */
  async selectAndClaim(trx: Db, req: ScheduleRequest): Promise<ComputeNodeRow> {
    const t0 = performance.now();
    if (this.loadedAt === 0) await this.refresh(trx, true);
    else this.reloadIfStale();
    const perHost = new Map<string, number>();
    for (const host of req.group?.hosts ?? []) perHost.set(host, (perHost.get(host) ?? 0) + 1);
    for (let attempt = 0; attempt < 3; attempt++) {
      const candidates: { h: HostState; w: number }[] = [];
      for (const h of this.cache)
        if (this.passes(h, req, perHost)) candidates.push({ h, w: this.weigh(h, req, perHost) });
      candidates.sort((a, b) => b.w - a.w);
      for (const { h } of candidates.slice(0, 5)) {
        if (await this.claim(trx, h.node.id, req)) {
          h.node = {
            ...h.node,
            vcpus_used: h.node.vcpus_used + req.vcpus,
            memory_mb_used: h.node.memory_mb_used + req.memoryMb,
            local_gb_used: h.node.local_gb_used + req.diskGb,
            running_vms: h.node.running_vms + 1,
          };
          this.timer.record(performance.now() - t0);
          this.outcomes.placed++;
          return h.node;
        }
      }
      if (candidates.length === 0) break;
      await this.refresh(trx, true);
    }
    this.timer.record(performance.now() - t0);
    this.outcomes.noValidHost++;
    throw new CloudError('Conflict', NO_VALID_HOST, { code: 'NoValidHost' });
  }

  /** The atomic claim: succeeds only if the host still has room. */
  async claim(trx: Db, nodeId: string, r: ResourceRequest): Promise<boolean> {
    const res = await trx
      .updateTable('compute_nodes')
      .set({
        vcpus_used: sql<number>`vcpus_used + ${r.vcpus}`,
        memory_mb_used: sql<number>`memory_mb_used + ${r.memoryMb}`,
        local_gb_used: sql<number>`local_gb_used + ${r.diskGb}`,
        running_vms: sql<number>`running_vms + 1`,
      })
      .where('id', '=', nodeId)
      .where(sql<boolean>`vcpus_used + ${r.vcpus} <= vcpus * cpu_allocation_ratio`)
      .where(sql<boolean>`memory_mb_used + ${r.memoryMb} <= memory_mb * ram_allocation_ratio`)
      .where(sql<boolean>`local_gb_used + ${r.diskGb} <= local_gb * disk_allocation_ratio`)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Claims on a named host (resize in place, unshelve to a known host); false when it does not fit. */
  async claimOnHost(trx: Db, host: string, r: ResourceRequest): Promise<boolean> {
    const n = await trx.selectFrom('compute_nodes').select('id').where('host', '=', host).executeTakeFirst();
    if (!n) return false;
    const ok = await this.claim(trx, n.id, r);
    this.invalidate();
    return ok;
  }

  /** Gives back what an instance held on a host. */
  async release(trx: Db, host: string | null, r: ResourceRequest): Promise<void> {
    if (!host) return;
    await trx
      .updateTable('compute_nodes')
      .set({
        vcpus_used: sql<number>`CASE WHEN vcpus_used >= ${r.vcpus} THEN vcpus_used - ${r.vcpus} ELSE 0 END`,
        memory_mb_used: sql<number>`CASE WHEN memory_mb_used >= ${r.memoryMb}
          THEN memory_mb_used - ${r.memoryMb} ELSE 0 END`,
        local_gb_used: sql<number>`CASE WHEN local_gb_used >= ${r.diskGb} THEN local_gb_used - ${r.diskGb} ELSE 0 END`,
        running_vms: sql<number>`CASE WHEN running_vms >= 1 THEN running_vms - 1 ELSE 0 END`,
      })
      .where('host', '=', host)
      .execute();
    const h = this.cache.find((x) => x.node.host === host);
    if (h) {
      h.node = {
        ...h.node,
        vcpus_used: Math.max(0, h.node.vcpus_used - r.vcpus),
        memory_mb_used: Math.max(0, h.node.memory_mb_used - r.memoryMb),
        local_gb_used: Math.max(0, h.node.local_gb_used - r.diskGb),
        running_vms: Math.max(0, h.node.running_vms - 1),
      };
    }
  }
}
