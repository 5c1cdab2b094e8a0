// Volumes: create (blank, from image, snapshot or volume), list, show, update, delete, metadata and the
// volume actions that do not involve a server. Byte work runs in the background (status `creating` → `available`
// or `error`, as Cinder's volume manager does); the record and the quota are settled in one transaction first.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import { uuid } from '../../util/ids.js';
import type { BackendStats } from './backend-stats.js';
import { fromJson } from '../../util/json.js';
import type { VolumeBackend } from '../../storage/volume-backend.js';
import { attachmentOf, now, volumeOf, type Volume, type VolumeType } from './model.js';
import { assertVolumeStatus, VOLUME_STATUSES } from './states.js';
import type { VolumeQuotas } from './quotas.js';
import type { VolumeTypes } from './types.js';
import type { VolumeImagePort } from './images.js';
import { page, type ListOptions } from './paging.js';
import type { Messages } from './messages.js';
import { applyRecovery, VOLUME_RECOVERY } from './recovery.js';

const GiB = 1024 ** 3;

/** The one availability zone of this cloud (Cinder's default storage_availability_zone). */
export const VOLUME_AZ = 'nova';

/** What POST /volumes asks for, already type-checked by the API. */
export interface VolumeCreateSpec {
  size: number | null;
  name?: string | null;
  description?: string | null;
  volumeType?: string | null;
  availabilityZone?: string | null;
  snapshotId?: string | null;
  sourceVolid?: string | null;
  imageId?: string | null;
  metadata?: Record<string, string>;
  multiattach?: boolean;
}

export interface VolumeListFilters {
  allTenants?: boolean;
  projectId?: string;
  name?: string;
  nameLike?: string;
  status?: string;
  bootable?: boolean;
  availabilityZone?: string;
  metadata?: Record<string, string>;
  volumeType?: string;
}

export const VOLUME_SORT_KEYS = [
  'id',
  'name',
  'size',
  'status',
  'created_at',
  'updated_at',
  'availability_zone',
  'bootable',
  'project_id',
  'volume_type',
] as const;

/** Work other parts register to run in the background; tracked so shutdown and tests can wait for it. */
export interface Background {
  run(what: string, work: () => Promise<void>): void;
}

export interface VolumesDeps {
  db: Kysely<Database>;
  backend: VolumeBackend;
  /** Whether a type's extra specs fit the backend (Cinder's scheduler filters). */
  stats: Pick<BackendStats, 'unplaceable'>;
  types: VolumeTypes;
  quotas: VolumeQuotas;
  images: VolumeImagePort;
  messages: Messages;
  background: Background;
  /** Cinder's host@backend#pool of this cloud's one backend. */
  host: string;
}

export class Volumes {
  constructor(private readonly d: VolumesDeps) {}

  /** The record with its type name and attachments. */
  async render(ids: string[]): Promise<Volume[]> {
    if (ids.length === 0) return [];
    const rows = await this.d.db.selectFrom('volume_volumes').selectAll().where('id', 'in', ids).execute();
    const types = new Map(
      (await this.d.db.selectFrom('volume_types').select(['id', 'name']).execute()).map((t) => [t.id, t.name]),
    );
    const atts = await this.d.db.selectFrom('volume_attachments').selectAll().where('volume_id', 'in', ids).execute();
    const byId = new Map(
      rows.map((r) => [
        r.id,
        volumeOf(r, types.get(r.volume_type_id) ?? null, atts.filter((x) => x.volume_id === r.id).map(attachmentOf)),
      ]),
    );
    return ids.map((id) => byId.get(id)).filter((v): v is Volume => !!v);
  }

  /** A volume the caller may see; 404 otherwise (never 403: others' ids are not confirmed). */
  async get(a: AuthContext, id: string): Promise<Volume> {
    const [v] = await this.render([id]);
    if (!v || (!isAdmin(a) && v.projectId !== a.projectId)) throw notFound(`Volume ${id} could not be found.`);
    return v;
  }

