// Nova's volume proxy APIs (os-volumes, os-snapshots; microversions 2.1 to 2.35): Nova's camelCase shapes over the
// block storage service, which does the work and the checks (size, quota, ownership, status). Errors keep the status
// block storage gave them; the compute API renders them in Nova's error body.
import type { AuthContext } from '../auth-context.js';
import { isCloudError } from '../../errors.js';
import type { Snapshot, Volume, VolumeService } from '../volume/index.js';

/** One attachment as Nova's proxy shows it; `{}` stands for "not attached", as Nova answers `[{}]`. */
export type NovaVolumeAttachment =
  | { id: string; volumeId: string; serverId: string; device?: string }
  | Record<string, never>;

/** A volume as Nova's os-volumes shows it (the same view for index, detail, show and create). */
export interface NovaVolume {
  id: string;
  status: string;
  size: number;
  availabilityZone: string;
  createdAt: string;
  attachments: NovaVolumeAttachment[];
  displayName: string | null;
  displayDescription: string | null;
  volumeType: string | null;
  snapshotId: string | null;
  metadata: Record<string, string>;
}

/** A volume snapshot as Nova's os-snapshots shows it. */
export interface NovaSnapshot {
  id: string;
  volumeId: string;
  status: string;
  size: number;
  createdAt: string;
  displayName: string | null;
  displayDescription: string | null;
}

/** What os-volumes create carries, already validated by the route's schema. */
export interface NovaVolumeRequest {
  size: number;
  displayName?: string;
  displayDescription?: string;
  volumeType?: string;
  snapshotId?: string;
  availabilityZone?: string;
  metadata?: Record<string, string>;
}

/** Nova's `limited()`: offset, then at most `limit` (Nova caps a page at its max_limit, 1000). */
export interface OffsetPage {
  limit?: number;
  offset?: number;
}

const MAX_LIMIT = 1000;

export class VolumeProxy {
  constructor(private readonly volume: VolumeService) {}

  private volumeView(v: Volume): NovaVolume {
    const attached = v.attachments.filter((a) => a.attachStatus === 'attached' && a.instanceId);
    return {
      id: v.id,
      status: v.status,
      size: v.size,
      availabilityZone: v.availabilityZone,
      createdAt: v.createdAt,
      attachments: attached.length
        ? attached.map((a) => ({
            id: v.id,
            volumeId: v.id,
            serverId: a.instanceId!,
            ...(a.device ? { device: a.device } : {}),
          }))
        : [{}],
      displayName: v.name,
      displayDescription: v.description,
      volumeType: v.volumeTypeName ?? v.volumeTypeId,
      snapshotId: v.snapshotId,
      metadata: v.metadata,
    };
  }

  private snapshotView(s: Snapshot): NovaSnapshot {
    return {
      id: s.id,
      volumeId: s.volumeId,
      status: s.status,
      size: s.size,
      createdAt: s.createdAt,
      displayName: s.name,
      displayDescription: s.description,
    };
  }

  async listVolumes(a: AuthContext, p: OffsetPage): Promise<NovaVolume[]> {
    const { items } = await this.volume.volumes.list(
      a,
      {},
      { sort: [], offset: p.offset, limit: Math.min(p.limit ?? MAX_LIMIT, MAX_LIMIT) },
    );
    return items.map((v) => this.volumeView(v));
  }

  async getVolume(a: AuthContext, id: string): Promise<NovaVolume> {
    return this.volumeView(await this.volume.volumes.get(a, id));
  }

  async createVolume(a: AuthContext, r: NovaVolumeRequest): Promise<NovaVolume> {
    const v = await this.volume.volumes.create(a, {
      size: r.size,
      name: r.displayName ?? null,
      description: r.displayDescription ?? null,
      volumeType: r.volumeType ?? null,
      snapshotId: r.snapshotId ?? null,
      availabilityZone: r.availabilityZone ?? null,
      metadata: r.metadata ?? {},
    });
    return this.volumeView(v);
  }

  /** Whether the caller can see the volume (a swap's new volume is a request parameter: missing is 400, not 404). */
  async volumeVisible(a: AuthContext, id: string): Promise<boolean> {
    return this.volume.volumes.get(a, id).then(
      () => true,
      (e: unknown) => {
        if (isCloudError(e) && e.status === 404) return false;
        throw e;
      },
    );
  }

  async deleteVolume(a: AuthContext, id: string): Promise<void> {
    await this.volume.volumes.delete(a, id);
  }

  async listSnapshots(a: AuthContext, p: OffsetPage): Promise<NovaSnapshot[]> {
    const { items } = await this.volume.snapshots.list(
      a,
      {},
      { sort: [], offset: p.offset, limit: Math.min(p.limit ?? MAX_LIMIT, MAX_LIMIT) },
    );
    return items.map((s) => this.snapshotView(s));
  }

  async getSnapshot(a: AuthContext, id: string): Promise<NovaSnapshot> {
    return this.snapshotView(await this.volume.snapshots.get(a, id));
  }

  /** `force` snapshots a volume that is in use, as Nova's create_snapshot_force does. */
  async createSnapshot(
    a: AuthContext,
    r: { volumeId: string; force: boolean; displayName?: string; displayDescription?: string },
  ): Promise<NovaSnapshot> {
    const s = await this.volume.snapshots.create(a, {
      volumeId: r.volumeId,
      force: r.force,
      name: r.displayName ?? null,
      description: r.displayDescription ?? null,
    });
    return this.snapshotView(s);
  }

  async deleteSnapshot(a: AuthContext, id: string): Promise<void> {
    await this.volume.snapshots.delete(a, id);
  }
}
