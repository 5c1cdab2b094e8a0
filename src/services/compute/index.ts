import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { Dialect } from '../../store/database.js';
import { TaskQueue } from '../../store/task-queue.js';
import type { HostUsage, HypervisorDriver } from '../../virt/index.js';
import { ServerActions, type HostCalls } from './actions.js';
import type { ComputeDeps } from './common.js';
import { FlavorService } from './flavors.js';
import { AggregateService, ServerGroupService } from './groups.js';
import { HostService } from './hosts.js';
import { InstanceActionLog } from './instance-actions.js';
import { KeypairService } from './keypairs.js';
import type { ComputeOptions } from './options.js';
import { NoNetwork, type ComputeImagePort, type ComputeNetworkPort, type ComputeVolumePort } from './peer-services.js';
import { ServerVolumes } from './volumes.js';
import { QuotaService } from './quotas.js';
import { Scheduler } from './scheduler.js';
import { ServerService } from './servers.js';
import { UsageService } from './usage.js';
import { ComputeReports } from './reports.js';
import { ServerPasswords } from './server-password.js';

export type { ComputeOptions } from './options.js';
export type {
  ComputeImage,
  ComputeImagePort,
  ComputeNetworkPort,
  ComputePort,
  NicRequest,
  ComputeVolumePort,
  ComputeVolumeAttachment,
} from './peer-services.js';
export { statusOf, checkState, ACTIONS } from './states.js';
// The host side (agent, task runner, reconciler), which the composition root builds around a driver (src/app/).
export { ComputeAgent } from './agent.js';
export { ComputeManager } from './manager.js';
export { HostReconciler } from './reconcile.js';

/**
 * Nova's API side: flavors, keypairs, quotas, servers and their actions, scheduler and placement accounting. The
 * compute host (agent, reconciler) around this host's hypervisor is built by the composition root (src/app/).
 */
export class ComputeService {
  readonly options: ComputeOptions;
  readonly queue: TaskQueue;
  readonly flavors: FlavorService;
  readonly quotas: QuotaService;
  readonly keypairs: KeypairService;
  readonly hosts: HostService;
  readonly scheduler: Scheduler;
  readonly actions: InstanceActionLog;
  readonly servers: ServerService;
  readonly serverActions: ServerActions;
  readonly groups: ServerGroupService;
  readonly aggregates: AggregateService;
  /** os-simple-tenant-usage reports. */
  readonly usage: UsageService;
  /** Read-only admin reports (migrations, what runs on a host). */
  readonly reports: ComputeReports;
  readonly passwords: ServerPasswords;
  /** os-volume_attachments. */
  readonly volumes: ServerVolumes;
  /** This host's hypervisor when this process runs the agent (console output, details, attached volumes). */
  readonly driver: HypervisorDriver | null;
  private imagePort: ComputeImagePort | null = null;
  private networkPort: ComputeNetworkPort = new NoNetwork();
  private volumePort: ComputeVolumePort | null = null;
  private readonly deps: ComputeDeps;

