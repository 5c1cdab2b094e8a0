// Volume backups (Cinder's /backups): full or incremental copies of a volume into the backup store, restored to
// a new or an existing volume, deleted (never under a dependent incremental), exported as a record and imported
// back. Byte work runs in the background with Cinder's status machine: the backup goes creating → available
// (or error with fail_reason) while its volume is `backing-up` and returns to its status; a restore makes the
// backup `restoring` and the volume `restoring-backup`, then both return (the volume to error_restoring on failure).
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { VolumeBackupRow } from '../../store/volume-tables.js';
import type { BackupStore } from '../../storage/file/backup-store.js';
import type { VolumeBackend } from '../../storage/volume-backend.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import { uuid } from '../../util/ids.js';
import { now } from './model.js';
import type { Background, Volumes } from './volumes.js';
import { VOLUME_AZ } from './volumes.js';
import type { VolumeQuotas } from './quotas.js';
import type { Messages } from './messages.js';
import { applyRecovery, BACKUP_RECOVERY } from './recovery.js';

/** A backup as the API shows it. */
export interface VolumeBackup {
  id: string;
  projectId: string;
  userId: string;
  volumeId: string;
  snapshotId: string | null;
  parentId: string | null;
  name: string | null;
  description: string | null;
  container: string | null;
  status: string;
  failReason: string | null;
  size: number;
  objectCount: number;
  isIncremental: boolean;
  hasDependentBackups: boolean;
  metadata: Record<string, string>;
  availabilityZone: string;
  dataTimestamp: string;
  createdAt: string;
  updatedAt: string | null;
}

/** What an exported record carries (base64 JSON in backup_url), enough to re-create the record on import. */
interface BackupRecord {
  id: string;
  /** The backup whose data in the store this record names (not `id` once re-imported under a new id). */
  data_id?: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  snapshot_id: string | null;
  parent_id: string | null;
  name: string | null;
  description: string | null;
  container: string | null;
  size: number;
  is_incremental: boolean;
  metadata: Record<string, string>;
  data_timestamp: string;
  created_at: string;
}

/**
 * The backup driver name exported records carry (Cinder's backup_service: clients such as Tempest expect a
 * `cinder.backup.drivers` prefix). Records exported under the earlier name are still imported.
 */
