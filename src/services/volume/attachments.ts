// Attaching volumes to servers, as Cinder's attachments API (3.27+) and Nova's old reserve/attach calls do:
// reserve (volume `attaching`, an attachment row), then complete (`in-use`) or roll back (`available`, a user
// message); detach goes `detaching` → `available`. Compute drives these through its volume port.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import { uuid } from '../../util/ids.js';
import type { VolumeBackend, VolumeConnection } from '../../storage/volume-backend.js';
import { attachmentOf, now, type VolumeAttachment } from './model.js';
import type { Volumes } from './volumes.js';
import type { Messages } from './messages.js';

export interface AttachmentsDeps {
  db: Kysely<Database>;
  backend: VolumeBackend;
  volumes: Volumes;
  messages: Messages;
}

/** What a reservation hands to compute: the attachment and how to open the volume. */
export interface Reservation {
  attachment: VolumeAttachment;
  connection: VolumeConnection;
  readonly: boolean;
  size: number;
}

export class Attachments {
  constructor(private readonly d: AttachmentsDeps) {}

  async get(a: AuthContext, id: string): Promise<VolumeAttachment> {
    const r = await this.d.db.selectFrom('volume_attachments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r || (!isAdmin(a) && r.project_id !== a.projectId))
      throw notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);
    return attachmentOf(r);
  }

  async list(
    a: AuthContext,
    f: { volumeId?: string; instanceId?: string; allTenants?: boolean },
  ): Promise<VolumeAttachment[]> {
    let q = this.d.db.selectFrom('volume_attachments').selectAll().orderBy('created_at');
    if (!isAdmin(a) || !f.allTenants) q = q.where('project_id', '=', a.projectId ?? '');
    if (f.volumeId) q = q.where('volume_id', '=', f.volumeId);
    if (f.instanceId) q = q.where('instance_id', '=', f.instanceId);
    return (await q.execute()).map(attachmentOf);
  }

  /** Attachments of many servers (server lists). */
  async ofInstances(instanceIds: string[]): Promise<VolumeAttachment[]> {
    if (!instanceIds.length) return [];
    return (
      await this.d.db
        .selectFrom('volume_attachments')
        .selectAll()
        .where('instance_id', 'in', instanceIds)
        .orderBy('created_at')
        .execute()
    ).map(attachmentOf);
  }

  /** Attachments of a server, any project (compute's own view). */
  async ofInstance(instanceId: string): Promise<VolumeAttachment[]> {
    return (
      await this.d.db
        .selectFrom('volume_attachments')
        .selectAll()
        .where('instance_id', '=', instanceId)
        .orderBy('created_at')
        .execute()
    ).map(attachmentOf);
  }

