// Volume snapshots: point-in-time copies made by the backend; `force` allows one of an in-use volume.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import { uuid } from '../../util/ids.js';
import type { VolumeBackend } from '../../storage/volume-backend.js';
import { now, snapshotOf, type Snapshot } from './model.js';
import { SNAPSHOT_STATUSES } from './states.js';
import type { VolumeQuotas } from './quotas.js';
import type { Background, Volumes } from './volumes.js';
import type { Messages } from './messages.js';
import { page, type ListOptions } from './paging.js';

export const SNAPSHOT_SORT_KEYS = [
  'id',
  'name',
  'size',
  'status',
  'created_at',
  'updated_at',
  'volume_id',
  'project_id',
] as const;

export interface SnapshotsDeps {
  db: Kysely<Database>;
  backend: VolumeBackend;
  quotas: VolumeQuotas;
  volumes: Volumes;
  messages: Messages;
  background: Background;
}

export class Snapshots {
  constructor(private readonly d: SnapshotsDeps) {}

  async get(a: AuthContext, id: string): Promise<Snapshot> {
    const r = await this.d.db.selectFrom('volume_snapshots').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r || (!isAdmin(a) && r.project_id !== a.projectId)) throw notFound(`Snapshot ${id} could not be found.`);
    return snapshotOf(r);
  }

  async list(
    a: AuthContext,
    f: {
      allTenants?: boolean;
      projectId?: string;
      name?: string;
      status?: string;
      volumeId?: string;
      metadata?: Record<string, string>;
    },
    opts: ListOptions,
  ): Promise<{ items: Snapshot[]; more: boolean }> {
    let q = this.d.db.selectFrom('volume_snapshots').selectAll();
    const admin = isAdmin(a);
    if (!admin || !f.allTenants) q = q.where('project_id', '=', a.projectId ?? '');
    if (admin && f.projectId) q = q.where('project_id', '=', f.projectId);
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    if (f.volumeId !== undefined) q = q.where('volume_id', '=', f.volumeId);
    let items = (await q.execute()).map(snapshotOf);
    if (f.metadata) items = items.filter((s) => Object.entries(f.metadata!).every(([k, v]) => s.metadata[k] === v));
    return page(items, opts, (s, k) =>
      k === 'created_at'
        ? s.createdAt
        : k === 'updated_at'
          ? s.updatedAt
          : k === 'volume_id'
            ? s.volumeId
            : k === 'project_id'
              ? s.projectId
              : (s as unknown as Record<string, unknown>)[k],
    );
  }

  /** `inUseAllowed`: microversion 3.66 takes an in-use volume without `force`. */
  async create(
    a: AuthContext,
    spec: {
      volumeId: string;
      force?: boolean;
      name?: string | null;
      description?: string | null;
      metadata?: Record<string, string>;
      inUseAllowed?: boolean;
    },
  ): Promise<Snapshot> {
    const v = await this.d.volumes.get(a, spec.volumeId).catch(() => {
      throw notFound(`Volume ${spec.volumeId} could not be found.`);
    });
    const inUse = v.status === 'in-use';
    if (v.status !== 'available' && !(inUse && (spec.force || spec.inUseAllowed))) {
      throw badRequest(
        inUse
          ? 'Invalid volume: Volume is in-use; use force to snapshot it.'
          : `Invalid volume: Volume ${v.id} status must be available or in-use, but current status is: ${v.status}.`,
      );
    }
    const type =
      (await this.d.db.selectFrom('volume_types').select('name').where('id', '=', v.volumeTypeId).executeTakeFirst())
        ?.name ?? '';
    const id = uuid();
    const t = now();
    await this.d.db.transaction().execute(async (tx) => {
      await this.d.quotas.check(tx, v.projectId, 'snapshots', type, v.size);
      await tx
        .insertInto('volume_snapshots')
        .values({
          id,
          project_id: v.projectId,
          user_id: a.userId,
          volume_id: v.id,
          volume_type_id: v.volumeTypeId,
          name: spec.name ?? null,
          description: spec.description ?? null,
          size: v.size,
          status: 'creating',
          progress: '0%',
          metadata: JSON.stringify(spec.metadata ?? {}),
          created_at: t,
          updated_at: t,
        })
        .execute();
    });
    this.d.background.run(`snapshot ${id}`, async () => {
      try {
        await this.d.backend.createSnapshot(id, v.id, inUse);
        await this.d.db
          .updateTable('volume_snapshots')
          .set({ status: 'available', progress: '100%', updated_at: now() })
          .where('id', '=', id)
          .where('status', '=', 'creating')
          .execute();
      } catch (e) {
        // Remove what the backend may have half made; the snapshot goes to error below whatever this answers.
        await this.d.backend.deleteSnapshot(id).catch(() => {});
        await this.d.db
          .updateTable('volume_snapshots')
          .set({ status: 'error', updated_at: now() })
          .where('id', '=', id)
          .execute();
        await this.d.messages.record(v.projectId, 'SNAPSHOT', id, 'SNAPSHOT_CREATE', (e as Error).message);
      }
    });
    return this.get(a, id);
  }

  async update(
    a: AuthContext,
    id: string,
    spec: { name?: string | null; description?: string | null },
  ): Promise<Snapshot> {
    await this.get(a, id);
    await this.d.db
      .updateTable('volume_snapshots')
      .set({
        ...(spec.name !== undefined ? { name: spec.name } : {}),
        ...(spec.description !== undefined ? { description: spec.description } : {}),
        updated_at: now(),
      })
      .where('id', '=', id)
      .execute();
    return this.get(a, id);
  }

  async delete(a: AuthContext, id: string, force = false): Promise<void> {
    const s = await this.get(a, id);
    if (!force && !['available', 'error'].includes(s.status))
      throw badRequest(
        `Invalid snapshot: Snapshot status must be available or error to delete, but it is ${s.status}.`,
      );
    await this.d.db
      .updateTable('volume_snapshots')
      .set({ status: 'deleting', updated_at: now() })
      .where('id', '=', id)
      .execute();
    this.d.background.run(`delete snapshot ${id}`, async () => {
      try {
        await this.d.backend.deleteSnapshot(id);
        await this.d.db.deleteFrom('volume_snapshots').where('id', '=', id).execute();
      } catch (e) {
        await this.d.db
          .updateTable('volume_snapshots')
          .set({ status: 'error_deleting', updated_at: now() })
          .where('id', '=', id)
          .execute();
        await this.d.messages.record(s.projectId, 'SNAPSHOT', id, 'DELETE_SNAPSHOT', (e as Error).message);
      }
    });
  }

  async setMetadata(
    a: AuthContext,
    id: string,
    meta: Record<string, string>,
    replace: boolean,
  ): Promise<Record<string, string>> {
    const s = await this.get(a, id);
    const next = replace ? { ...meta } : { ...s.metadata, ...meta };
    await this.d.db
      .updateTable('volume_snapshots')
      .set({ metadata: JSON.stringify(next), updated_at: now() })
      .where('id', '=', id)
      .execute();
    return next;
  }

  async deleteMetadata(a: AuthContext, id: string, key: string): Promise<void> {
    const s = await this.get(a, id);
    if (!(key in s.metadata)) throw notFound('Metadata item was not found.');
    const next = { ...s.metadata };
    delete next[key];
    await this.d.db
      .updateTable('volume_snapshots')
      .set({ metadata: JSON.stringify(next), updated_at: now() })
      .where('id', '=', id)
      .execute();
  }

  async resetStatus(a: AuthContext, id: string, status: string): Promise<void> {
    await this.get(a, id);
    if (!(SNAPSHOT_STATUSES as readonly string[]).includes(status))
      throw badRequest(`Invalid input received: Must specify a valid status, got ${status}.`);
    await this.d.db.updateTable('volume_snapshots').set({ status, updated_at: now() }).where('id', '=', id).execute();
  }

  /** os-update_snapshot_status: the transitions Cinder allows a driver to report, with its progress. */
  async updateStatus(a: AuthContext, id: string, status: string, progress?: string): Promise<void> {
    const s = await this.get(a, id);
    const allowedNext: Record<string, string[]> = {
      creating: ['creating', 'available', 'error'],
      deleting: ['deleting', 'error_deleting'],
    };
    const next = allowedNext[s.status];
    if (!next) throw badRequest(`Snapshot status ${s.status} not allowed for update_snapshot_status`);
    if (!next.includes(status))
      throw badRequest(`Provided snapshot status ${status} not allowed for snapshot with status ${s.status}.`);
    await this.d.db
      .updateTable('volume_snapshots')
      .set({ status, ...(progress !== undefined ? { progress } : {}), updated_at: now() })
      .where('id', '=', id)
      .execute();
  }
}