  async list(a: AuthContext, f: VolumeListFilters, opts: ListOptions): Promise<{ items: Volume[]; more: boolean }> {
    let q = this.d.db.selectFrom('volume_volumes').select('id');
    const admin = isAdmin(a);
    if (!admin || !f.allTenants) q = q.where('project_id', '=', a.projectId ?? '');
    if (admin && f.projectId) q = q.where('project_id', '=', f.projectId);
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    if (f.availabilityZone !== undefined) q = q.where('availability_zone', '=', f.availabilityZone);
    if (f.bootable !== undefined) q = q.where('bootable', '=', f.bootable ? 1 : 0);
    const ids = (await q.execute()).map((r) => r.id);
    let items = await this.render(ids);
    if (f.nameLike !== undefined) items = items.filter((v) => (v.name ?? '').includes(f.nameLike!));
    if (f.metadata) items = items.filter((v) => Object.entries(f.metadata!).every(([k, val]) => v.metadata[k] === val));
    if (f.volumeType !== undefined)
      items = items.filter((v) => v.volumeTypeId === f.volumeType || v.volumeTypeName === f.volumeType);
    return page(items, opts, (v, k) =>
      k === 'volume_type'
        ? v.volumeTypeName
        : k === 'project_id'
          ? v.projectId
          : k === 'created_at'
            ? v.createdAt
            : k === 'updated_at'
              ? v.updatedAt
              : k === 'availability_zone'
                ? v.availabilityZone
                : (v as unknown as Record<string, unknown>)[k],
    );
  }

  /** Total count and GiB of what the caller would list, and the union of metadata (volumes/summary). */
  async summary(
    a: AuthContext,
    allTenants: boolean,
  ): Promise<{ totalSize: number; totalCount: number; metadata: Record<string, string[]> }> {
    const { items } = await this.list(a, { allTenants }, { sort: [] });
    const metadata: Record<string, string[]> = {};
    for (const v of items)
      for (const [k, val] of Object.entries(v.metadata)) (metadata[k] ??= []).includes(val) || metadata[k]!.push(val);
    return { totalSize: items.reduce((s, v) => s + v.size, 0), totalCount: items.length, metadata };
  }

