// What every server action family shares: its collaborators, the queue step (lock and state checks, a
// compare-and-set of task_state, the action record and the host's task), the record of an action done at once,
// and the scheduler claim a move makes.
import { badRequest, conflict, isCloudError, notFound } from '../../../errors.js';
import type { InstanceRow } from '../../../store/compute-tables.js';
import type { TaskQueue } from '../../../store/task-queue.js';
import type { InstanceStats } from '../../../virt/index.js';
import type { AuthContext, ComputeDeps, Db } from '../common.js';
import { nowIso } from '../common.js';
import type { FlavorService } from '../flavors.js';
import type { HostService } from '../hosts.js';
import type { InstanceActionLog } from '../instance-actions.js';
import type { KeypairService } from '../keypairs.js';
import type { ComputeImagePort, ComputeNetworkPort, ComputeVolumePort } from '../peer-services.js';
import type { QuotaService } from '../quotas.js';
import type { Scheduler, ScheduleRequest } from '../scheduler.js';
import type { ServerService } from '../servers.js';
import { checkState, type ServerAction } from '../states.js';

/** Reads an instance's console or other host facts synchronously (an RPC call in Nova; in-process here). */
export interface HostCalls {
  consoleOutput(host: string, instanceId: string): Promise<string>;
  /** The driver's facts about a running guest (SSH forward, guest addresses); null when it has none. */
  details(host: string, instanceId: string): Promise<Record<string, string> | null>;
  /** A running guest's counters; null when it does not run or the driver keeps none. */
  stats(host: string, instanceId: string): Promise<InstanceStats | null>;
}

/** The services the actions work with. */
export interface ActionDeps {
  servers: ServerService;
  flavors: FlavorService;
  keypairs: KeypairService;
  quotas: QuotaService;
  scheduler: Scheduler;
  hosts: HostService;
  actions: InstanceActionLog;
  queue: TaskQueue;
  image: () => ComputeImagePort | null;
  volume?: () => ComputeVolumePort | null;
  network: () => ComputeNetworkPort;
  calls: () => HostCalls | null;
}

/** The database and the services: what each action family function takes first. */
export interface ActionEnv {
  d: ComputeDeps;
  x: ActionDeps;
}

/** What one queued action needs to say. */
export interface Queued {
  action: ServerAction;
  /** Name in os-instance-actions. */
  name: string;
  /** Event name the host records. */
  event: string;
  /** Task kind for the host. */
  kind: string;
  payload?: Record<string, unknown>;
  /** Extra column changes made with the task_state change. */
  set?: Partial<InstanceRow>;
}

/** A change made inside the queue transaction before the task_state change (claims, quota, a migration row). */
export type BeforeQueue = (trx: Db, inst: InstanceRow) => Promise<Partial<InstanceRow> | undefined>;

/** Loads, checks lock and state, sets task_state (compare-and-set), records the action and queues the task. */
export async function queueAction(
  { d, x }: ActionEnv,
  ctx: AuthContext,
  requestId: string,
  id: string,
  q: Queued,
  before?: BeforeQueue,
): Promise<InstanceRow> {
  const inst0 = await x.servers.get(ctx, id);
  if (q.action !== 'unlock' && q.action !== 'lock') x.servers.checkLocked(ctx, inst0);
  const rule = checkState(q.action, inst0);
  await d.db.transaction().execute(async (trx) => {
    const inst = await x.servers.getRaw(trx, id);
    if (!inst) throw notFound(`Instance ${id} could not be found.`, { code: 'InstanceNotFound' });
    checkState(q.action, inst);
    const extra = (before ? await before(trx, inst) : undefined) ?? {};
    const host = extra.host !== undefined ? extra.host : inst.host;
    if (!host) throw conflict(`Instance ${id} is not ready: it has no host.`, { code: 'InstanceNotReady' });
    let upd = trx
      .updateTable('compute_instances')
      .set({ task_state: rule.sets, updated_at: nowIso(), ...q.set, ...extra })
      .where('id', '=', id)
      .where('vm_state', '=', inst.vm_state);
    upd =
      inst.task_state === null ? upd.where('task_state', 'is', null) : upd.where('task_state', '=', inst.task_state);
    const r = await upd.executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1)
      throw conflict(`Cannot '${q.name}' instance ${id} while it is in task_state ${inst.task_state ?? 'None'}`);
    const actionId = await x.actions.start(trx, {
      instanceId: id,
      action: q.name,
      requestId,
      userId: ctx.userId,
      projectId: inst.project_id,
      event: q.event,
      host,
    });
    await x.queue.enqueue(trx, { host, kind: q.kind, instanceId: id, payload: { actionId, ...q.payload } });
  });
  x.queue.notify();
  return x.servers.get(ctx, id);
}

/** Records an action the API finished itself (no host task): started and finished in the caller's transaction. */
export async function recordDone(
  { x }: ActionEnv,
  trx: Db,
  ctx: AuthContext,
  a: { instanceId: string; action: string; requestId: string; projectId: string; event?: string; host?: string | null },
): Promise<void> {
  const actionId = await x.actions.start(trx, { ...a, userId: ctx.userId });
  await x.actions.finish(trx, actionId);
}

/** A scheduler claim for a move (unshelve, resize, migrate): no image, group or hints; NoValidHost is Nova's 400. */
export function claimForMove(
  { x }: ActionEnv,
  trx: Db,
  req: Pick<ScheduleRequest, 'vcpus' | 'memoryMb' | 'diskGb' | 'az' | 'forceHost' | 'ignoreHosts'>,
) {
  return x.scheduler
    .selectAndClaim(trx, { ...req, imageProps: {}, group: null, sameHosts: null, differentHosts: [] })
    .catch((e: unknown) => {
      if (isCloudError(e) && e.code === 'NoValidHost') throw badRequest(e.message, { code: 'NoValidHost' });
      throw e;
    });
}
