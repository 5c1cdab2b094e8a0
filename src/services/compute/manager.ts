import { createReadStream } from 'node:fs';
import type { Kysely } from 'kysely';
import type { InstanceRow } from '../../store/compute-tables.js';
import type { Database } from '../../store/tables.js';
import type { HostTask, TaskQueue } from '../../store/task-queue.js';
import { PowerState, type GuestSpec, type HypervisorDriver, type VolumeDisk } from '../../virt/index.js';
import { DETACH_TIMEOUT_MS, nextDevice } from './volumes.js';
import { attachMappedVolumes, isVolumeBacked, ROOT_DEVICE, volumeImageProperties } from './block-devices.js';
import { projectMemberContext } from '../auth-context.js';
import { nowIso } from './common.js';
import type { InstanceActionLog } from './instance-actions.js';
import type { TaskOutcome } from './task-log.js';
import { extras, instanceName, type BlockDevice, type FlavorSnapshot } from './model.js';
import type { ComputeImagePort, ComputeNetworkPort, ComputePort, ComputeVolumePort } from './peer-services.js';
import type { Scheduler } from './scheduler.js';
import type { ServerService } from './servers.js';

/**
 * The host side of compute (Nova's compute manager): runs one claimed task with the hypervisor driver and writes
 * the outcome back to the instance. Failures leave nothing half-made: ports are freed, the guest destroyed,
 * the instance put in ERROR with a fault.
 */