  async create(a: AuthContext, spec: VolumeCreateSpec): Promise<Volume> {
    if (!a.projectId) throw badRequest('A project-scoped token is needed to create a volume.');
    let size = spec.size;
    const az = spec.availabilityZone ?? VOLUME_AZ;
    if (az !== VOLUME_AZ) throw badRequest(`Invalid input received: Availability zone '${az}' is invalid.`);
    let type: VolumeType | null = spec.volumeType ? await this.d.types.get(a, spec.volumeType) : null;
    let bootable = false;
    let imageMeta: Record<string, string> = {};
    let source:
      | { kind: 'blank' }
      | { kind: 'snapshot'; id: string }
      | { kind: 'volume'; id: string }
      | { kind: 'image'; id: string } = { kind: 'blank' };
    if ([spec.snapshotId, spec.sourceVolid, spec.imageId].filter((x) => x).length > 1) {
      throw badRequest(
        'Invalid input received: Only one of snapshot_id, source_volid, imageRef (or backup_id) may be given.',
      );
    }
    if (spec.snapshotId) {
      const s = await this.d.db
        .selectFrom('volume_snapshots')
        .selectAll()
        .where('id', '=', spec.snapshotId)
        .executeTakeFirst();
      if (!s || (!isAdmin(a) && s.project_id !== a.projectId))
        throw notFound(`Snapshot ${spec.snapshotId} could not be found.`);
      if (s.status !== 'available')
        throw badRequest(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
      size ??= s.size;
      if (size < s.size)
        throw badRequest(
          `Invalid input received: Volume size '${size}'GB cannot be smaller than the snapshot size ${s.size}GB. ` +
            `They must be >= original snapshot size.`,
        );
      type ??= await this.d.types.find(s.volume_type_id);
      const src = await this.d.db
        .selectFrom('volume_volumes')
        .select(['bootable', 'image_metadata'])
        .where('id', '=', s.volume_id)
        .executeTakeFirst();
      bootable = src?.bootable === 1;
      imageMeta = src ? (JSON.parse(src.image_metadata) as Record<string, string>) : {};
      source = { kind: 'snapshot', id: s.id };
    } else if (spec.sourceVolid) {
      const src = await this.get(a, spec.sourceVolid).catch(() => {
        throw notFound(`Volume ${spec.sourceVolid} could not be found.`);
      });
      assertVolumeStatus(
        'clone',
        src.status,
        `Invalid volume: Source volume status must be available or in-use, but it is ${src.status}.`,
      );
      size ??= src.size;
      if (size < src.size)
        throw badRequest(
          `Invalid input received: Volume size '${size}'GB cannot be smaller than original volume size ` +
            `${src.size}GB. They must be >= original volume size.`,
        );
      type ??= await this.d.types.find(src.volumeTypeId);
      bootable = src.bootable;
      imageMeta = src.imageMetadata;
      source = { kind: 'volume', id: src.id };
    } else if (spec.imageId) {
      const img = await this.d.images.describe(a, spec.imageId);
      if (img.status !== 'active')
        throw badRequest(
          `Invalid image identifier or unable to access requested image. Image ${img.id} is not active.`,
        );
      if (size === null)
        throw badRequest('Invalid input received: size is required when creating a volume from an image.');
      const imageGb = Math.ceil(Math.max(img.virtualSize ?? 0, img.size ?? 0) / GiB);
      if (imageGb > size)
        throw badRequest(
          `Invalid input received: Size of specified image ${imageGb}GB is larger than volume size ${size}GB.`,
        );
      if (img.minDisk > size)
        throw badRequest(
          `Invalid input received: Volume size ${size}GB cannot be smaller than the image minDisk size ` +
            `${img.minDisk}GB.`,
        );
      bootable = true;
      imageMeta = {
        ...img.properties,
        image_id: img.id,
        image_name: img.name ?? '',
        checksum: img.checksum ?? '',
        container_format: img.containerFormat ?? '',
        disk_format: img.diskFormat ?? '',
        min_disk: String(img.minDisk),
        min_ram: String(img.minRam),
        size: String(img.size ?? 0),
      };
      source = { kind: 'image', id: img.id };
    }
    if (size === null || size === undefined) throw badRequest("Invalid input received: 'size' is a required property");
    type ??= await this.d.types.defaultType();
    const id = uuid();
    const t = now();
    const volumeType = type;
    const finalSize = size;
    await this.d.db.transaction().execute(async (tx) => {
      await this.d.quotas.check(tx, a.projectId!, 'volumes', volumeType.name, finalSize);
      await tx
        .insertInto('volume_volumes')
        .values({
          id,
          project_id: a.projectId!,
          user_id: a.userId,
          name: spec.name ?? null,
          description: spec.description ?? null,
          size: finalSize,
          status: 'creating',
          attach_status: 'detached',
          migration_status: null,
          availability_zone: az,
          volume_type_id: volumeType.id,
          snapshot_id: spec.snapshotId ?? null,
          source_volid: spec.sourceVolid ?? null,
          image_id: spec.imageId ?? null,
          bootable: bootable ? 1 : 0,
          readonly: 0,
          multiattach: spec.multiattach ? 1 : 0,
          metadata: JSON.stringify(spec.metadata ?? {}),
          admin_metadata: '{}',
          image_metadata: JSON.stringify(imageMeta),
          host: this.d.host,
          disk_format: this.d.backend.format,
          created_at: t,
          updated_at: t,
        })
        .execute();
    });
    const bytes = finalSize * GiB;
    this.d.background.run(`create volume ${id}`, async () => {
      try {
        const unplaceable = await this.d.stats.unplaceable(volumeType.extraSpecs);
        if (unplaceable) throw new Error(unplaceable);
        if (source.kind === 'blank') await this.d.backend.createBlank(id, bytes);
        else if (source.kind === 'snapshot') await this.d.backend.createFromSnapshot(id, source.id, bytes);
        else if (source.kind === 'volume') await this.d.backend.cloneVolume(id, source.id, bytes);
        else {
          const file = await this.d.images.fetch(source.id);
          if (file.virtualSize > bytes)
            throw new Error(
              `Image virtual size is ${Math.ceil(file.virtualSize / GiB)}GB and doesn't fit in a volume of size ` +
                `${finalSize}GB.`,
            );
          await this.d.backend.createFromImage(id, file, bytes);
        }
        await this.setStatus(id, 'available', ['creating']);
      } catch (e) {
        // Remove what the backend may have half made; the volume goes to error below whatever this answers.
        await this.d.backend.deleteVolume(id).catch(() => {});
        await this.setStatus(id, 'error', ['creating']);
        await this.d.messages.record(a.projectId!, 'VOLUME', id, 'CREATE_VOLUME', (e as Error).message);
      }
    });
    return this.get(a, id);
  }

  /** Moves a volume to `status` only from one of `from` (compare-and-set, so racing changes do not cross). */
  async setStatus(
    id: string,
    status: string,
    from?: string[],
    extra: Partial<Database['volume_volumes']> = {},
  ): Promise<boolean> {
    let q = this.d.db
      .updateTable('volume_volumes')
      .set({ status, updated_at: now(), ...extra })
      .where('id', '=', id);
    if (from) q = q.where('status', 'in', from);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async update(
    a: AuthContext,
    id: string,
    spec: { name?: string | null; description?: string | null; metadata?: Record<string, string> },
  ): Promise<Volume> {
    await this.get(a, id);
    await this.d.db
      .updateTable('volume_volumes')
      .set({
        ...(spec.name !== undefined ? { name: spec.name } : {}),
        ...(spec.description !== undefined ? { description: spec.description } : {}),
        ...(spec.metadata !== undefined ? { metadata: JSON.stringify(spec.metadata) } : {}),
        updated_at: now(),
      })
      .where('id', '=', id)
      .execute();
    return this.get(a, id);
  }

  /**
   * DELETE /volumes/{id}: refused while attached or with snapshots (unless cascade); `force` (admin) ignores status.
   */
  async delete(a: AuthContext, id: string, opts: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
    const v = await this.get(a, id);
    if (v.attachments.some((x) => x.attachStatus !== 'detached') || v.attachStatus === 'attached') {
      throw badRequest(
        'Invalid volume: Volume status must be available or error or error_restoring or error_extending or ' +
          'error_managing and must not be migrating, attached, belong to a group, have snapshots or be ' +
          'disassociated from snapshots after volume transfer.',
      );
    }
    if (!opts.force) {
      assertVolumeStatus(
        'delete',
        v.status,
        'Invalid volume: Volume status must be available or error or error_restoring or error_extending or ' +
          'error_managing and must not be migrating, attached, belong to a group, have snapshots or be ' +
          'disassociated from snapshots after volume transfer.',
      );
    }
    const snaps = await this.d.db
      .selectFrom('volume_snapshots')
      .select(['id', 'status'])
      .where('volume_id', '=', id)
      .execute();
    if (snaps.length && !opts.cascade)
      throw badRequest('Invalid volume: Volume still has 1 dependent snapshots.'.replace('1', String(snaps.length)));
    if (opts.cascade && snaps.some((s) => !['available', 'error'].includes(s.status)))
      throw badRequest('Invalid volume: Snapshot of volume not in a deletable state.');
    if (!(await this.setStatus(id, 'deleting', opts.force ? undefined : [v.status])))
      throw badRequest(`Invalid volume: Volume ${id} changed status while being deleted.`);
    await this.d.db
      .updateTable('volume_snapshots')
      .set({ status: 'deleting', updated_at: now() })
      .where('volume_id', '=', id)
      .execute();
    this.d.background.run(`delete volume ${id}`, async () => {
      try {
        for (const s of snaps) {
          await this.d.backend.deleteSnapshot(s.id);
          await this.d.db.deleteFrom('volume_snapshots').where('id', '=', s.id).execute();
        }
        await this.d.backend.deleteVolume(id);
        await this.d.db.transaction().execute(async (tx) => {
          await tx.deleteFrom('volume_attachments').where('volume_id', '=', id).execute();
          await tx.deleteFrom('volume_volumes').where('id', '=', id).execute();
        });
      } catch (e) {
        await this.setStatus(id, 'error_deleting');
        await this.d.messages.record(v.projectId, 'VOLUME', id, 'DELETE_VOLUME', (e as Error).message);
      }
    });
  }

  // --- metadata

  async setMetadata(
    a: AuthContext,
    id: string,
    meta: Record<string, string>,
    replace: boolean,
  ): Promise<Record<string, string>> {
    const v = await this.get(a, id);
    const next = replace ? { ...meta } : { ...v.metadata, ...meta };
    await this.d.db
      .updateTable('volume_volumes')
      .set({ metadata: JSON.stringify(next), updated_at: now() })
      .where('id', '=', id)
      .execute();
    return next;
  }

  async deleteMetadata(a: AuthContext, id: string, key: string): Promise<void> {
    const v = await this.get(a, id);
    if (!(key in v.metadata)) throw notFound(`Metadata item was not found.`);
    const next = { ...v.metadata };
    delete next[key];
    await this.d.db
      .updateTable('volume_volumes')
      .set({ metadata: JSON.stringify(next), updated_at: now() })
      .where('id', '=', id)
      .execute();
  }

  async setImageMetadata(a: AuthContext, id: string, meta: Record<string, string>): Promise<Record<string, string>> {
    const v = await this.get(a, id);
    const next = { ...v.imageMetadata, ...meta };
    await this.d.db
      .updateTable('volume_volumes')
      .set({ image_metadata: JSON.stringify(next), updated_at: now() })
      .where('id', '=', id)
      .execute();
    return next;
  }

  async unsetImageMetadata(a: AuthContext, id: string, key: string): Promise<void> {
    const v = await this.get(a, id);
    if (!(key in v.imageMetadata)) throw notFound(`Glance metadata for volume ${id} with key ${key} cannot be found.`);
    const next = { ...v.imageMetadata };
    delete next[key];
    await this.d.db
      .updateTable('volume_volumes')
      .set({ image_metadata: JSON.stringify(next), updated_at: now() })
      .where('id', '=', id)
      .execute();
  }

  // --- actions without a server

  /** Grows a volume attached to a server through its hypervisor (false: no guest runs); set by the composition root. */
  growAttached: ((instanceId: string, volumeId: string, bytes: number) => Promise<boolean>) | null = null;

  /** os-extend; `online` (3.42+) also extends an in-use volume, through the hypervisor so the guest sees it. */
  async extend(a: AuthContext, id: string, newSize: number, online = false): Promise<void> {
    const v = await this.get(a, id);
    const attached = v.status === 'in-use' && online;
    assertVolumeStatus(
      attached ? 'extendAttached' : 'extend',
      v.status,
      attached ? undefined : `Invalid volume: Volume status must be 'available' to extend, but it is ${v.status}.`,
    );
    const instanceId = v.attachments.find((x) => x.attachStatus === 'attached' && x.instanceId)?.instanceId ?? null;
    if (newSize <= v.size)
      throw badRequest(
        `Invalid input received: New size for extend must be greater than current size. (current: ${v.size}, ` +
          `extended: ${newSize}).`,
      );
    const type = (await this.d.types.find(v.volumeTypeId))?.name ?? '';
    await this.d.db.transaction().execute(async (tx) => {
      await this.d.quotas.check(tx, v.projectId, 'volumes', type, newSize - v.size, 0);
      const r = await tx
        .updateTable('volume_volumes')
        .set({ status: 'extending', updated_at: now() })
        .where('id', '=', id)
        .where('status', '=', v.status)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw badRequest(`Invalid volume: Volume ${id} changed status.`);
    });
    this.d.background.run(`extend volume ${id}`, async () => {
      try {
        const online =
          attached && instanceId && this.growAttached ? await this.growAttached(instanceId, id, newSize * GiB) : false;
        if (!online) await this.d.backend.extend(id, newSize * GiB);
        await this.setStatus(id, v.status, ['extending'], { size: newSize });
      } catch (e) {
        await this.setStatus(id, 'error_extending', ['extending']);
        await this.d.messages.record(v.projectId, 'VOLUME', id, 'EXTEND_VOLUME', (e as Error).message);
      }
    });
  }

  async setBootable(a: AuthContext, id: string, bootable: boolean): Promise<void> {
    await this.get(a, id);
    await this.d.db
      .updateTable('volume_volumes')
      .set({ bootable: bootable ? 1 : 0, updated_at: now() })
      .where('id', '=', id)
      .execute();
  }

  private async adminMetadata(id: string): Promise<Record<string, string>> {
    const r = await this.d.db
      .selectFrom('volume_volumes')
      .select('admin_metadata')
      .where('id', '=', id)
      .executeTakeFirst();
    return fromJson(r?.admin_metadata ?? '{}', {});
  }

  async setReadonly(a: AuthContext, id: string, readonly: boolean): Promise<void> {
    const v = await this.get(a, id);
    assertVolumeStatus(
      'readonly',
      v.status,
      `Invalid volume: Volume status must be available to update readonly flag, but it is ${v.status}.`,
    );
    await this.d.db
      .updateTable('volume_volumes')
      .set({
        readonly: readonly ? 1 : 0,
        admin_metadata: JSON.stringify({ ...(await this.adminMetadata(id)), readonly: readonly ? 'True' : 'False' }),
        updated_at: now(),
      })
      .where('id', '=', id)
      .execute();
  }

  /** os-reset_status (admin): sets the record only, as Cinder does; the bytes are not touched. */
  async resetStatus(
    a: AuthContext,
    id: string,
    spec: { status?: string; attachStatus?: string; migrationStatus?: string },
  ): Promise<void> {
    await this.get(a, id);
    if (spec.status !== undefined && !(VOLUME_STATUSES as readonly string[]).includes(spec.status))
      throw badRequest(`Invalid input received: Must specify a valid status, got ${spec.status}.`);
    if (spec.attachStatus !== undefined && !['attached', 'detached'].includes(spec.attachStatus))
      throw badRequest(`Invalid input received: Must specify a valid attach status, got ${spec.attachStatus}.`);
    if (spec.status === undefined && spec.attachStatus === undefined && spec.migrationStatus === undefined)
      throw badRequest(
        "Invalid input received: Must specify 'status', 'attach_status' or 'migration_status' for update.",
      );
    await this.d.db
      .updateTable('volume_volumes')
      .set({
        ...(spec.status !== undefined ? { status: spec.status } : {}),
        ...(spec.attachStatus !== undefined ? { attach_status: spec.attachStatus } : {}),
        ...(spec.migrationStatus !== undefined
          ? { migration_status: spec.migrationStatus === 'none' ? null : spec.migrationStatus }
          : {}),
        updated_at: now(),
      })
      .where('id', '=', id)
      .execute();
    if (spec.attachStatus === 'detached')
      await this.d.db.deleteFrom('volume_attachments').where('volume_id', '=', id).execute();
  }

  /** os-retype within the one backend: only the record changes (the bytes stay where they are). */
  async retype(a: AuthContext, id: string, newType: string): Promise<void> {
    const v = await this.get(a, id);
    assertVolumeStatus(
      'retype',
      v.status,
      `Invalid volume: Volume status must be available or in-use, but it is ${v.status}.`,
    );
    const t = await this.d.types.get(a, newType);
    if (t.id === v.volumeTypeId)
      throw badRequest('Invalid input received: New volume type must be different from the current one.');
    await this.d.db
      .updateTable('volume_volumes')
      .set({ volume_type_id: t.id, updated_at: now() })
      .where('id', '=', id)
      .execute();
  }

  /** Volumes of a project still in transient statuses after a restart become error (nothing is left half-made). */
  async recover(): Promise<void> {
    await applyRecovery(this.d.db, VOLUME_RECOVERY, now());
  }
}