export const BACKUP_SERVICE = 'cinder.backup.drivers.gureum_file';
const OLD_BACKUP_SERVICE = 'gureum.backup.file';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Backups {
  constructor(
    private readonly d: {
      db: Kysely<Database>;
      store: BackupStore;
      backend: VolumeBackend;
      volumes: Volumes;
      quotas: VolumeQuotas;
      messages: Messages;
      background: Background;
    },
  ) {}

  private async render(rows: VolumeBackupRow[]): Promise<VolumeBackup[]> {
    const ids = rows.map((r) => r.id);
    const children = ids.length
      ? new Set(
          (
            await this.d.db
              .selectFrom('volume_backups')
              .select('parent_id')
              .where('parent_id', 'in', ids)
              .where('deleted', '=', 0)
              .execute()
          ).map((r) => r.parent_id),
        )
      : new Set<string | null>();
    return rows.map((r) => ({
      id: r.id,
      projectId: r.project_id,
      userId: r.user_id,
      volumeId: r.volume_id,
      snapshotId: r.snapshot_id,
      parentId: r.parent_id,
      name: r.name,
      description: r.description,
      container: r.container,
      status: r.status,
      failReason: r.fail_reason,
      size: r.size,
      objectCount: r.object_count,
      isIncremental: r.is_incremental === 1,
      hasDependentBackups: children.has(r.id),
      metadata: JSON.parse(r.metadata) as Record<string, string>,
      availabilityZone: r.availability_zone,
      dataTimestamp: r.data_timestamp,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async get(a: AuthContext, id: string): Promise<VolumeBackup> {
    const r = await this.d.db
      .selectFrom('volume_backups')
      .selectAll()
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (!r || (!isAdmin(a) && r.project_id !== a.projectId)) throw notFound(`Backup ${id} could not be found.`);
    return (await this.render([r]))[0]!;
  }

  async list(
    a: AuthContext,
    f: { allTenants?: boolean; name?: string; status?: string; volumeId?: string },
  ): Promise<VolumeBackup[]> {
    let q = this.d.db
      .selectFrom('volume_backups')
      .selectAll()
      .where('deleted', '=', 0)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc');
    if (!(isAdmin(a) && f.allTenants)) q = q.where('project_id', '=', a.projectId ?? '');
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    if (f.volumeId !== undefined) q = q.where('volume_id', '=', f.volumeId);
    return this.render(await q.execute());
  }

  /**
   * Starts a backup of a volume (in-use only with force); incremental builds on the volume's newest available backup.
   */
  async create(
    a: AuthContext,
    spec: {
      volumeId: string;
      name?: string | null;
      description?: string | null;
      container?: string | null;
      incremental?: boolean;
      force?: boolean;
      snapshotId?: string | null;
      metadata?: Record<string, string>;
      availabilityZone?: string | null;
    },
  ): Promise<VolumeBackup> {
    if (!a.projectId) throw badRequest('A project-scoped token is needed to create a backup.');
    const v = await this.d.volumes.get(a, spec.volumeId).catch(() => {
      throw notFound(`Volume ${spec.volumeId} could not be found.`);
    });
    if (spec.availabilityZone && spec.availabilityZone !== VOLUME_AZ)
      throw badRequest(`Invalid input received: Availability zone '${spec.availabilityZone}' is invalid.`);
    const live = v.status === 'in-use';
    if (v.status !== 'available' && !(live && spec.force)) {
      throw badRequest(
        live
          ? 'Invalid volume: Volume to be backed up must be available or in-use, but the current status is ' +
              '"in-use". Use force to back up an in-use volume.'
          : `Invalid volume: Volume to be backed up must be available or in-use, but the current status is ` +
              `"${v.status}".`,
      );
    }
    let snapshotId: string | null = null;
    if (spec.snapshotId) {
      const s = await this.d.db
        .selectFrom('volume_snapshots')
        .selectAll()
        .where('id', '=', spec.snapshotId)
        .executeTakeFirst();
      if (!s || s.volume_id !== v.id || (!isAdmin(a) && s.project_id !== a.projectId))
        throw notFound(`Snapshot ${spec.snapshotId} could not be found.`);
      if (s.status !== 'available')
        throw badRequest(
          `Invalid snapshot: Snapshot to be backed up must be available, but the current status is "${s.status}".`,
        );
      snapshotId = s.id;
    }
    let parentId: string | null = null;
    if (spec.incremental) {
      const parent = await this.d.db
        .selectFrom('volume_backups')
        .select('id')
        .where('volume_id', '=', v.id)
        .where('deleted', '=', 0)
        .where('status', '=', 'available')
        .orderBy('data_timestamp', 'desc')
        .executeTakeFirst();
      if (!parent) throw badRequest('Invalid backup: No backups available to do an incremental backup.');
      parentId = parent.id;
    }
    const id = uuid();
    const t = now();
    const previous = v.status;
    await this.d.db.transaction().execute(async (tx) => {
      await this.d.quotas.checkBackup(tx, a.projectId!, v.size);
      const r = await tx
        .updateTable('volume_volumes')
        .set({ status: 'backing-up', updated_at: t })
        .where('id', '=', v.id)
        .where('status', '=', previous)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0)
        throw badRequest(`Invalid volume: Volume ${v.id} changed status while the backup started.`);
      await tx
        .insertInto('volume_backups')
        .values({
          id,
          project_id: a.projectId!,
          user_id: a.userId,
          volume_id: v.id,
          snapshot_id: snapshotId,
          parent_id: parentId,
          name: spec.name ?? null,
          description: spec.description ?? null,
          container: spec.container ?? null,
          status: 'creating',
          fail_reason: null,
          size: v.size,
          object_count: 0,
          is_incremental: parentId ? 1 : 0,
          metadata: JSON.stringify(spec.metadata ?? {}),
          volume_metadata: JSON.stringify(v.metadata),
          availability_zone: VOLUME_AZ,
          data_timestamp: t,
          deleted: 0,
          created_at: t,
          updated_at: t,
        })
        .execute();
    });
    this.d.background.run(`backup ${id}`, async () => {
      try {
        const src = snapshotId ? this.d.backend.snapshotConnection?.(snapshotId) : this.d.backend.connection(v.id);
        if (!src) throw new Error('This volume backend cannot read snapshots for a backup.');
        const bytes = await this.d.store.create(
          id,
          { path: src.path, format: src.format },
          { parentId, live: live && !snapshotId },
        );
        await this.setBackup(
          id,
          { status: 'available', object_count: Math.max(1, Math.ceil(bytes / (32 * 1024 * 1024))) },
          ['creating'],
        );
      } catch (e) {
        await this.d.store.delete(id).catch(() => {});
        await this.setBackup(id, { status: 'error', fail_reason: (e as Error).message }, ['creating']);
        await this.d.messages.record(a.projectId!, 'BACKUP', id, 'BACKUP_CREATE', (e as Error).message);
      } finally {
        await this.d.volumes.setStatus(v.id, previous, ['backing-up']);
      }
    });
    return this.get(a, id);
  }

  private async setBackup(id: string, set: Partial<VolumeBackupRow>, from?: string[]): Promise<void> {
    let q = this.d.db
      .updateTable('volume_backups')
      .set({ ...set, updated_at: now() })
      .where('id', '=', id);
    if (from) q = q.where('status', 'in', from);
    await q.execute();
  }

  /** Name, description and (3.43) metadata. */
  async update(
    a: AuthContext,
    id: string,
    spec: { name?: string | null; description?: string | null; metadata?: Record<string, string> },
  ): Promise<VolumeBackup> {
    await this.get(a, id);
    await this.setBackup(id, {
      ...(spec.name !== undefined ? { name: spec.name } : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      ...(spec.metadata !== undefined ? { metadata: JSON.stringify(spec.metadata) } : {}),
    });
    return this.get(a, id);
  }

  /** Deletes a backup (available or error); refused while an incremental backup depends on it. */
  async delete(a: AuthContext, id: string, force = false): Promise<void> {
    const b = await this.get(a, id);
    if (!force && !['available', 'error'].includes(b.status))
      throw badRequest(`Invalid backup: Backup status must be available or error, but it is ${b.status}.`);
    if (b.hasDependentBackups) throw badRequest('Invalid backup: Incremental backups exist for this backup.');
    await this.setBackup(id, { status: 'deleting' });
    this.d.background.run(`delete backup ${id}`, async () => {
      try {
        await this.d.store.delete(id);
        await this.setBackup(id, { status: 'deleted', deleted: 1 });
      } catch (e) {
        await this.setBackup(id, { status: 'error_deleting', fail_reason: (e as Error).message });
      }
    });
  }

  /**
   * Restores a backup into an existing available volume at least its size, or into a new volume of its size
   * (named `restore_backup_<id>` unless named). Answers the target volume.
   */
  async restore(
    a: AuthContext,
    id: string,
    spec: { volumeId?: string | null; name?: string | null },
  ): Promise<{ volumeId: string; volumeName: string | null }> {
    const b = await this.get(a, id);
    if (b.status !== 'available')
      throw badRequest(`Invalid backup: Backup status must be available, but it is ${b.status}.`);
    let volumeId = spec.volumeId ?? null;
    if (volumeId) {
      const v = await this.d.volumes.get(a, volumeId).catch(() => {
        throw notFound(`Volume ${volumeId} could not be found.`);
      });
      if (v.status !== 'available')
        throw badRequest(
          `Invalid volume: Volume to be restored to must be available, but the current status is "${v.status}".`,
        );
      if (v.size < b.size)
        throw badRequest(`Invalid volume: volume size ${v.size}GB is too small to restore backup of size ${b.size}GB.`);
    } else {
      const v = await this.d.volumes.create(a, { size: b.size, name: spec.name ?? `restore_backup_${id}` });
      volumeId = v.id;
      await this.waitCreated(volumeId);
    }
    const target = volumeId;
    const t = now();
    const moved = await this.d.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('volume_volumes')
        .set({ status: 'restoring-backup', updated_at: t })
        .where('id', '=', target)
        .where('status', '=', 'available')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await tx
        .updateTable('volume_backups')
        .set({ status: 'restoring', updated_at: t })
        .where('id', '=', id)
        .where('status', '=', 'available')
        .execute();
      return true;
    });
    if (!moved) throw badRequest(`Invalid volume: Volume ${target} is not available to restore to.`);
    this.d.background.run(`restore backup ${id}`, async () => {
      try {
        await this.d.store.restore(id, this.d.backend.connection(target));
        const row = await this.d.db
          .selectFrom('volume_backups')
          .select('volume_metadata')
          .where('id', '=', id)
          .executeTakeFirst();
        const tv = await this.d.db
          .selectFrom('volume_volumes')
          .select('metadata')
          .where('id', '=', target)
          .executeTakeFirst();
        const metadata = {
          ...(JSON.parse(tv?.metadata ?? '{}') as Record<string, string>),
          ...(JSON.parse(row?.volume_metadata ?? '{}') as Record<string, string>),
        };
        await this.d.volumes.setStatus(target, 'available', ['restoring-backup'], {
          metadata: JSON.stringify(metadata),
        });
      } catch (e) {
        await this.d.volumes.setStatus(target, 'error_restoring', ['restoring-backup']);
        await this.d.messages.record(b.projectId, 'BACKUP', id, 'BACKUP_RESTORE', (e as Error).message);
      } finally {
        await this.setBackup(id, { status: 'available' }, ['restoring']);
      }
    });
    const v = await this.d.volumes.get(a, target);
    return { volumeId: target, volumeName: v.name };
  }

  /** The new volume of a restore is made by the volume service in the background; the restore waits for it. */
  private async waitCreated(volumeId: string): Promise<void> {
    for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
      const r = await this.d.db
        .selectFrom('volume_volumes')
        .select('status')
        .where('id', '=', volumeId)
        .executeTakeFirst();
      if (r?.status === 'available') return;
      if (r?.status !== 'creating')
        throw badRequest(`Invalid volume: the volume to restore to went to ${r?.status ?? 'nowhere'}.`);
      await new Promise((res) => setTimeout(res, delay));
    }
  }

  /** Admin: the record of an available backup, to import it again later (its data stays in the store). */
  async exportRecord(a: AuthContext, id: string): Promise<{ backupService: string; backupUrl: string }> {
    const b = await this.get(a, id);
    if (b.status !== 'available')
      throw badRequest(`Invalid backup: Backup status must be available and not restoring, but it is ${b.status}.`);
    const rec: BackupRecord = {
      id: b.id,
      data_id: b.id,
      project_id: b.projectId,
      user_id: b.userId,
      volume_id: b.volumeId,
      snapshot_id: b.snapshotId,
      parent_id: b.parentId,
      name: b.name,
      description: b.description,
      container: b.container,
      size: b.size,
      is_incremental: b.isIncremental,
      metadata: b.metadata,
      data_timestamp: b.dataTimestamp,
      created_at: b.createdAt,
    };
    return { backupService: BACKUP_SERVICE, backupUrl: Buffer.from(JSON.stringify(rec)).toString('base64') };
  }

  /** Admin: re-creates a backup record from an export whose data is still in this cloud's backup store. */
  async importRecord(a: AuthContext, backupService: string, backupUrl: string): Promise<VolumeBackup> {
    if (backupService !== BACKUP_SERVICE && backupService !== OLD_BACKUP_SERVICE)
      throw badRequest(`Invalid backup: Unsupported backup service ${backupService}.`);
    let rec: BackupRecord;
    try {
      rec = JSON.parse(Buffer.from(backupUrl, 'base64').toString('utf8')) as BackupRecord;
      if (typeof rec.id !== 'string' || typeof rec.size !== 'number') throw new Error('incomplete');
      // Ids name files in the backup store: nothing but a UUID may reach a path.
      if (!UUID.test(rec.id) || (rec.data_id !== undefined && !UUID.test(String(rec.data_id))))
        throw new Error('not a backup id');
    } catch {
      throw badRequest("Invalid backup: Can't parse backup record.");
    }
    const existing = await this.d.db
      .selectFrom('volume_backups')
      .select(['deleted'])
      .where('id', '=', rec.id)
      .executeTakeFirst();
    if (existing && existing.deleted === 0) throw badRequest('Invalid backup: Backup already exists in database.');
    // Cinder imports a record under whatever id it carries, pointing at the same backend data; here the data of the
    // new id is a hard link to the exported backup's file.
    const dataId = typeof rec.data_id === 'string' ? rec.data_id : rec.id;
    if (!this.d.store.has(dataId))
      throw badRequest(`Invalid backup: The data of backup ${dataId} is not in this cloud's backup store.`);
    if (dataId !== rec.id) await this.d.store.share(dataId, rec.id);
    const t = now();
    const row: VolumeBackupRow = {
      id: rec.id,
      project_id: a.projectId ?? rec.project_id,
      user_id: a.userId,
      volume_id: rec.volume_id,
      snapshot_id: rec.snapshot_id,
      parent_id: rec.parent_id,
      name: rec.name,
      description: rec.description,
      container: rec.container,
      status: 'available',
      fail_reason: null,
      size: rec.size,
      object_count: 1,
      is_incremental: rec.is_incremental ? 1 : 0,
      metadata: JSON.stringify(rec.metadata ?? {}),
      volume_metadata: '{}',
      availability_zone: VOLUME_AZ,
      data_timestamp: rec.data_timestamp,
      deleted: 0,
      created_at: rec.created_at,
      updated_at: t,
    };
    await this.d.db.transaction().execute(async (tx) => {
      if (existing) await tx.deleteFrom('volume_backups').where('id', '=', rec.id).execute();
      await tx.insertInto('volume_backups').values(row).execute();
    });
    return this.get(a, rec.id);
  }

  /** Admin: os-reset_status of a backup. */
  async resetStatus(a: AuthContext, id: string, status: string): Promise<void> {
    await this.get(a, id);
    if (!['available', 'error'].includes(status))
      throw badRequest(`Invalid input received: Backup status ${status} is not allowed.`);
    await this.setBackup(id, { status });
  }

  /**
   * After a crash: a backup left creating is an error, one left restoring is available again, deleting is
   * error_deleting.
   */
  async recover(): Promise<void> {
    const t = now();
    // Volumes the interrupted work held: back to what they were (in-use when attached), a restore target to
    // error_restoring.
    const held = await this.d.db
      .selectFrom('volume_volumes')
      .select(['id'])
      .where('status', '=', 'backing-up')
      .execute();
    for (const v of held) {
      const att = await this.d.db
        .selectFrom('volume_attachments')
        .select('id')
        .where('volume_id', '=', v.id)
        .where('attach_status', '=', 'attached')
        .executeTakeFirst();
      await this.d.volumes.setStatus(v.id, att ? 'in-use' : 'available', ['backing-up']);
    }
    await applyRecovery(this.d.db, BACKUP_RECOVERY, t);
  }
}
