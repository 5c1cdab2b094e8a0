// Moves: resize (new flavor) and cold migrate (same flavor, another host) with their confirm and revert, and live
// migration. Each claims the destination in the queue transaction and records a row in compute_migrations.
import { badRequest, isCloudError, notFound } from '../../../errors.js';
import type { InstanceRow } from '../../../store/compute-tables.js';
import { uuid } from '../../../util/ids.js';
import { type AuthContext, type Db, nextIntId, nowIso, withIdRetry } from '../common.js';
import { type DiskConfig, withDiskConfig } from '../disk-config.js';
import { extras, type FlavorSnapshot } from '../model.js';
import { checkState } from '../states.js';
import { type ActionEnv, claimForMove, queueAction, recordDone } from './env.js';

/** Resize (new flavor) or cold migrate (flavorRef null: same flavor, another host). */
export async function resize(
  env: ActionEnv,
  ctx: AuthContext,
  rid: string,
  id: string,
  flavorRef: string | null,
  opts: { host?: string | null; diskConfig?: DiskConfig } = {},
): Promise<void> {
  const { x } = env;
  const inst0 = await x.servers.get(ctx, id);
  const migrate = flavorRef === null;
  const old = extras(inst0).flavor;
  const next = migrate ? old : await resizeTarget(env, ctx, flavorRef, old);
  await queueAction(
    env,
    ctx,
    rid,
    id,
    {
      action: migrate ? 'migrate' : 'resize',
      name: migrate ? 'migrate' : 'resize',
      event: 'compute_resize_instance',
      kind: 'resize',
    },
    async (trx, inst) => {
      const dCores = next.vcpus - old.vcpus;
      const dRam = next.ram - old.ram;
      if (dCores > 0 || dRam > 0)
        await x.quotas.reserve(trx, inst.project_id, {
          instances: 0,
          cores: Math.max(0, dCores),
          ram: Math.max(0, dRam),
        });
      if (dCores < 0 || dRam < 0)
        await x.quotas.add(trx, inst.project_id, {
          instances: 0,
          cores: Math.min(0, dCores),
          ram: Math.min(0, dRam),
        });
      const node = await claimForMove(env, trx, {
        vcpus: next.vcpus,
        memoryMb: next.ram,
        diskGb: next.disk + next.ephemeral,
        az: inst.requested_az,
        forceHost: opts.host ?? null,
        ignoreHosts: migrate ? [inst.host!] : [],
      });
      const migId = await createMigration(trx, inst, migrate ? 'migration' : 'resize', node.host, old.id, next.id);
      return {
        old_flavor: JSON.stringify(old),
        new_flavor: JSON.stringify(next),
        system_metadata: JSON.stringify({
          ...withDiskConfig(extras(inst).systemMetadata, opts.diskConfig),
          old_vm_state: inst.vm_state,
          migration_id: String(migId),
          source_host: inst.host!,
          source_node: inst.node ?? inst.host!,
          dest_host: node.host,
          dest_node: node.hypervisor_hostname,
        }),
      };
    },
  );
}

/** The flavor a resize goes to: it exists, differs from the old one, and has no smaller disk. */
async function resizeTarget(
  { x }: ActionEnv,
  ctx: AuthContext,
  flavorRef: string,
  old: FlavorSnapshot,
): Promise<FlavorSnapshot> {
  const f = await x.flavors.get(ctx, flavorRef).catch((e: unknown) => {
    if (isCloudError(e) && e.status === 404)
      throw badRequest(`Flavor ${flavorRef} could not be found.`, { code: 'FlavorNotFound' });
    throw e;
  });
  if (f.id === old.id)
    throw badRequest('When resizing, instances must change flavor!', { code: 'CannotResizeToSameFlavor' });
  if (f.disk < old.disk)
    throw badRequest('Resize to a smaller disk flavor is not allowed.', { code: 'CannotResizeDisk' });
  return {
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    ram: f.ram,
    disk: f.disk,
    ephemeral: f.ephemeral,
    swap: f.swap,
    extraSpecs: f.extraSpecs,
  };
}