  /**
   * `driver` is this host's hypervisor when this process runs the agent (the all-in-one), else null; the
   * composition root builds it (and the agent around it), so the service never chooses or constructs drivers.
   */
  constructor(deps: {
    db: Kysely<Database>;
    dialect: Dialect;
    options: ComputeOptions;
    driver: HypervisorDriver | null;
  }) {
    this.options = deps.options;
    this.deps = { db: deps.db, dialect: deps.dialect };
    const o = this.options;
    this.queue = new TaskQueue(deps.db, deps.dialect);
    this.flavors = new FlavorService(this.deps);
    this.quotas = new QuotaService(this.deps);
    this.keypairs = new KeypairService(this.deps, this.quotas);
    this.hosts = new HostService(this.deps, o);
    this.scheduler = new Scheduler(this.deps, this.hosts, o);
    this.actions = new InstanceActionLog(this.deps);
    const image = () => this.imagePort;
    const network = () => this.networkPort;
    const volume = () => this.volumePort;
    this.servers = new ServerService(this.deps, {
      flavors: this.flavors,
      keypairs: this.keypairs,
      quotas: this.quotas,
      hosts: this.hosts,
      scheduler: this.scheduler,
      actions: this.actions,
      queue: this.queue,
      image,
      network,
      defaultAz: o.defaultAvailabilityZone,
      volume,
    });
    this.driver = deps.driver;
    const driver = this.driver;
    const calls = (): HostCalls | null =>
      driver
        ? {
            consoleOutput: (host, id) => driver.consoleOutput(host, id),
            details: async (host, id) => (driver.details ? driver.details(host, id) : null),
            stats: async (host, id) => (driver.instanceStats ? driver.instanceStats(host, id) : null),
          }
        : null;
    this.serverActions = new ServerActions(this.deps, {
      servers: this.servers,
      flavors: this.flavors,
      keypairs: this.keypairs,
      quotas: this.quotas,
      scheduler: this.scheduler,
      hosts: this.hosts,
      actions: this.actions,
      queue: this.queue,
      image,
      network,
      calls,
      volume,
    });
    this.volumes = new ServerVolumes(this.deps, {
      servers: this.servers,
      actions: this.actions,
      queue: this.queue,
      volume,
    });
    this.groups = new ServerGroupService(this.deps, this.quotas);
    this.aggregates = new AggregateService(this.deps, () => this.scheduler.invalidate(), o.defaultAvailabilityZone);
    this.usage = new UsageService(this.deps);
    this.reports = new ComputeReports(this.deps);
    this.passwords = new ServerPasswords(this.deps);
  }

  /** Connects the image service (Glance) once it exists. */
  useImagePort(port: ComputeImagePort): void {
    this.imagePort = port;
  }

  /** Connects the network service (Neutron) once it exists. */
  useNetworkPort(port: ComputeNetworkPort): void {
    this.networkPort = port;
  }

  /** Connects the block storage service (Cinder) once it exists. */
  useVolumePort(port: ComputeVolumePort): void {
    this.volumePort = port;
  }

  get volume(): ComputeVolumePort | null {
    return this.volumePort;
  }

  /**
   * Whether the hypervisor has a volume attached to a server (restart reconciliation of attachments);
   * null when that cannot be known here (no driver, the server has no host).
   */
  async volumeAttachedOnHost(instanceId: string, volumeId: string): Promise<boolean | null> {
    if (!this.driver) return null;
    const inst = await this.deps.db
      .selectFrom('compute_instances')
      .select(['host'])
      .where('id', '=', instanceId)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (!inst) return false;
    if (!inst.host) return null;
    return (await this.driver.attachedVolumes(inst.host, instanceId)).some((v) => v.volumeId === volumeId);
  }

  /** A host's live uptime, load, free disk and memory; null when its driver does not run in this process. */
  async hostUsage(host: string): Promise<HostUsage | null> {
    return (await this.driver?.hostUsage?.(host).catch(() => null)) ?? null;
  }

  /**
   * Grows a volume attached to a server through its hypervisor; false when no guest runs (the caller grows the file).
   */
  async extendAttachedVolume(instanceId: string, volumeId: string, bytes: number): Promise<boolean> {
    if (!this.driver) return false;
    const inst = await this.deps.db
      .selectFrom('compute_instances')
      .select(['host', 'user_id', 'project_id'])
      .where('id', '=', instanceId)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (!inst?.host) return false;
    // Nova records the volume-extended event Cinder sends as the server's `extend_volume` action (Tempest waits
    // for it before looking at the guest).
    const host = inst.host;
    const actionId = await this.actions.start(this.deps.db, {
      instanceId,
      action: 'extend_volume',
      requestId: `req-${randomUUID()}`,
      userId: inst.user_id,
      projectId: inst.project_id,
      event: 'compute_extend_volume',
      host,
    });
    try {
      const grown = await this.driver.extendVolume(host, instanceId, volumeId, bytes);
      await this.actions.finish(this.deps.db, actionId);
      return grown;
    } catch (e) {
      await this.actions.finish(this.deps.db, actionId, e instanceof Error ? e.message : String(e));
      throw e;
    }
  }

  get network(): ComputeNetworkPort {
    return this.networkPort;
  }

  get image(): ComputeImagePort | null {
    return this.imagePort;
  }

  /** First-start state (default flavors) and this controller's registration. */
  async start(): Promise<void> {
    await this.flavors.ensureDefaults();
    await this.hosts.registerController(hostname());
  }
}
