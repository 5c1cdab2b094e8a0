// os-volume_attachments: attach a volume to a server (reserve in block storage, then the host hot-plugs it through
// the task queue) and detach it (the host waits for the guest). The device name is chosen here, as Nova does.
import type { AuthContext } from '../auth-context.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import type { ComputeDeps } from './common.js';
import { nowIso } from './common.js';
import type { InstanceActionLog } from './instance-actions.js';
import type { TaskQueue } from '../../store/task-queue.js';
import type { ServerService } from './servers.js';
import { checkState } from './states.js';
import { extras } from './model.js';
import { bootDevice } from './block-devices.js';
import type { ComputeVolumeAttachment, ComputeVolumePort } from './peer-services.js';

/** How long a detach waits for the guest to release the device before it is reported as failed. */
export const DETACH_TIMEOUT_MS = 60_000;

/** The next free /dev/vdX after the server's own disks (root, ephemeral, swap, config drive) and its volumes. */
export function nextDevice(
  own: { ephemeral: boolean; swap: boolean; configDrive: boolean },
  used: (string | null)[],
): string {
  const taken = new Set<string>(['vda']);
  let n = 1;
  for (const has of [own.ephemeral, own.swap, own.configDrive])
    if (has) taken.add(`vd${String.fromCharCode(97 + n++)}`);
  for (const d of used) if (d) taken.add(d.replace(/^\/dev\//, ''));
  for (let i = 1; i < 26; i++) {
    const name = `vd${String.fromCharCode(97 + i)}`;
    if (!taken.has(name)) return `/dev/${name}`;
  }
  throw badRequest('No free device name left on this server.');
}

export class ServerVolumes {
  constructor(
    private readonly d: ComputeDeps,
    private readonly x: {
      servers: ServerService;
      actions: InstanceActionLog;
      queue: TaskQueue;
      volume: () => ComputeVolumePort | null;
    },
  ) {}

  private port(): ComputeVolumePort {
    const p = this.x.volume();
    if (!p) throw badRequest('Block storage is not available in this cloud.');
    return p;
  }

  async list(ctx: AuthContext, serverId: string): Promise<ComputeVolumeAttachment[]> {
    await this.x.servers.get(ctx, serverId);
    const p = this.x.volume();
    return p ? (await p.ofInstance(serverId)).filter((a) => a.status !== 'detached') : [];
  }

  async get(ctx: AuthContext, serverId: string, volumeId: string): Promise<ComputeVolumeAttachment> {
    const a = (await this.list(ctx, serverId)).find((x) => x.volumeId === volumeId);
    if (!a)
      throw notFound(`Instance ${serverId} is not attached to volume ${volumeId}.`, { code: 'VolumeBDMNotFound' });
    return a;
  }

  async attach(
    ctx: AuthContext,
    rid: string,
    serverId: string,
    req: { volumeId: string; tag?: string | null; deleteOnTermination?: boolean },
  ): Promise<ComputeVolumeAttachment> {
    const port = this.port();
    const inst = await this.x.servers.get(ctx, serverId);
    this.x.servers.checkLocked(ctx, inst);
    checkState('attach_volume', inst);
    const f = extras(inst).flavor;
    const existing = await port.ofInstance(serverId);
    const device = nextDevice(
      { ephemeral: f.ephemeral > 0, swap: f.swap > 0, configDrive: inst.config_drive === 1 },
      existing.map((a) => a.device),
    );
    const r = await port.reserve(ctx, req.volumeId, serverId, {
      device,
      tag: req.tag ?? null,
      deleteOnTermination: !!req.deleteOnTermination,
    });
    try {
      if (!inst.host) {
        // A shelved-offloaded server has no host: the volume is attached in the records and plugged at unshelve.
        await port.complete(r.attachment.attachmentId, device, null);
        return { ...r.attachment, status: 'attached' };
      }
      await this.d.db.transaction().execute(async (trx) => {
        const a = await this.x.actions.start(trx, {
          instanceId: serverId,
          action: 'attach_volume',
          requestId: rid,
          userId: ctx.userId,
          projectId: inst.project_id,
          event: 'compute_attach_volume',
          host: inst.host,
        });
        await this.x.queue.enqueue(trx, {
          host: inst.host!,
          kind: 'attach_volume',
          instanceId: serverId,
          payload: {
            actionId: a,
            attachmentId: r.attachment.attachmentId,
            disk: {
              volumeId: req.volumeId,
              path: r.path,
              format: r.format,
              device,
              readOnly: r.readonly,
              ...(r.ioLimits ? { ioLimits: r.ioLimits } : {}),
            },
          },
        });
        await trx.updateTable('compute_instances').set({ updated_at: nowIso() }).where('id', '=', serverId).execute();
      });
    } catch (e) {
      await port.rollback(r.attachment.attachmentId).catch(() => {});
      throw e;
    }
    this.x.queue.notify();
    return r.attachment;
  }

  async detach(ctx: AuthContext, rid: string, serverId: string, volumeId: string): Promise<void> {
    const port = this.port();
    const inst = await this.x.servers.get(ctx, serverId);
    this.x.servers.checkLocked(ctx, inst);
    checkState('detach_volume', inst);
    const att = (await port.ofInstance(serverId)).find((a) => a.volumeId === volumeId);
    if (!att)
      throw notFound(`Instance ${serverId} is not attached to volume ${volumeId}.`, { code: 'VolumeBDMNotFound' });
    if (att.status !== 'attached')
      throw badRequest(`Invalid volume: Volume ${volumeId} is ${att.status}, it cannot be detached now.`);
    const boot = bootDevice(extras(inst).blockDevices);
    if (boot?.destination_type === 'volume' && (boot.volume_id ?? boot.uuid) === volumeId) {
      throw badRequest(`Can't detach root device volume`);
    }
    await port.beginDetach(att.attachmentId);
    if (!inst.host) {
      await port.finishDetach(att.attachmentId);
      return;
    }
    try {
      await this.d.db.transaction().execute(async (trx) => {
        const a = await this.x.actions.start(trx, {
          instanceId: serverId,
          action: 'detach_volume',
          requestId: rid,
          userId: ctx.userId,
          projectId: inst.project_id,
          event: 'compute_detach_volume',
          host: inst.host,
        });
        await this.x.queue.enqueue(trx, {
          host: inst.host!,
          kind: 'detach_volume',
          instanceId: serverId,
          payload: { actionId: a, attachmentId: att.attachmentId, volumeId },
        });
      });
    } catch (e) {
      await port.rollDetach(att.attachmentId, (e as Error).message).catch(() => {});
      throw e;
    }
    this.x.queue.notify();
  }

  /** Changes delete_on_termination of an attachment (2.85); swapping to another volume is not offered. */
  async update(
    ctx: AuthContext,
    serverId: string,
    volumeId: string,
    newVolumeId: string,
  ): Promise<ComputeVolumeAttachment> {
    const a = await this.get(ctx, serverId, volumeId);
    if (newVolumeId !== volumeId) throw conflict('Swapping a volume for another is not offered by this cloud.');
    return a;
  }
}
