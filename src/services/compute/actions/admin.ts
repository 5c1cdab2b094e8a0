// Actions the API finishes itself, with at most a record in os-instance-actions: reset-state, lock and unlock,
// change password, trigger crash dump; and delete (a host task when the guest exists, at once otherwise).
import { forbidden, notFound } from '../../../errors.js';
import type { InstanceRow } from '../../../store/compute-tables.js';
import { type AuthContext, isAdmin, nowIso } from '../common.js';
import { extras } from '../model.js';
import type { ComputePort } from '../peer-services.js';
import { checkState, type ServerAction } from '../states.js';
import { type ActionEnv, recordDone } from './env.js';

/** Writes `set` on the instance and records `action` as done, in one transaction. */
async function setAndRecord(
  env: ActionEnv,
  ctx: AuthContext,
  rid: string,
  inst: InstanceRow,
  action: string,
  set: Partial<InstanceRow>,
): Promise<void> {
  await env.d.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('compute_instances')
      .set({ ...set, updated_at: nowIso() })
      .where('id', '=', inst.id)
      .execute();
    await recordDone(env, trx, ctx, { instanceId: inst.id, action, requestId: rid, projectId: inst.project_id });
  });
}

/** Admin reset of vm_state (active or error); task_state is cleared. */
export async function resetState(
  env: ActionEnv,
  ctx: AuthContext,
  rid: string,
  id: string,
  state: 'active' | 'error',
): Promise<void> {
  const inst = await env.x.servers.get(ctx, id);
  await setAndRecord(env, ctx, rid, inst, 'resetState', { vm_state: state, task_state: null });
}

export async function lock(env: ActionEnv, ctx: AuthContext, rid: string, id: string, reason: string | null) {
  const inst = await env.x.servers.get(ctx, id);
  const by = isAdmin(ctx) && inst.project_id !== ctx.projectId ? 'admin' : 'owner';
  await setAndRecord(env, ctx, rid, inst, 'lock', { locked: 1, locked_by: by, locked_reason: reason });
}

export async function unlock(env: ActionEnv, ctx: AuthContext, rid: string, id: string): Promise<void> {
  const inst = await env.x.servers.get(ctx, id);
  if (inst.locked && inst.locked_by === 'admin' && !isAdmin(ctx)) {
    throw forbidden(`Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.`);
  }
  await setAndRecord(env, ctx, rid, inst, 'unlock', { locked: 0, locked_by: null, locked_reason: null });
}

/** changePassword and trigger_crash_dump: checked and recorded; the guest is not touched (no agent to ask). */
export async function recordOnly(
  env: ActionEnv,
  ctx: AuthContext,
  rid: string,
  id: string,
  action: Extract<ServerAction, 'changePassword' | 'trigger_crash_dump'>,
): Promise<void> {
  const inst = await env.x.servers.get(ctx, id);
  env.x.servers.checkLocked(ctx, inst);
  checkState(action, inst);
  await env.d.db.transaction().execute(async (trx) => {
    await recordDone(env, trx, ctx, {
      instanceId: id,
      action,
      requestId: rid,
      projectId: inst.project_id,
      event: action === 'changePassword' ? 'compute_set_admin_password' : 'compute_trigger_crash_dump',
      host: inst.host,
    });
  });
}

/** Delete: the host destroys the guest and frees its ports; without a host it is immediate. */
export async function deleteServer(
  env: ActionEnv,
  ctx: AuthContext,
  rid: string,
  id: string,
  force = false,
): Promise<void> {
  const { d, x } = env;
  const inst0 = await x.servers.get(ctx, id);
  if (!force) x.servers.checkLocked(ctx, inst0);
  if (force) checkState('forceDelete', inst0);
  let queued = false;
  let orphanPorts: ComputePort[] = [];
  await d.db.transaction().execute(async (trx) => {
    const inst = await x.servers.getRaw(trx, id);
    if (!inst) throw notFound(`Instance ${id} could not be found.`, { code: 'InstanceNotFound' });
    const actionId = await x.actions.start(trx, {
      instanceId: id,
      action: 'delete',
      requestId: rid,
      userId: ctx.userId,
      projectId: inst.project_id,
      event: 'compute_terminate_instance',
      host: inst.host,
    });
    // A guest exists wherever the server has a host, except once shelved-offloaded.
    const hasGuest = !!inst.host && inst.vm_state !== 'shelved_offloaded';
    if (hasGuest && inst.task_state !== 'deleting') {
      await trx
        .updateTable('compute_instances')
        .set({ task_state: 'deleting', updated_at: nowIso() })
        .where('id', '=', id)
        .execute();
      await x.queue.enqueue(trx, { host: inst.host!, kind: 'delete', instanceId: id, payload: { actionId } });
      queued = true;
    } else if (hasGuest) {
      // A delete already under way: its task finishes the first action; this one asked for what is happening.
      await x.actions.finish(trx, actionId);
    } else {
      orphanPorts = extras(inst).ports;
      await x.servers.finalizeDelete(trx, inst);
      await x.actions.finish(trx, actionId);
    }
  });
  if (queued) x.queue.notify();
  // Ports of a server that never reached a host: the network service's own reconciler removes any left behind.
  if (orphanPorts.length)
    await x
      .network()
      .deallocate(id, orphanPorts)
      .catch(() => {});
  const sm = extras(inst0).systemMetadata;
  // A shelved server's image may already be gone (deleted by its owner): nothing left to do then.
  if (!queued && sm.shelved_image_id)
    await x
      .image()
      ?.deleteImage(sm.shelved_image_id)
      .catch(() => {});
}