  /**
   * Reserves a volume the caller may see for a server: 400 InvalidVolume unless it is available (or multiattach),
   * or when it is already attached to that server. One compare-and-set, so two attaches never both win.
   */
  async reserve(
    a: AuthContext,
    volumeId: string,
    instanceId: string | null,
    opts: {
      device?: string | null;
      tag?: string | null;
      deleteOnTermination?: boolean;
      bootIndex?: number | null;
      mode?: 'rw' | 'ro';
    } = {},
  ): Promise<Reservation> {
    const v = await this.d.volumes.get(a, volumeId);
    if (instanceId && v.attachments.some((x) => x.instanceId === instanceId && x.attachStatus !== 'detached')) {
      throw badRequest(`Invalid volume: volume ${volumeId} is already attached to server ${instanceId}.`);
    }
    const from = v.multiattach ? ['available', 'in-use', 'reserved'] : ['available'];
    if (!from.includes(v.status)) {
      throw badRequest(
        `Invalid volume: Volume ${volumeId} status must be available${v.multiattach ? ' or in-use' : ''} to ` +
          `reserve, but the current status is: ${v.status}.`,
      );
    }
    const id = uuid();
    const t = now();
    await this.d.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('volume_volumes')
        .set({ status: 'attaching', updated_at: t })
        .where('id', '=', volumeId)
        .where('status', 'in', from)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0)
        throw badRequest(`Invalid volume: Volume ${volumeId} changed status while being reserved.`);
      await tx
        .insertInto('volume_attachments')
        .values({
          id,
          volume_id: volumeId,
          project_id: v.projectId,
          instance_id: instanceId,
          host_name: null,
          device: opts.device ?? null,
          attach_status: instanceId ? 'attaching' : 'reserved',
          attach_mode: opts.mode ?? (v.readonly ? 'ro' : 'rw'),
          connector: null,
          attached_at: null,
          created_at: t,
          updated_at: t,
          tag: opts.tag ?? null,
          delete_on_termination: opts.deleteOnTermination ? 1 : 0,
          boot_index: opts.bootIndex ?? null,
        })
        .execute();
    });
    return {
      attachment: await this.get(a, id),
      connection: this.d.backend.connection(volumeId),
      readonly: v.readonly,
      size: v.size,
    };
  }

  /** The hypervisor has the device: the volume is in-use. */
  async complete(attachmentId: string, device: string | null, hostName: string | null): Promise<void> {
    const r = await this.d.db
      .selectFrom('volume_attachments')
      .selectAll()
      .where('id', '=', attachmentId)
      .executeTakeFirst();
    if (!r) return;
    const t = now();
    await this.d.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('volume_attachments')
        .set({ attach_status: 'attached', device, host_name: hostName, attached_at: t, updated_at: t })
        .where('id', '=', attachmentId)
        .execute();
      await tx
        .updateTable('volume_volumes')
        .set({ status: 'in-use', attach_status: 'attached', updated_at: t })
        .where('id', '=', r.volume_id)
        .execute();
    });
  }

  /** The attach failed (or was cancelled): the row goes, the volume returns to what it was, a message says why. */
  async rollback(attachmentId: string, reason?: string): Promise<void> {
    const r = await this.d.db
      .selectFrom('volume_attachments')
      .selectAll()
      .where('id', '=', attachmentId)
      .executeTakeFirst();
    if (!r) return;
    await this.remove(attachmentId, r.volume_id);
    if (reason) await this.d.messages.record(r.project_id, 'VOLUME', r.volume_id, 'ATTACH_VOLUME', reason);
  }

  /** Detach begins: `detaching` (refused unless attached). */
  async beginDetach(attachmentId: string): Promise<void> {
    const r = await this.d.db
      .selectFrom('volume_attachments')
      .selectAll()
      .where('id', '=', attachmentId)
      .executeTakeFirst();
    if (!r) throw notFound(`Volume attachment ${attachmentId} could not be found.`);
    const t = now();
    await this.d.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('volume_attachments')
        .set({ attach_status: 'detaching', updated_at: t })
        .where('id', '=', attachmentId)
        .execute();
      await tx
        .updateTable('volume_volumes')
        .set({ status: 'detaching', updated_at: t })
        .where('id', '=', r.volume_id)
        .execute();
    });
  }

  /** The guest let go (or never will again): the row goes, the volume is available unless still attached elsewhere. */
  async finishDetach(attachmentId: string): Promise<void> {
    const r = await this.d.db
      .selectFrom('volume_attachments')
      .select(['volume_id'])
      .where('id', '=', attachmentId)
      .executeTakeFirst();
    if (r) await this.remove(attachmentId, r.volume_id);
  }

  /** The detach failed: back to in-use, with a message. */
  async rollDetach(attachmentId: string, reason: string): Promise<void> {
    const r = await this.d.db
      .selectFrom('volume_attachments')
      .selectAll()
      .where('id', '=', attachmentId)
      .executeTakeFirst();
    if (!r) return;
    const t = now();
    await this.d.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('volume_attachments')
        .set({ attach_status: 'attached', updated_at: t })
        .where('id', '=', attachmentId)
        .execute();
      await tx
        .updateTable('volume_volumes')
        .set({ status: 'in-use', updated_at: t })
        .where('id', '=', r.volume_id)
        .execute();
    });
    await this.d.messages.record(r.project_id, 'VOLUME', r.volume_id, 'DETACH_VOLUME', reason);
  }

  private async remove(attachmentId: string, volumeId: string): Promise<void> {
    await this.d.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('volume_attachments').where('id', '=', attachmentId).execute();
      const left = await tx
        .selectFrom('volume_attachments')
        .select('id')
        .where('volume_id', '=', volumeId)
        .where('attach_status', '=', 'attached')
        .execute();
      await tx
        .updateTable('volume_volumes')
        .set({
          status: left.length ? 'in-use' : 'available',
          attach_status: left.length ? 'attached' : 'detached',
          updated_at: now(),
        })
        .where('id', '=', volumeId)
        .where('status', 'not in', ['deleting', 'error_deleting'])
        .execute();
    });
  }

  /**
   * A server is gone: every attachment of it is removed, and volumes marked delete_on_termination are deleted
   * (Nova's _cleanup_volumes). Returns the ids of volumes deleted.
   */
  async releaseInstance(instanceId: string, deleteVolume: (volumeId: string) => Promise<void>): Promise<string[]> {
    const rows = await this.d.db
      .selectFrom('volume_attachments')
      .selectAll()
      .where('instance_id', '=', instanceId)
      .execute();
    const deleted: string[] = [];
    for (const r of rows) {
      await this.remove(r.id, r.volume_id);
      if (r.delete_on_termination === 1) {
        await deleteVolume(r.volume_id).then(
          () => deleted.push(r.volume_id),
          (e) => this.d.messages.record(r.project_id, 'VOLUME', r.volume_id, 'DELETE_VOLUME', (e as Error).message),
        );
      }
    }
    return deleted;
  }

  /** After a restart: attaches and detaches that were in flight are settled by what the hypervisor reports. */
  async reconcile(isAttached: (instanceId: string, volumeId: string) => Promise<boolean | null>): Promise<void> {
    const rows = await this.d.db
      .selectFrom('volume_attachments')
      .selectAll()
      .where('attach_status', 'in', ['attaching', 'detaching'])
      .execute();
    for (const r of rows) {
      const there = r.instance_id ? await isAttached(r.instance_id, r.volume_id) : false;
      if (there === null) continue;
      if (there) await this.complete(r.id, r.device, r.host_name);
      else await this.remove(r.id, r.volume_id);
    }
  }

  // --- Cinder's older volume actions (os-reserve, os-attach, ...): records only, no hypervisor involved

  /** os-unreserve: reservations without a device go; the volume is available again. */
  async unreserve(a: AuthContext, volumeId: string): Promise<void> {
    const v = await this.d.volumes.get(a, volumeId);
    for (const x of v.attachments)
      if (x.attachStatus === 'reserved' || x.attachStatus === 'attaching') await this.remove(x.id, volumeId);
    if (v.status === 'attaching' && !v.attachments.length)
      await this.d.volumes.setStatus(volumeId, 'available', ['attaching']);
  }

  /** os-attach: marks the volume attached to a server (or host) at a mount point, reserving first if needed. */
  async attachRecord(
    a: AuthContext,
    volumeId: string,
    spec: { instanceId: string | null; hostName: string | null; mountpoint: string; mode: 'rw' | 'ro' },
  ): Promise<void> {
    const v = await this.d.volumes.get(a, volumeId);
    let att = v.attachments.find(
      (x) => x.attachStatus === 'reserved' || (x.attachStatus === 'attaching' && x.instanceId === spec.instanceId),
    );
    if (!att) att = (await this.reserve(a, volumeId, spec.instanceId, { mode: spec.mode })).attachment;
    else if (spec.instanceId)
      await this.d.db
        .updateTable('volume_attachments')
        .set({ instance_id: spec.instanceId })
        .where('id', '=', att.id)
        .execute();
    await this.complete(att.id, spec.mountpoint, spec.hostName);
  }

  /** os-detach: the given (or only) attachment goes. */
  async detachRecord(a: AuthContext, volumeId: string, attachmentId?: string): Promise<void> {
    const v = await this.d.volumes.get(a, volumeId);
    const live = v.attachments.filter((x) => x.attachStatus !== 'detached');
    const att = attachmentId ? live.find((x) => x.id === attachmentId) : live.length === 1 ? live[0] : undefined;
    if (!att) {
      if (attachmentId)
        throw notFound(`Volume attachment could not be found with filter: attachment_id = ${attachmentId}.`);
      throw badRequest(
        live.length
          ? 'Invalid volume: Volume has several attachments; give attachment_id.'
          : 'Invalid volume: Volume is not attached.',
      );
    }
    await this.remove(att.id, volumeId);
  }

  /** os-begin_detaching / os-roll_detaching. */
  async markDetaching(a: AuthContext, volumeId: string, begin: boolean): Promise<void> {
    const v = await this.d.volumes.get(a, volumeId);
    if (begin && v.status !== 'in-use')
      throw badRequest(`Invalid volume: Volume status must be in-use to begin detaching, but it is ${v.status}.`);
    if (begin) await this.d.volumes.setStatus(volumeId, 'detaching', ['in-use']);
    else await this.d.volumes.setStatus(volumeId, 'in-use', ['detaching']);
  }

  /** The connection of a volume (for reattaching at boot). */
  connection(volumeId: string): VolumeConnection {
    return this.d.backend.connection(volumeId);
  }
}
