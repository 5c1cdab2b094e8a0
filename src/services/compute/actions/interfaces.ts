// os-interface: attach a port (a given one, or a new one on a network) to a running server and detach it; the
// host plugs or unplugs the NIC from its task.
import { badRequest, conflict, notFound } from '../../../errors.js';
import { type AuthContext, nowIso } from '../common.js';
import { extras } from '../model.js';
import type { ComputePort, NicRequest } from '../peer-services.js';
import { checkState } from '../states.js';
import type { ActionEnv } from './env.js';

/** The NIC an attach asks for: a port, a network (with a fixed IP), or the project's only network. */
async function requestedNic(
  { x }: ActionEnv,
  ctx: AuthContext,
  req: { networkId?: string; portId?: string; fixedIp?: string },
): Promise<NicRequest> {
  if (req.portId) return { kind: 'port', portId: req.portId };
  if (req.networkId)
    return { kind: 'network', networkId: req.networkId, ...(req.fixedIp ? { fixedIp: req.fixedIp } : {}) };
  const nets = await x.network().autoNetworks(ctx);
  if (nets.length !== 1)
    throw badRequest(
      nets.length
        ? 'Multiple possible networks found, use a Network ID to be more specific.'
        : 'No network is available to attach.',
    );
  return { kind: 'network', networkId: nets[0]! };
}

export async function attachInterface(
  env: ActionEnv,
  ctx: AuthContext,
  rid: string,
  id: string,
  req: { networkId?: string; portId?: string; fixedIp?: string },
): Promise<ComputePort> {
  const { d, x } = env;
  const inst = await x.servers.get(ctx, id);
  x.servers.checkLocked(ctx, inst);
  checkState('attach_interface', inst);
  if (!inst.host) throw conflict(`Instance ${id} is not ready.`, { code: 'InstanceNotReady' });
  const net = x.network();
  const nic = await requestedNic(env, ctx, req);
  await net.validate(ctx, [nic]);
  const [port] = await net.allocate(
    { id, projectId: inst.project_id, userId: inst.user_id, host: inst.host, hostname: inst.hostname },
    [nic],
    [],
  );
  if (!port) throw badRequest('Failed to allocate the network(s), not rescheduling.');
  try {
    await d.db.transaction().execute(async (trx) => {
      const cur = await x.servers.getRaw(trx, id);
      if (!cur) throw notFound(`Instance ${id} could not be found.`);
      await trx
        .updateTable('compute_instances')
        .set({ ports: JSON.stringify([...extras(cur).ports, port]), updated_at: nowIso() })
        .where('id', '=', id)
        .execute();
      const a = await x.actions.start(trx, {
        instanceId: id,
        action: 'attach_interface',
        requestId: rid,
        userId: ctx.userId,
        projectId: cur.project_id,
        event: 'compute_attach_interface',
        host: cur.host,
      });
      await x.queue.enqueue(trx, {
        host: cur.host!,
        kind: 'attach_interface',
        instanceId: id,
        payload: { actionId: a, port },
      });
    });
  } catch (e) {
    // The attach was not queued: its new port goes again; a failure there must not hide `e`.
    await net.deallocate(id, [port]).catch(() => {});
    throw e;
  }
  x.queue.notify();
  return port;
}

export async function detachInterface(
  { d, x }: ActionEnv,
  ctx: AuthContext,
  rid: string,
  id: string,
  portId: string,
): Promise<void> {
  const inst = await x.servers.get(ctx, id);
  x.servers.checkLocked(ctx, inst);
  checkState('detach_interface', inst);
  const port = extras(inst).ports.find((p) => p.id === portId);
  if (!port) throw notFound(`Port ${portId} is not attached`, { code: 'PortNotFound' });
  await d.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('compute_instances')
      .set({ ports: JSON.stringify(extras(inst).ports.filter((p) => p.id !== portId)), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
    const a = await x.actions.start(trx, {
      instanceId: id,
      action: 'detach_interface',
      requestId: rid,
      userId: ctx.userId,
      projectId: inst.project_id,
      event: 'compute_detach_interface',
      host: inst.host,
    });
    await x.queue.enqueue(trx, {
      host: inst.host!,
      kind: 'detach_interface',
      instanceId: id,
      payload: { actionId: a, port },
    });
  });
  x.queue.notify();
}
