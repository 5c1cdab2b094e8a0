import { badRequest, notFound } from '../../errors.js';
import type { ComputeNodeRow, ComputeServiceRow } from '../../store/compute-tables.js';
import { nextSeq } from '../../store/task-queue.js';
import { uuid } from '../../util/ids.js';
import type { HostCapacity } from '../../virt/index.js';
import { type ComputeDeps, type Db, nowIso, parseJson } from './common.js';
import type { ComputeOptions } from './options.js';

/** The services of the controller itself (always in the "internal" zone). */
export const CONTROLLER_BINARIES = ['nova-scheduler', 'nova-conductor'];

/** A service row with its computed liveness. */
export interface ComputeServiceView extends ComputeServiceRow {
  up: boolean;
  zone: string;
}

/** Compute services (os-services), compute nodes (os-hypervisors) and availability zones. */
export class HostService {
  constructor(
    private readonly d: ComputeDeps,
    private readonly opts: ComputeOptions,
  ) {}

  /** Registers (or refreshes) the controller's services. */
  async registerController(host: string): Promise<void> {
    for (const binary of CONTROLLER_BINARIES) await this.upsertService(binary, host);
  }

  private async upsertService(binary: string, host: string): Promise<string> {
    const now = nowIso();
    const hit = await this.d.db
      .selectFrom('compute_services')
      .select('id')
      .where('binary', '=', binary)
      .where('host', '=', host)
      .executeTakeFirst();
    if (hit) {
      await this.d.db.updateTable('compute_services').set({ last_seen_at: now }).where('id', '=', hit.id).execute();
      return hit.id;
    }
    const id = uuid();
    await this.d.db
      .insertInto('compute_services')
      .values({
        id,
        binary,
        host,
        disabled: 0,
        disabled_reason: null,
        forced_down: 0,
        last_seen_at: now,
        created_at: now,
        updated_at: null,
      })
      .onConflict((oc) => oc.columns(['binary', 'host']).doNothing())
      .execute();
    return id;
  }

  /**
   * Registers hosts with their capacity; inventory is updated, usage is kept. Ratios come from options on first
   * registration.
   */
  async registerHosts(caps: HostCapacity[]): Promise<void> {
    const existing = new Map(
      (await this.d.db.selectFrom('compute_nodes').select(['id', 'host']).execute()).map((r) => [r.host, r.id]),
    );
    const now = nowIso();
    await this.d.db.transaction().execute(async (trx) => {
      for (const c of caps) {
        const id = existing.get(c.host);
        if (id) {
          await trx
            .updateTable('compute_nodes')
            .set({
              vcpus: c.vcpus,
              memory_mb: c.memoryMb,
              local_gb: c.localGb,
              hypervisor_type: c.hypervisorType,
              host_ip: c.hostIp,
              hypervisor_version: c.hypervisorVersion,
              cpu_info: JSON.stringify(c.cpuInfo),
              updated_at: now,
            })
            .where('id', '=', id)
            .execute();
        } else {
          const row: ComputeNodeRow = {
            id: uuid(),
            seq: nextSeq(),
            host: c.host,
            hypervisor_hostname: c.hypervisorHostname,
            hypervisor_type: c.hypervisorType,
            hypervisor_version: c.hypervisorVersion,
            host_ip: c.hostIp,
            cpu_info: JSON.stringify(c.cpuInfo),
            vcpus: c.vcpus,
            memory_mb: c.memoryMb,
            local_gb: c.localGb,
            vcpus_used: 0,
            memory_mb_used: 0,
            local_gb_used: 0,
            running_vms: 0,
            cpu_allocation_ratio: this.opts.cpuAllocationRatio,
            ram_allocation_ratio: this.opts.ramAllocationRatio,
            disk_allocation_ratio: this.opts.diskAllocationRatio,
            created_at: now,
            updated_at: now,
          };
          await trx.insertInto('compute_nodes').values(row).execute();
        }
        const svc = await trx
          .selectFrom('compute_services')
          .select('id')
          .where('binary', '=', 'nova-compute')
          .where('host', '=', c.host)
          .executeTakeFirst();
        if (svc)
          await trx.updateTable('compute_services').set({ last_seen_at: now }).where('id', '=', svc.id).execute();
        else {
          await trx
            .insertInto('compute_services')
            .values({
              id: uuid(),
              binary: 'nova-compute',
              host: c.host,
              disabled: 0,
              disabled_reason: null,
              forced_down: 0,
              last_seen_at: now,
              created_at: now,
              updated_at: null,
            })
            .execute();
        }
      }
    });
  }

