// After a restart, every instance of this host is put right (as Nova's _init_instance), and power states stay true.
import type { Kysely } from 'kysely';
import type { InstanceRow } from '../../store/compute-tables.js';
import type { Database } from '../../store/tables.js';
import { PowerState, type HypervisorDriver } from '../../virt/index.js';
import { nowIso } from './common.js';

/** What a reconciliation did, for the log and for tests. */
export interface ReconcileReport {
  running: string[];
  stoppedNow: string[];
  restarted: string[];
  errored: string[];
  orphansRemoved: string[];
  leftToTasks: string[];
}

/** Options of the reconciler. */
export interface ReconcileOptions {
  /** Start guests that were running when the host went down (Nova's resume_guests_state_on_host_boot). */
  resumeGuestsOnHostBoot: boolean;
  /** Seconds between power-state syncs (0: no loop). */
  syncIntervalSec: number;
}

const BUILDING_TASKS = new Set(['scheduling', 'block_device_mapping', 'networking', 'spawning']);

/** Reconciles the driver's hosts with the database, and keeps power_state true to the hypervisor. */
export class HostReconciler {
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly driver: HypervisorDriver,
    private readonly opts: ReconcileOptions,
  ) {}

  private hosts(): string[] {
    return this.driver.hosts().map((h) => h.host);
  }

  private async instancesOnHosts(): Promise<InstanceRow[]> {
    const hosts = this.hosts();
    if (hosts.length === 0) return [];
    return this.db
      .selectFrom('compute_instances')
      .selectAll()
      .where('deleted', '=', 0)
      .where('host', 'in', hosts)
      .execute();
  }

  private async hasOpenTask(id: string): Promise<boolean> {
    const t = await this.db
      .selectFrom('compute_tasks')
      .select('id')
      .where('instance_id', '=', id)
      .where('state', 'in', ['pending', 'running'])
      .executeTakeFirst();
    return !!t;
  }

  private async set(id: string, set: Partial<InstanceRow>): Promise<void> {
    await this.db
      .updateTable('compute_instances')
      .set({ ...set, updated_at: nowIso() })
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .execute();
  }

  /** One pass over the host at start: re-attach, mark, restart, fail interrupted work, remove orphans. */
  async initHost(): Promise<ReconcileReport> {
    const r: ReconcileReport = {
      running: [],
      stoppedNow: [],
      restarted: [],
      errored: [],
      orphansRemoved: [],
      leftToTasks: [],
    };
    const rows = await this.instancesOnHosts();
    const known = new Set(rows.map((i) => i.id));
    for (const inst of rows) {
      const host = inst.host!;
      if (await this.hasOpenTask(inst.id)) {
        r.leftToTasks.push(inst.id); // the requeued task finishes (or fails) it
        continue;
      }
      if (inst.task_state && BUILDING_TASKS.has(inst.task_state)) {
        await this.driver.destroy(host, inst.id).catch(() => {});
        const fault = JSON.stringify({
          code: 500,
          message: 'The compute service restarted while the instance was being built.',
          created: nowIso(),
          details: '',
        });
        await this.set(inst.id, { vm_state: 'error', task_state: null, power_state: PowerState.NOSTATE, fault });
        r.errored.push(inst.id);
        continue;
      }
      const info = await this.driver.getInfo(host, inst.id).catch(() => null);
      const power = info?.powerState ?? PowerState.NOSTATE;
      const set: Partial<InstanceRow> = {};
      if (inst.task_state) set.task_state = null; // an action without a task cannot finish any more
      if (inst.vm_state === 'active' && power !== PowerState.RUNNING) {
        if (this.opts.resumeGuestsOnHostBoot && info) {
          try {
            await this.driver.powerOn(host, inst.id);
            set.power_state = PowerState.RUNNING;
            r.restarted.push(inst.id);
          } catch {
            set.vm_state = 'stopped';
            set.power_state = power;
            r.stoppedNow.push(inst.id);
          }
        } else {
          set.vm_state = 'stopped';
          set.power_state = power === PowerState.NOSTATE ? PowerState.SHUTDOWN : power;
          r.stoppedNow.push(inst.id);
        }
      } else {
        if (power !== inst.power_state) set.power_state = power;
        if (power === PowerState.RUNNING) r.running.push(inst.id);
      }
      if (Object.keys(set).length) await this.set(inst.id, set);
    }
    for (const host of this.hosts()) {
      for (const id of await this.driver.listInstances(host).catch(() => [] as string[])) {
        if (known.has(id)) continue;
        if (await this.hasOpenTask(id)) continue;
        await this.driver.destroy(host, id).catch(() => {});
        r.orphansRemoved.push(id);
      }
    }
    return r;
  }

  /** One power-state sync: power_state follows the hypervisor; a guest that stopped by itself becomes SHUTOFF. */
  async syncPowerStates(): Promise<void> {
    for (const inst of await this.instancesOnHosts()) {
      if (inst.task_state) continue;
      const info = await this.driver.getInfo(inst.host!, inst.id).catch(() => undefined);
      if (info === undefined) continue;
      const power = info?.powerState ?? PowerState.NOSTATE;
      if (power === inst.power_state) continue;
      const cur = await this.db
        .selectFrom('compute_instances')
        .select(['task_state', 'power_state'])
        .where('id', '=', inst.id)
        .executeTakeFirst();
      if (!cur || cur.task_state) continue; // an action started meanwhile
      const set: Partial<InstanceRow> = { power_state: power };
      if (
        inst.vm_state === 'active' &&
        [PowerState.SHUTDOWN, PowerState.CRASHED, PowerState.NOSTATE].includes(power as 0)
      )
        set.vm_state = 'stopped';
      await this.set(inst.id, set);
    }
  }

  /** Starts the periodic sync. */
  start(): void {
    if (this.opts.syncIntervalSec <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.syncing) return;
      this.syncing = this.syncPowerStates()
        .catch(() => {})
        .finally(() => {
          this.syncing = null;
        });
    }, this.opts.syncIntervalSec * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.syncing;
  }
}