async function createMigration(
  trx: Db,
  inst: InstanceRow,
  type: string,
  dest: string,
  oldFlavor: string,
  newFlavor: string,
): Promise<number> {
  const now = nowIso();
  return withIdRetry(async () => {
    const n = await nextIntId(trx, 'compute_migrations');
    await trx
      .insertInto('compute_migrations')
      .values({
        id: n,
        uuid: uuid(),
        instance_id: inst.id,
        project_id: inst.project_id,
        user_id: inst.user_id,
        migration_type: type,
        status: 'pre-migrating',
        source_compute: inst.host,
        dest_compute: dest,
        source_node: inst.node,
        dest_node: dest,
        dest_host: null,
        old_flavor_id: oldFlavor,
        new_flavor_id: newFlavor,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return n;
  });
}

/** Confirm: the source gives back the old claim; the instance keeps the new flavor. */
export async function confirmResize(env: ActionEnv, ctx: AuthContext, rid: string, id: string): Promise<void> {
  const { d, x } = env;
  const inst0 = await x.servers.get(ctx, id);
  x.servers.checkLocked(ctx, inst0);
  checkState('confirmResize', inst0);
  await d.db.transaction().execute(async (trx) => {
    const inst = await x.servers.getRaw(trx, id);
    if (!inst) throw notFound(`Instance ${id} could not be found.`);
    checkState('confirmResize', inst);
    const sm = extras(inst).systemMetadata;
    const old = JSON.parse(inst.old_flavor ?? inst.flavor) as FlavorSnapshot;
    await x.scheduler.release(trx, sm.source_host ?? null, {
      vcpus: old.vcpus,
      memoryMb: old.ram,
      diskGb: old.disk + old.ephemeral,
    });
    const oldVm = sm.old_vm_state === 'stopped' ? 'stopped' : 'active';
    const {
      old_vm_state: _a,
      migration_id: migId,
      source_host: _s,
      source_node: _n,
      dest_host: _d,
      dest_node: _dn,
      ...rest
    } = sm;
    await trx
      .updateTable('compute_instances')
      .set({
        vm_state: oldVm,
        task_state: null,
        old_flavor: null,
        new_flavor: null,
        system_metadata: JSON.stringify(rest),
        updated_at: nowIso(),
      })
      .where('id', '=', id)
      .execute();
    if (migId)
      await trx
        .updateTable('compute_migrations')
        .set({ status: 'confirmed', updated_at: nowIso() })
        .where('id', '=', Number(migId))
        .execute();
    await recordDone(env, trx, ctx, {
      instanceId: id,
      action: 'confirmResize',
      requestId: rid,
      projectId: inst.project_id,
      event: 'compute_confirm_resize',
      host: inst.host,
    });
  });
}

/** Revert: back to the source host and the old flavor; the destination claim is released. */
export async function revertResize(env: ActionEnv, ctx: AuthContext, rid: string, id: string): Promise<void> {
  const { x } = env;
  await queueAction(
    env,
    ctx,
    rid,
    id,
    { action: 'revertResize', name: 'revertResize', event: 'compute_revert_resize', kind: 'revert_resize' },
    async (trx, inst) => {
      const sm = extras(inst).systemMetadata;
      const next = JSON.parse(inst.flavor) as FlavorSnapshot;
      const old = JSON.parse(inst.old_flavor ?? inst.flavor) as FlavorSnapshot;
      await x.scheduler.release(trx, inst.host, {
        vcpus: next.vcpus,
        memoryMb: next.ram,
        diskGb: next.disk + next.ephemeral,
      });
      await x.quotas.add(trx, inst.project_id, {
        instances: 0,
        cores: old.vcpus - next.vcpus,
        ram: old.ram - next.ram,
      });
      if (sm.migration_id)
        await trx
          .updateTable('compute_migrations')
          .set({ status: 'reverting', updated_at: nowIso() })
          .where('id', '=', Number(sm.migration_id))
          .execute();
      return {
        host: sm.source_host ?? inst.host,
        node: sm.source_node ?? inst.node,
        flavor: JSON.stringify(old),
        flavor_id: old.id,
        vcpus: old.vcpus,
        memory_mb: old.ram,
        root_gb: old.disk + old.ephemeral,
        new_flavor: null,
        old_flavor: null,
      };
    },
  );
}

/** Live migration (admin): to a named host or one the scheduler picks. */
export async function liveMigrate(
  env: ActionEnv,
  ctx: AuthContext,
  rid: string,
  id: string,
  host: string | null,
): Promise<void> {
  await queueAction(
    env,
    ctx,
    rid,
    id,
    { action: 'os-migrateLive', name: 'live-migration', event: 'compute_live_migration', kind: 'live_migrate' },
    async (trx, inst) => {
      if (host && host === inst.host)
        throw badRequest(
          `The supplied hypervisor type of is invalid.: source and destination host are the same (${host})`,
          { code: 'InvalidHypervisorType' },
        );
      const node = await claimForMove(env, trx, {
        vcpus: inst.vcpus,
        memoryMb: inst.memory_mb,
        diskGb: inst.root_gb,
        az: null,
        forceHost: host,
        ignoreHosts: [inst.host!],
      });
      const migId = await createMigration(trx, inst, 'live-migration', node.host, inst.flavor_id, inst.flavor_id);
      return {
        system_metadata: JSON.stringify({
          ...extras(inst).systemMetadata,
          migration_id: String(migId),
          dest_host: node.host,
          dest_node: node.hypervisor_hostname,
        }),
      };
    },
  );
}