export class ComputeManager {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly driver: HypervisorDriver,
    private readonly x: {
      queue: TaskQueue;
      actions: InstanceActionLog;
      servers: ServerService;
      scheduler: Scheduler;
      image: () => ComputeImagePort | null;
      network: () => ComputeNetworkPort;
      volume?: () => ComputeVolumePort | null;
    },
  ) {}

  private spec(inst: InstanceRow, ports: ComputePort[], flavor?: FlavorSnapshot): GuestSpec {
    const f = flavor ?? extras(inst).flavor;
    return {
      instanceId: inst.id,
      name: instanceName(inst),
      hostname: inst.hostname,
      vcpus: f.vcpus,
      memoryMb: f.ram,
      rootGb: f.disk,
      imageId: inst.image_ref,
      nics: ports.map((p) => ({ portId: p.id, mac: p.mac, ips: p.fixedIps.map((i) => i.ipAddress) })),
      userData: inst.user_data,
      keyData: inst.key_data,
      metadata: extras(inst).metadata,
      configDrive: inst.config_drive === 1,
      ephemeralGb: f.ephemeral,
      swapMb: f.swap,
      shutdownTimeoutSec: shutdownTimeout(inst),
    };
  }

  /**
   * The spec plus the server's attached volumes, so a guest rebuilt from its spec (unshelve, rebuild, migrate) keeps
   * them.
   */
  private async fullSpec(inst: InstanceRow, ports: ComputePort[], flavor?: FlavorSnapshot): Promise<GuestSpec> {
    const spec = this.spec(inst, ports, flavor);
    const port = this.x.volume?.();
    if (!port) return spec;
    const volumes: VolumeDisk[] = [];
    let rootVolume: GuestSpec['rootVolume'];
    const volumeBacked = isVolumeBacked(extras(inst).blockDevices);
    for (const a of await port.ofInstance(inst.id)) {
      if (a.status !== 'attached' && a.status !== 'attaching') continue;
      const disk = { volumeId: a.volumeId, ...(await port.connection(a.volumeId)), device: a.device ?? '' };
      if (volumeBacked && a.device === ROOT_DEVICE) {
        // The boot volume is the root disk; its image metadata (kernel_id, os_command_line, ...) describes the guest.
        rootVolume = {
          ...disk,
          imageProperties: volumeImageProperties((await port.volumeState(a.volumeId))?.imageMetadata ?? {}),
        };
      } else volumes.push(disk);
    }
    return { ...spec, ...(volumes.length ? { volumes } : {}), ...(rootVolume ? { rootVolume, rootGb: 0 } : {}) };
  }

  /**
   * Creates and attaches the volumes of the server's block device mapping (boot from volume) before its first spawn.
   */
  private async prepareBlockDevices(inst: InstanceRow, host: string): Promise<void> {
    const bdms = extras(inst).blockDevices;
    if (!bdms.some((b) => b.destination_type === 'volume')) return;
    const port = this.x.volume?.();
    if (!port) throw new Error("Block storage is not available to attach the server's volumes.");
    await this.db
      .updateTable('compute_instances')
      .set({ task_state: 'block_device_mapping' })
      .where('id', '=', inst.id)
      .execute();
    const f = extras(inst).flavor;
    const own = { ephemeral: f.ephemeral > 0, swap: f.swap > 0, configDrive: inst.config_drive === 1 };
    const save = async (mapped: BlockDevice[]) => {
      await this.db
        .updateTable('compute_instances')
        .set({ block_devices: JSON.stringify(mapped) })
        .where('id', '=', inst.id)
        .execute();
    };
    const mapped = await attachMappedVolumes(
      port,
      projectMemberContext(inst.project_id, inst.user_id),
      inst,
      bdms,
      host,
      (used) => nextDevice(own, used),
      save,
    );
    await save(mapped);
    await this.db.updateTable('compute_instances').set({ task_state: 'spawning' }).where('id', '=', inst.id).execute();
  }

  private async load(id: string | null): Promise<InstanceRow | undefined> {
    if (!id) return undefined;
    return this.db
      .selectFrom('compute_instances')
      .selectAll()
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirst();
  }

  /** Writes new states (and more) unless the instance is being deleted meanwhile. */
  private async finish(task: HostTask, set: Partial<InstanceRow>, error?: string): Promise<void> {
    const actionId = String(task.payload.actionId ?? '');
    await this.db.transaction().execute(async (trx) => {
      if (task.instanceId) {
        let q = trx
          .updateTable('compute_instances')
          .set({ ...set, updated_at: nowIso() })
          .where('id', '=', task.instanceId)
          .where('deleted', '=', 0);
        if (task.kind !== 'delete')
          q = q.where((eb) => eb.or([eb('task_state', 'is', null), eb('task_state', '!=', 'deleting')]));
        await q.execute();
      }
      if (actionId) await this.x.actions.finish(trx, actionId, error);
      await this.x.queue.complete(trx, task.id);
    });
  }

  /** The driver writes the root disk to a file; it is streamed to the image service, then the driver removes it. */
  private async snapshotInto(host: string, id: string, imageId: string): Promise<void> {
    const image = this.x.image();
    if (!image) throw new Error('no image service to store the snapshot in');
    await this.driver.snapshot(host, id, async (f) => {
      const data = createReadStream(f.path);
      try {
        await image.uploadSnapshot(imageId, f.diskFormat, data, f.size);
      } finally {
        data.destroy();
      }
    });
  }

  private async power(host: string, id: string): Promise<number> {
    return (await this.driver.getInfo(host, id))?.powerState ?? PowerState.NOSTATE;
  }

  /** The request id of the API call that queued this task (its instance action's), or null. */
  async requestIdOf(task: HostTask): Promise<string | null> {
    if (typeof task.payload.requestId === 'string') return task.payload.requestId;
    const actionId = task.payload.actionId;
    return typeof actionId === 'string' ? this.x.actions.requestIdOf(actionId) : null;
  }

  /** Runs one task; never throws (failures are recorded on the instance and the task) and says how it ended. */
  async run(task: HostTask): Promise<TaskOutcome> {
    const inst = await this.load(task.instanceId);
    if (!inst) {
      await this.db.transaction().execute(async (trx) => {
        if (task.payload.actionId) await this.x.actions.finish(trx, String(task.payload.actionId));
        await this.x.queue.complete(trx, task.id);
      });
      return { result: 'skipped' };
    }
    if (inst.task_state === 'deleting' && task.kind !== 'delete') {
      await this.finish(task, {});
      return { result: 'skipped' };
    }
    const host = task.host;
    try {
      await this.execute(task, inst, host);
      return { result: 'success' };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await this.fail(task, inst, message);
      return { result: 'error', error: message };
    }
  }

  private async fail(task: HostTask, inst: InstanceRow, message: string): Promise<void> {
    const fault = JSON.stringify({ code: 500, message, created: nowIso(), details: '' });
    if (task.kind === 'spawn' || task.kind === 'unshelve' || task.kind === 'rebuild') {
      await this.driver.destroy(task.host, inst.id).catch(() => {});
      await this.finish(task, { vm_state: 'error', task_state: null, power_state: PowerState.NOSTATE, fault }, message);
    } else if (task.kind === 'delete') {
      await this.finish(task, { vm_state: 'error', task_state: null, fault }, message);
    } else {
      // Nova reverts the task state and records the fault; the guest keeps its vm_state.
      await this.finish(task, { task_state: null, fault, power_state: await this.power(task.host, inst.id) }, message);
    }
  }

  private async execute(task: HostTask, inst: InstanceRow, host: string): Promise<void> {
    const d = this.driver;
    const id = inst.id;
    const now = nowIso();
    switch (task.kind) {
      case 'spawn': {
        let ports: ComputePort[] = [];
        const net = this.x.network();
        const requested = extras(inst).requestedNetworks;
        try {
          if (Array.isArray(requested) && requested.length > 0) {
            ports = await net.allocate(
              { id, projectId: inst.project_id, userId: inst.user_id, host, hostname: inst.hostname },
              requested,
              extras(inst).securityGroups,
            );
            await this.db
              .updateTable('compute_instances')
              .set({ ports: JSON.stringify(ports), task_state: 'spawning' })
              .where('id', '=', id)
              .execute();
          }
          await this.prepareBlockDevices(inst, host);
          await d.spawn(host, await this.fullSpec((await this.load(id)) ?? inst, ports));
        } catch (e) {
          if (ports.length) await net.deallocate(id, ports).catch(() => {});
          await this.db.updateTable('compute_instances').set({ ports: '[]' }).where('id', '=', id).execute();
          throw e;
        }
        const latest = await this.load(id);
        if (!latest || latest.task_state === 'deleting') {
          await this.finish(task, {});
          return;
        }
        await this.finish(task, {
          vm_state: 'active',
          task_state: null,
          power_state: await this.power(host, id),
          launched_at: now,
          progress: 100,
        });
        return;
      }
      case 'delete': {
        await d.destroy(host, id);
        await this.x
          .volume?.()
          ?.releaseInstance(id)
          .catch(() => {});
        const ports = extras(inst).ports;
        if (ports.length)
          await this.x
            .network()
            .deallocate(id, ports)
            .catch(() => {});
        const sm = extras(inst).systemMetadata;
        if (sm.shelved_image_id)
          await this.x
            .image()
            ?.deleteImage(sm.shelved_image_id)
            .catch(() => {});
        await this.db.transaction().execute(async (trx) => {
          const cur = await trx
            .selectFrom('compute_instances')
            .selectAll()
            .where('id', '=', id)
            .where('deleted', '=', 0)
            .executeTakeFirst();
          if (cur) await this.x.servers.finalizeDelete(trx, cur);
          if (task.payload.actionId) await this.x.actions.finish(trx, String(task.payload.actionId));
          await this.x.queue.complete(trx, task.id);
        });
        return;
      }
      case 'pause':
        await d.pause(host, id);
        return this.finish(task, { vm_state: 'paused', task_state: null, power_state: await this.power(host, id) });
      case 'unpause':
        await d.unpause(host, id);
        return this.finish(task, { vm_state: 'active', task_state: null, power_state: await this.power(host, id) });
      case 'suspend':
        await d.suspend(host, id);
        return this.finish(task, { vm_state: 'suspended', task_state: null, power_state: await this.power(host, id) });
      case 'resume':
        await d.resume(host, id);
        return this.finish(task, { vm_state: 'active', task_state: null, power_state: await this.power(host, id) });
      case 'stop':
        await d.powerOff(host, id, shutdownTimeout(inst));
        return this.finish(task, {
          vm_state: 'stopped',
          task_state: null,
          power_state: await this.power(host, id),
          progress: 0,
        });
      case 'start':
        await d.powerOn(host, id);
        return this.finish(task, { vm_state: 'active', task_state: null, power_state: await this.power(host, id) });
      case 'reboot':
        await d.reboot(host, id, task.payload.type === 'HARD' ? 'HARD' : 'SOFT');
        return this.finish(task, { vm_state: 'active', task_state: null, power_state: await this.power(host, id) });
      case 'rebuild': {
        await d.destroy(host, id);
        await d.spawn(host, await this.fullSpec(inst, extras(inst).ports));
        const wasStopped = task.payload.previousVmState === 'stopped';
        if (wasStopped) await d.powerOff(host, id, 0);
        return this.finish(task, {
          vm_state: wasStopped ? 'stopped' : 'active',
          task_state: null,
          power_state: await this.power(host, id),
          launched_at: now,
        });
      }
      case 'rescue':
        await d.rescue(host, id, String(task.payload.rescueImage ?? inst.image_ref));
        return this.finish(task, { vm_state: 'rescued', task_state: null, power_state: await this.power(host, id) });
      case 'unrescue':
        await d.unrescue(host, id);
        return this.finish(task, { vm_state: 'active', task_state: null, power_state: await this.power(host, id) });
      case 'snapshot': {
        const imageId = String(task.payload.imageId);
        try {
          await this.snapshotInto(host, id, imageId);
        } catch (e) {
          await this.x
            .image()
            ?.deleteImage(imageId)
            .catch(() => {});
          throw e;
        }
        if (task.payload.backupType !== undefined)
          await this.rotateBackups(id, String(task.payload.backupType), Number(task.payload.rotation ?? 0));
        return this.finish(task, { task_state: null });
      }
      case 'shelve': {
        const imageId = task.payload.imageId ? String(task.payload.imageId) : null;
        if (imageId) await this.snapshotInto(host, id, imageId);
        await d.powerOff(host, id, 0);
        return this.offload(task, inst, host, imageId);
      }
      case 'shelve_offload':
        return this.offload(task, inst, host, extras(inst).systemMetadata.shelved_image_id ?? null);
      case 'unshelve': {
        const sm = extras(inst).systemMetadata;
        await d.spawn(host, {
          ...(await this.fullSpec(inst, extras(inst).ports)),
          imageId: sm.shelved_image_id ?? inst.image_ref,
        });
        const { shelved_image_id: shelvedImage, shelved_at: _s, ...rest } = sm;
        if (shelvedImage)
          await this.x
            .image()
            ?.deleteImage(shelvedImage)
            .catch(() => {});
        return this.finish(task, {
          vm_state: 'active',
          task_state: null,
          power_state: await this.power(host, id),
          system_metadata: JSON.stringify(rest),
        });
      }
      case 'resize': {
        const next = JSON.parse(inst.new_flavor ?? inst.flavor) as FlavorSnapshot;
        const sm = extras(inst).systemMetadata;
        const dest = sm.dest_host ?? host;
        await d.migrate(host, id, dest, await this.fullSpec(inst, extras(inst).ports, next));
        if (sm.migration_id)
          await this.db
            .updateTable('compute_migrations')
            .set({ status: 'finished', updated_at: nowIso() })
            .where('id', '=', Number(sm.migration_id))
            .execute();
        return this.finish(task, {
          vm_state: 'resized',
          task_state: null,
          host: dest,
          node: sm.dest_node ?? dest,
          flavor: JSON.stringify(next),
          flavor_id: next.id,
          vcpus: next.vcpus,
          memory_mb: next.ram,
          root_gb: next.disk + next.ephemeral,
          power_state: await this.power(dest, id),
        });
      }
      case 'revert_resize': {
        const sm = extras(inst).systemMetadata;
        const from = sm.dest_host ?? host;
        await d.migrate(from, id, inst.host ?? host, await this.fullSpec(inst, extras(inst).ports));
        const oldVm = sm.old_vm_state === 'stopped' ? 'stopped' : 'active';
        if (oldVm === 'stopped') await d.powerOff(inst.host ?? host, id, 0);
        if (sm.migration_id)
          await this.db
            .updateTable('compute_migrations')
            .set({ status: 'reverted', updated_at: nowIso() })
            .where('id', '=', Number(sm.migration_id))
            .execute();
        const {
          old_vm_state: _a,
          migration_id: _m,
          source_host: _s,
          source_node: _n,
          dest_host: _d,
          dest_node: _dn,
          ...rest
        } = sm;
        return this.finish(task, {
          vm_state: oldVm,
          task_state: null,
          system_metadata: JSON.stringify(rest),
          power_state: await this.power(inst.host ?? host, id),
        });
      }
      case 'live_migrate': {
        const sm = extras(inst).systemMetadata;
        const dest = sm.dest_host!;
        await d.migrate(host, id, dest, await this.fullSpec(inst, extras(inst).ports));
        const { migration_id: migId, dest_host: _d, dest_node: destNode, ...rest } = sm;
        await this.db.transaction().execute(async (trx) => {
          await this.x.scheduler.release(trx, host, {
            vcpus: inst.vcpus,
            memoryMb: inst.memory_mb,
            diskGb: inst.root_gb,
          });
          if (migId)
            await trx
              .updateTable('compute_migrations')
              .set({ status: 'completed', updated_at: nowIso() })
              .where('id', '=', Number(migId))
              .execute();
        });
        return this.finish(task, {
          task_state: null,
          host: dest,
          node: destNode ?? dest,
          system_metadata: JSON.stringify(rest),
        });
      }
      case 'attach_interface': {
        const p = task.payload.port as ComputePort;
        await d.attachInterface(host, id, { portId: p.id, mac: p.mac, ips: p.fixedIps.map((i) => i.ipAddress) });
        return this.finish(task, {});
      }
      case 'detach_interface': {
        const p = task.payload.port as ComputePort;
        await d.detachInterface(host, id, p.id).catch(() => {});
        await this.x
          .network()
          .deallocate(id, [p])
          .catch(() => {});
        return this.finish(task, {});
      }
      case 'attach_volume': {
        const port = this.x.volume?.();
        const attachmentId = String(task.payload.attachmentId);
        const disk = task.payload.disk as VolumeDisk;
        // Settled meanwhile (a restart's reconciliation removed it): attaching now would leave a device nobody knows.
        const still = (await port?.ofInstance(id))?.find(
          (a) => a.attachmentId === attachmentId && a.status === 'attaching',
        );
        if (!still) return this.finish(task, {}, `Volume attachment ${attachmentId} was cancelled.`);
        try {
          await d.attachVolume(host, id, disk);
        } catch (e) {
          // QEMU refused the device: the volume goes back to available, the reason is a user message.
          const message = `Failed to attach volume ${disk.volumeId}: ${e instanceof Error ? e.message : String(e)}`;
          await port?.rollback(attachmentId, message);
          return this.finish(task, {}, message);
        }
        await port?.complete(attachmentId, disk.device, host);
        return this.finish(task, {});
      }
      case 'detach_volume': {
        const port = this.x.volume?.();
        const attachmentId = String(task.payload.attachmentId);
        try {
          await d.detachVolume(
            host,
            id,
            String(task.payload.volumeId),
            Number(task.payload.timeoutMs ?? DETACH_TIMEOUT_MS),
          );
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          await port?.rollDetach(attachmentId, message);
          return this.finish(task, {}, message);
        }
        await port?.finishDetach(attachmentId);
        return this.finish(task, {});
      }
      default:
        throw new Error(`unknown task kind ${task.kind}`);
    }
  }

  /** Shelve offload: the guest goes, the host's claim is released, the instance keeps its ports. */
  /**
   * Keeps the `rotation` newest backups of `backupType` for an instance and deletes the older ones (Nova's
   * _rotate_backups).
   */
  private async rotateBackups(instanceId: string, backupType: string, rotation: number): Promise<void> {
    const port = this.x.image();
    if (!port?.listBackups) return;
    const backups = await port.listBackups(instanceId, backupType);
    for (const b of backups.slice(Math.max(0, rotation))) await port.deleteImage(b.id);
  }

  private async offload(task: HostTask, inst: InstanceRow, host: string, imageId: string | null): Promise<void> {
    await this.driver.destroy(host, inst.id);
    const sm = {
      ...extras(inst).systemMetadata,
      ...(imageId ? { shelved_image_id: imageId } : {}),
      shelved_at: nowIso(),
    };
    await this.db.transaction().execute(async (trx) => {
      await this.x.scheduler.release(trx, host, { vcpus: inst.vcpus, memoryMb: inst.memory_mb, diskGb: inst.root_gb });
      await trx
        .updateTable('compute_instances')
        .set({
          vm_state: 'shelved_offloaded',
          task_state: null,
          power_state: PowerState.SHUTDOWN,
          host: null,
          node: null,
          system_metadata: JSON.stringify(sm),
          updated_at: nowIso(),
        })
        .where('id', '=', inst.id)
        .execute();
      if (task.payload.actionId) await this.x.actions.finish(trx, String(task.payload.actionId));
      await this.x.queue.complete(trx, task.id);
    });
  }
}

/** Nova's default grace for a clean guest shutdown (its `shutdown_timeout`), in seconds. */
const DEFAULT_SHUTDOWN_TIMEOUT_SEC = 60;

/**
 * How long a guest may take to shut down cleanly: the image's `os_shutdown_timeout` property when it is a
 * non-negative integer (0: power off at once), as Nova honours it, else the default.
 */
export function shutdownTimeout(inst: InstanceRow): number {
  const raw = extras(inst).systemMetadata.image_os_shutdown_timeout;
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : DEFAULT_SHUTDOWN_TIMEOUT_SEC;
}