  /** Heartbeat of the hosts an agent serves (and the controller's services). */
  async heartbeat(hosts: string[]): Promise<void> {
    const now = nowIso();
    for (let i = 0; i < hosts.length; i += 500) {
      await this.d.db
        .updateTable('compute_services')
        .set({ last_seen_at: now })
        .where('host', 'in', hosts.slice(i, i + 500))
        .execute();
    }
  }

  isUp(s: ComputeServiceRow): boolean {
    if (s.forced_down) return false;
    return Date.now() - Date.parse(s.last_seen_at) <= this.opts.serviceDownTimeSeconds * 1000;
  }

  /** host → availability zone, from aggregates with availability_zone metadata. */
  async hostZones(trx: Db = this.d.db): Promise<Map<string, string>> {
    const rows = await trx
      .selectFrom('compute_aggregate_hosts')
      .innerJoin('compute_aggregates', 'compute_aggregates.id', 'compute_aggregate_hosts.aggregate_id')
      .select(['compute_aggregate_hosts.host as host', 'compute_aggregates.availability_zone as az'])
      .where('compute_aggregates.availability_zone', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [r.host, r.az!]));
  }

  async zoneOf(host: string, trx: Db = this.d.db): Promise<string> {
    return (await this.hostZones(trx)).get(host) ?? this.opts.defaultAvailabilityZone;
  }

  async listServices(filter: { binary?: string; host?: string } = {}): Promise<ComputeServiceView[]> {
    let q = this.d.db.selectFrom('compute_services').selectAll().orderBy('created_at').orderBy('host');
    if (filter.binary) q = q.where('binary', '=', filter.binary);
    if (filter.host) q = q.where('host', '=', filter.host);
    const zones = await this.hostZones();
    return (await q.execute()).map((s) => ({
      ...s,
      up: this.isUp(s),
      zone: s.binary === 'nova-compute' ? (zones.get(s.host) ?? this.opts.defaultAvailabilityZone) : 'internal',
    }));
  }

  async getService(id: string): Promise<ComputeServiceView> {
    const list = await this.listServices();
    const s = list.find((x) => x.id === id);
    if (!s) throw notFound(`Service ${id} could not be found.`, { code: 'ServiceNotFound' });
    return s;
  }

  async findService(binary: string, host: string): Promise<ComputeServiceView> {
    const s = (await this.listServices({ binary, host }))[0];
    if (!s) throw notFound(`Service ${binary} on host ${host} could not be found.`, { code: 'ServiceNotFound' });
    return s;
  }

  async updateService(
    id: string,
    change: { disabled?: boolean; disabledReason?: string | null; forcedDown?: boolean },
  ): Promise<ComputeServiceView> {
    const s = await this.getService(id);
    const set: Partial<ComputeServiceRow> = { updated_at: nowIso() };
    if (change.disabled !== undefined) {
      set.disabled = change.disabled ? 1 : 0;
      set.disabled_reason = change.disabled ? (change.disabledReason ?? null) : null;
    } else if (change.disabledReason !== undefined) {
      if (!s.disabled) throw badRequest('Specifying a disabled reason is only allowed when disabling a service.');
      set.disabled_reason = change.disabledReason;
    }
    if (change.forcedDown !== undefined) set.forced_down = change.forcedDown ? 1 : 0;
    await this.d.db.updateTable('compute_services').set(set).where('id', '=', id).execute();
    return this.getService(id);
  }

  async deleteService(id: string): Promise<void> {
    const s = await this.getService(id);
    if (s.binary === 'nova-compute') {
      const busy = await this.d.db
        .selectFrom('compute_instances')
        .select('id')
        .where('host', '=', s.host)
        .where('deleted', '=', 0)
        .executeTakeFirst();
      if (busy)
        throw badRequest(
          `Unable to delete compute service that is hosting instances. Migrate or delete the instances first.`,
        );
      await this.d.db.deleteFrom('compute_nodes').where('host', '=', s.host).execute();
    }
    await this.d.db.deleteFrom('compute_services').where('id', '=', id).execute();
  }

  async listNodes(trx: Db = this.d.db): Promise<ComputeNodeRow[]> {
    return trx.selectFrom('compute_nodes').selectAll().orderBy('seq').execute();
  }

  async getNode(id: string): Promise<ComputeNodeRow> {
    const r = await this.d.db.selectFrom('compute_nodes').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Hypervisor ${id} could not be found.`, { code: 'ComputeHostNotFound' });
    return r;
  }

  cpuInfo(n: ComputeNodeRow): Record<string, unknown> {
    return parseJson<Record<string, unknown>>(n.cpu_info, {});
  }
}
