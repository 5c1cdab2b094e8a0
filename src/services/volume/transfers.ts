// Volume transfers (Cinder's os-volume-transfer and, from 3.55, volume-transfers): the owner offers an available
// volume (it becomes `awaiting-transfer`) and gets an id and a key once; any project presenting both takes the
// volume (and its snapshots unless no_snapshots) within its own quota; deleting the offer makes it available again.
// Only a salted hash of the key is kept, so the key cannot be read back from the database.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { VolumeTransferRow } from '../../store/volume-tables.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import { uuid } from '../../util/ids.js';
import { now } from './model.js';
import { assertVolumeStatus } from './states.js';
import type { Volumes } from './volumes.js';
import type { VolumeQuotas } from './quotas.js';

/** A transfer as the API shows it. */
export interface VolumeTransfer {
  id: string;
  volumeId: string;
  name: string | null;
  sourceProjectId: string;
  destinationProjectId: string | null;
  noSnapshots: boolean;
  accepted: boolean;
  createdAt: string;
}

const view = (r: VolumeTransferRow): VolumeTransfer => ({
  id: r.id,
  volumeId: r.volume_id,
  name: r.name,
  sourceProjectId: r.source_project_id,
  destinationProjectId: r.destination_project_id,
  noSnapshots: r.no_snapshots === 1,
  accepted: r.accepted === 1,
  createdAt: r.created_at,
});

const hashKey = (salt: string, key: string) => createHash('sha256').update(`${salt}${key}`).digest('hex');

export class Transfers {
  constructor(private readonly d: { db: Kysely<Database>; volumes: Volumes; quotas: VolumeQuotas }) {}

  /** Offers a volume of the caller's project; answers the transfer and its key (shown this once). */
  async create(
    a: AuthContext,
    spec: { volumeId: string; name?: string | null; noSnapshots?: boolean },
  ): Promise<VolumeTransfer & { authKey: string }> {
    const v = await this.d.volumes.get(a, spec.volumeId).catch(() => {
      throw notFound(`Volume ${spec.volumeId} could not be found.`);
    });
    assertVolumeStatus('transfer', v.status, `Invalid volume: status must be available`);
    if (!spec.noSnapshots) {
      const busy = await this.d.db
        .selectFrom('volume_snapshots')
        .select(['id', 'status'])
        .where('volume_id', '=', v.id)
        .where('status', '!=', 'available')
        .executeTakeFirst();
      if (busy)
        throw badRequest(`Invalid snapshot: snapshot ${busy.id} status must be available, but it is ${busy.status}.`);
    }
    const id = uuid();
    // Cinder's keys are 16 characters; these are 16 hex digits (64 random bits).
    const authKey = randomBytes(8).toString('hex');
    const salt = randomBytes(8).toString('hex');
    const t = now();
    await this.d.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('volume_volumes')
        .set({ status: 'awaiting-transfer', updated_at: t })
        .where('id', '=', v.id)
        .where('status', '=', 'available')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw badRequest('Invalid volume: status must be available');
      await tx
        .insertInto('volume_transfers')
        .values({
          id,
          volume_id: v.id,
          source_project_id: v.projectId,
          destination_project_id: null,
          name: spec.name ?? null,
          salt,
          crypt_hash: hashKey(salt, authKey),
          no_snapshots: spec.noSnapshots ? 1 : 0,
          accepted: 0,
          deleted: 0,
          created_at: t,
          updated_at: t,
        })
        .execute();
    });
    return { ...(await this.get(a, id)), authKey };
  }

  private async row(id: string): Promise<VolumeTransferRow | undefined> {
    return this.d.db
      .selectFrom('volume_transfers')
      .selectAll()
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirst();
  }

  /** A pending transfer of the caller's project (admins: any); 404 otherwise. */
  async get(a: AuthContext, id: string): Promise<VolumeTransfer> {
    const r = await this.row(id);
    if (!r || (!isAdmin(a) && r.source_project_id !== a.projectId))
      throw notFound(`Transfer ${id} could not be found.`);
    return view(r);
  }

  async list(a: AuthContext, allTenants: boolean): Promise<VolumeTransfer[]> {
    let q = this.d.db
      .selectFrom('volume_transfers')
      .selectAll()
      .where('deleted', '=', 0)
      .orderBy('created_at', 'desc')
      .orderBy('id');
    if (!(isAdmin(a) && allTenants)) q = q.where('source_project_id', '=', a.projectId ?? '');
    return (await q.execute()).map(view);
  }

  /** Withdraws the offer: the volume is available again. */
  async delete(a: AuthContext, id: string): Promise<void> {
    const tr = await this.get(a, id);
    const t = now();
    await this.d.db.transaction().execute(async (tx) => {
      await tx.updateTable('volume_transfers').set({ deleted: 1, updated_at: t }).where('id', '=', id).execute();
      await tx
        .updateTable('volume_volumes')
        .set({ status: 'available', updated_at: t })
        .where('id', '=', tr.volumeId)
        .where('status', '=', 'awaiting-transfer')
        .execute();
    });
  }

  /** Takes the volume into the caller's project with the key: 400 for a wrong key, 413 over the caller's quota. */
  async accept(a: AuthContext, id: string, authKey: string): Promise<VolumeTransfer> {
    const r = await this.row(id);
    if (!r) throw notFound(`Transfer ${id} could not be found.`);
    const want = Buffer.from(r.crypt_hash, 'hex');
    const got = Buffer.from(hashKey(r.salt, authKey), 'hex');
    if (want.length !== got.length || !timingSafeEqual(want, got)) {
      throw badRequest(`Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
    }
    const dest = a.projectId;
    if (!dest) throw badRequest('A project-scoped token is needed to accept a transfer.');
    const t = now();
    await this.d.db.transaction().execute(async (tx) => {
      const v = await tx.selectFrom('volume_volumes').selectAll().where('id', '=', r.volume_id).executeTakeFirst();
      if (v?.status !== 'awaiting-transfer')
        throw badRequest(`Invalid volume: Volume ${r.volume_id} is not awaiting a transfer.`);
      const type = await tx
        .selectFrom('volume_types')
        .select('name')
        .where('id', '=', v.volume_type_id)
        .executeTakeFirst();
      await this.d.quotas.check(tx, dest, 'volumes', type?.name ?? '', v.size);
      const snaps = r.no_snapshots
        ? []
        : await tx.selectFrom('volume_snapshots').select(['id', 'size']).where('volume_id', '=', v.id).execute();
      if (snaps.length)
        await this.d.quotas.check(
          tx,
          dest,
          'snapshots',
          type?.name ?? '',
          snaps.reduce((s, x) => s + x.size, 0),
          snaps.length,
        );
      await tx
        .updateTable('volume_volumes')
        .set({ project_id: dest, user_id: a.userId, status: 'available', updated_at: t })
        .where('id', '=', v.id)
        .execute();
      if (snaps.length) {
        await tx
          .updateTable('volume_snapshots')
          .set({ project_id: dest, user_id: a.userId, updated_at: t })
          .where(
            'id',
            'in',
            snaps.map((s) => s.id),
          )
          .execute();
      }
      await tx
        .updateTable('volume_transfers')
        .set({ accepted: 1, deleted: 1, destination_project_id: dest, updated_at: t })
        .where('id', '=', id)
        .execute();
    });
    return view({ ...r, accepted: 1, destination_project_id: dest });
  }
}
