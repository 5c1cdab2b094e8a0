// Block storage as compute sees it (Nova's cinder client): reserve, complete, roll back, detach, release.
import type { AuthContext } from '../auth-context.js';
import type { ComputeVolumeAttachment, ComputeVolumeInfo, ComputeVolumePort } from '../compute/peer-services.js';
import type { VolumeAttachment } from './model.js';
import type { Attachments } from './attachments.js';
import type { Volumes } from './volumes.js';
import type { Snapshots } from './snapshots.js';
import type { QosSpecsService } from './qos-specs.js';
import { isCloudError } from '../../errors.js';

/** The volume service acting on its own behalf (deleting delete_on_termination volumes of a deleted server). */
export const VOLUME_SERVICE: AuthContext = {
  tokenHash: '',
  userId: 'gureum-volume',
  userName: 'gureum-volume',
  userDomainId: 'default',
  userDomainName: 'Default',
  system: true,
  roles: [{ id: 'admin', name: 'admin' }],
  roleNames: new Set(['admin', 'member', 'reader']),
  methods: [],
  auditIds: [],
  issuedAt: '',
  expiresAt: '',
};

const view = (a: VolumeAttachment): ComputeVolumeAttachment => ({
  attachmentId: a.id,
  volumeId: a.volumeId,
  instanceId: a.instanceId ?? '',
  device: a.device,
  tag: a.tag,
  deleteOnTermination: a.deleteOnTermination,
  status: a.attachStatus,
});

export class VolumeComputePort implements ComputeVolumePort {
  constructor(
    private readonly attachments: Attachments,
    private readonly volumes: Volumes,
    private readonly snapshots: Snapshots,
    private readonly qos: QosSpecsService,
  ) {}

  /** The front-end QoS limits of the volume's type at its current size (none when the volume is gone). */
  private async ioLimits(volumeId: string) {
    const v = await orNull(this.volumes.get(VOLUME_SERVICE, volumeId));
    const limits = v && (await this.qos.frontEndLimits(v.volumeTypeId, v.size));
    return limits ? { ioLimits: limits } : {};
  }

  async reserve(
    ctx: AuthContext,
    volumeId: string,
    instanceId: string,
    opts: { device: string; tag: string | null; deleteOnTermination: boolean },
  ) {
    const r = await this.attachments.reserve(ctx, volumeId, instanceId, opts);
    return {
      attachment: view(r.attachment),
      path: r.connection.path,
      format: r.connection.format,
      readonly: r.readonly,
      ...(await this.ioLimits(volumeId)),
    };
  }

  complete(attachmentId: string, device: string, host: string | null): Promise<void> {
    return this.attachments.complete(attachmentId, device, host);
  }

  rollback(attachmentId: string, reason?: string): Promise<void> {
    return this.attachments.rollback(attachmentId, reason);
  }

  beginDetach(attachmentId: string): Promise<void> {
    return this.attachments.beginDetach(attachmentId);
  }

  finishDetach(attachmentId: string): Promise<void> {
    return this.attachments.finishDetach(attachmentId);
  }

  rollDetach(attachmentId: string, reason: string): Promise<void> {
    return this.attachments.rollDetach(attachmentId, reason);
  }

  async ofInstance(instanceId: string): Promise<ComputeVolumeAttachment[]> {
    return (await this.attachments.ofInstance(instanceId)).map(view);
  }

  async ofInstances(instanceIds: string[]): Promise<Map<string, ComputeVolumeAttachment[]>> {
    const out = new Map<string, ComputeVolumeAttachment[]>();
    for (const a of await this.attachments.ofInstances(instanceIds)) {
      const list = out.get(a.instanceId ?? '') ?? [];
      list.push(view(a));
      out.set(a.instanceId ?? '', list);
    }
    return out;
  }

  async connection(volumeId: string) {
    const c = this.attachments.connection(volumeId);
    return { path: c.path, format: c.format, ...(await this.ioLimits(volumeId)) };
  }

  async describeVolume(ctx: AuthContext, volumeId: string): Promise<ComputeVolumeInfo | null> {
    const v = await orNull(this.volumes.get(ctx, volumeId));
    return v && { id: v.id, status: v.status, size: v.size, bootable: v.bootable, imageMetadata: v.imageMetadata };
  }

  async describeSnapshot(
    ctx: AuthContext,
    snapshotId: string,
  ): Promise<{ id: string; status: string; size: number } | null> {
    const s = await orNull(this.snapshots.get(ctx, snapshotId));
    return s && { id: s.id, status: s.status, size: s.size };
  }

  async createVolume(
    ctx: AuthContext,
    spec: { size: number | null; name: string; imageId?: string | null; snapshotId?: string | null },
  ): Promise<string> {
    const v = await this.volumes.create(ctx, {
      size: spec.size,
      name: spec.name,
      imageId: spec.imageId ?? null,
      snapshotId: spec.snapshotId ?? null,
    });
    return v.id;
  }

  async volumeState(volumeId: string): Promise<{ status: string; imageMetadata: Record<string, string> } | null> {
    const v = await orNull(this.volumes.get(VOLUME_SERVICE, volumeId));
    return v && { status: v.status, imageMetadata: v.imageMetadata };
  }

  async snapshotAttached(ctx: AuthContext, volumeId: string, name: string): Promise<{ id: string; size: number }> {
    const s = await this.snapshots.create(ctx, { volumeId, name, force: true, inUseAllowed: true });
    return { id: s.id, size: s.size };
  }

  async releaseInstance(instanceId: string): Promise<void> {
    await this.attachments.releaseInstance(instanceId, (volumeId) => this.volumes.delete(VOLUME_SERVICE, volumeId));
  }
}

/** A lookup that answers null for "not found" and rethrows anything else. */
async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (isCloudError(e) && e.status === 404) return null;
    throw e;
  }
}
