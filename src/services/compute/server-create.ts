// Server create: every check first (flavor, boot source, key pair, user data, metadata, zone, networks, group and
// hints), then one transaction that reserves quota and, per instance, writes the row, claims a host and queues the
// spawn. The checks live in server-checks.ts and server-placement.ts; this module is the order they run in.
import { badRequest, conflict, forbidden, isCloudError } from '../../errors.js';
import type { InstanceRow } from '../../store/compute-tables.js';
import { nextSeq, type TaskQueue } from '../../store/task-queue.js';
import { uuid } from '../../util/ids.js';
import { checkBlockDevices } from './block-devices.js';
import { type AuthContext, type ComputeDeps, type Db, nowIso } from './common.js';
import { type DiskConfig, withDiskConfig } from './disk-config.js';
import type { FlavorService } from './flavors.js';
import type { HostService } from './hosts.js';
import type { InstanceActionLog } from './instance-actions.js';
import type { KeypairService } from './keypairs.js';
import { type BlockDevice, type FlavorSnapshot, sanitizeHostname } from './model.js';
import type {
  ComputeImage,
  ComputeImagePort,
  ComputeNetworkPort,
  ComputeVolumePort,
  NicRequest,
} from './peer-services.js';
import type { QuotaService } from './quotas.js';
import type { Scheduler, ScheduleRequest } from './scheduler.js';
import {
  checkFit,
  checkMemoryFit,
  checkMetadataLimits,
  checkUserData,
  findImage,
  imageIdFromRef,
} from './server-checks.js';
import { type GroupPlacement, groupFromHint, hintHosts, resolveAz } from './server-placement.js';

/** A parsed server create request. */
export interface ServerCreateSpec {
  name: string;
  imageRef: string | null;
  flavorRef: string;
  networks: NicRequest[] | 'auto' | 'none' | undefined;
  keyName?: string | null;
  userData?: string | null;
  metadata: Record<string, string>;
  securityGroups: string[];
  availabilityZone?: string | null;
  configDrive: boolean;
  minCount: number;
  maxCount: number;
  hints: Record<string, unknown>;
  description?: string | null;
  hostname?: string | null;
  blockDevices: BlockDevice[];
  accessIPv4?: string | null;
  accessIPv6?: string | null;
  tags: string[];
  /** OS-DCF:diskConfig; undefined: the image's auto_disk_config decides. */
  diskConfig?: DiskConfig;
}

/** The outcome of a create. */
export interface CreateResult {
  instances: InstanceRow[];
  reservationId: string;
}

/** The services a server create (and the rest of ServerService) works with. */
export interface ServerDeps {
  flavors: FlavorService;
  keypairs: KeypairService;
  quotas: QuotaService;
  hosts: HostService;
  scheduler: Scheduler;
  actions: InstanceActionLog;
  queue: TaskQueue;
  image: () => ComputeImagePort | null;
  network: () => ComputeNetworkPort;
  defaultAz: string;
  volume?: () => ComputeVolumePort | null;
}

/** Everything the checks decided, that each instance row and schedule request is built from. */
interface CreatePlan {
  projectId: string;
  flavor: FlavorSnapshot;
  image: ComputeImage;
  imageRef: string;
  blockDevices: BlockDevice[];
  rootGb: number;
  keyData: string | null;
  az: string | null;
  forceHost: string | null;
  nics: NicRequest[];
  group: GroupPlacement | null;
  sameHosts: string[] | null;
  differentHosts: string[];
  reservationId: string;
}

/** Creates min..max instances: checks everything first, then one transaction writes instances, quota and claims. */
export async function createServers(
  d: ComputeDeps,
  x: ServerDeps,
  ctx: AuthContext,
  requestId: string,
  spec: ServerCreateSpec,
): Promise<CreateResult> {
  const plan = await checkCreate(d, x, ctx, spec);
  const created: InstanceRow[] = [];
  await d.db.transaction().execute(async (trx) => {
    const n = await reserveQuota(x.quotas, trx, plan, spec);
    const groupHosts = plan.group ? await groupHostsOf(trx, plan.group.id) : [];
    for (let i = 0; i < n; i++) {
      const row = newInstanceRow(ctx, spec, plan, i, n);
      const req: ScheduleRequest = {
        vcpus: plan.flavor.vcpus,
        memoryMb: plan.flavor.ram,
        diskGb: plan.rootGb + plan.flavor.ephemeral + Math.ceil(plan.flavor.swap / 1024),
        az: plan.az,
        forceHost: plan.forceHost,
        imageProps: plan.image.properties,
        group: plan.group ? { policy: plan.group.policy, hosts: groupHosts, maxPerHost: plan.group.maxPerHost } : null,
        sameHosts: plan.sameHosts,
        differentHosts: plan.differentHosts,
        ignoreHosts: [],
      };
      let host: string | null = null;
      try {
        const node = await x.scheduler.selectAndClaim(trx, req);
        host = node.host;
        row.host = node.host;
        row.node = node.hypervisor_hostname;
        row.availability_zone = plan.az ?? (await x.hosts.zoneOf(node.host, trx));
        row.task_state = 'spawning';
        groupHosts.push(node.host);
      } catch (e) {
        if (!(isCloudError(e) && e.code === 'NoValidHost')) throw e;
        row.vm_state = 'error';
        row.task_state = null;
        row.fault = JSON.stringify({ code: 500, message: e.message, created: row.created_at, details: '' });
      }
      await trx.insertInto('compute_instances').values(row).execute();
      if (plan.group)
        await trx
          .insertInto('compute_server_group_members')
          .values({ group_id: plan.group.id, instance_id: row.id })
          .execute();
      const actionId = await x.actions.start(trx, {
        instanceId: row.id,
        action: 'create',
        requestId,
        userId: ctx.userId,
        projectId: plan.projectId,
        event: 'compute__do_build_and_run_instance',
        host,
      });
      if (host) await x.queue.enqueue(trx, { host, kind: 'spawn', instanceId: row.id, payload: { actionId } });
      else await x.actions.finish(trx, actionId, 'NoValidHost');
      created.push(row);
    }
  });
  x.queue.notify();
  return { instances: created, reservationId: plan.reservationId };
}

/** All of create's checks, in Nova's order; nothing is written. */
async function checkCreate(
  d: ComputeDeps,
  x: ServerDeps,
  ctx: AuthContext,
  spec: ServerCreateSpec,
): Promise<CreatePlan> {
  const projectId = ctx.projectId;
  if (!projectId) throw forbidden('A project-scoped token is required to create servers.');
  if (spec.minCount > spec.maxCount) throw badRequest('min_count must be <= max_count');
  const flavor = await x.flavors.get(ctx, spec.flavorRef).catch((e: unknown) => {
    if (isCloudError(e) && e.status === 404)
      throw badRequest(`Flavor ${spec.flavorRef} could not be found.`, { code: 'FlavorNotFound' });
    throw e;
  });
  if (flavor.disabled) throw badRequest(`Flavor ${flavor.id} is disabled.`);
  const snap: FlavorSnapshot = {
    id: flavor.id,
    name: flavor.name,
    vcpus: flavor.vcpus,
    ram: flavor.ram,
    disk: flavor.disk,
    ephemeral: flavor.ephemeral,
    swap: flavor.swap,
    extraSpecs: flavor.extraSpecs,
  };
  // Boot source: imageRef, or the block device mapping's boot_index 0 (an image, or a volume: boot from volume).
  const boot = await checkBlockDevices(
    ctx,
    spec.blockDevices,
    spec.imageRef ? imageIdFromRef(spec.imageRef) : null,
    x.volume?.() ?? null,
    (id) => findImage(x.image(), ctx, id),
  );
  // A volume-backed server's root disk is its volume: the flavor's disk neither has to fit the image nor is claimed.
  if (boot.volumeBacked) checkMemoryFit(boot.image, snap);
  else checkFit(boot.image, snap);
  let keyData: string | null = null;
  if (spec.keyName) {
    // An unknown key pair is Nova's 400 below, not the key pair service's 404.
    const kp = await x.keypairs.get(ctx.userId, spec.keyName).catch(() => null);
    if (!kp) throw badRequest('Invalid key_name provided.', { code: 'KeypairNotFound' });
    keyData = kp.publicKey;
  }
  if (spec.userData) checkUserData(spec.userData);
  checkMetadataLimits(await x.quotas.limitFor(projectId, 'metadata_items'), spec.metadata);
  const { az, forceHost } = await resolveAz(d, x.hosts, x.defaultAz, ctx, spec.availabilityZone);
  const nics = await resolveNics(x.network(), ctx, spec);
  const group = await groupFromHint(d, x.quotas, ctx, projectId, spec.hints.group, spec.minCount);
  const sameHosts = await hintHosts(d, spec.hints, 'same_host');
  const differentHosts = (await hintHosts(d, spec.hints, 'different_host')) ?? [];
  return {
    projectId,
    flavor: snap,
    image: boot.image,
    imageRef: boot.imageRef,
    blockDevices: boot.blockDevices,
    rootGb: boot.volumeBacked ? 0 : snap.disk,
    keyData,
    az,
    forceHost,
    nics,
    group,
    sameHosts,
    differentHosts,
    reservationId: `r-${uuid().slice(0, 8)}`,
  };
}

/** The requested networks, checked; "auto" (and no "networks" before 2.37) is the project's one usable network. */
async function resolveNics(
  network: ComputeNetworkPort,
  ctx: AuthContext,
  spec: ServerCreateSpec,
): Promise<NicRequest[]> {
  const nics = spec.networks ?? 'auto';
  if (spec.securityGroups.length && network.validateSecurityGroups)
    await network.validateSecurityGroups(ctx, spec.securityGroups);
  if (Array.isArray(nics)) {
    if (spec.maxCount > 1 && nics.some((n) => n.kind === 'port'))
      throw badRequest(
        'Unable to launch multiple instances with a single configured port ID. Please launch your instance one by ' +
          'one with different ports.',
      );
    await network.validate(ctx, nics);
    return nics;
  }
  if (nics === 'none') return [];
  const nets = await network.autoNetworks(ctx);
  if (nets.length > 1)
    throw conflict('Multiple possible networks found, use a Network ID to be more specific.', {
      code: 'NetworkAmbiguous',
    });
  return nets.map((id) => ({ kind: 'network' as const, networkId: id }));
}

/** Reserves quota for maxCount instances, or for minCount when max does not fit (Nova does the same); the count. */
async function reserveQuota(quotas: QuotaService, trx: Db, plan: CreatePlan, spec: ServerCreateSpec): Promise<number> {
  let n = spec.maxCount;
  for (;;) {
    try {
      await quotas.reserve(trx, plan.projectId, {
        instances: n,
        cores: n * plan.flavor.vcpus,
        ram: n * plan.flavor.ram,
      });
      return n;
    } catch (e) {
      if (isCloudError(e) && e.kind === 'OverQuota' && n > spec.minCount) {
        n = spec.minCount;
        continue;
      }
      throw e;
    }
  }
}

/** The hosts the group's live members run on (for the affinity policies). */
async function groupHostsOf(trx: Db, groupId: string): Promise<string[]> {
  const rows = await trx
    .selectFrom('compute_server_group_members')
    .innerJoin('compute_instances', 'compute_instances.id', 'compute_server_group_members.instance_id')
    .select('compute_instances.host as host')
    .where('compute_server_group_members.group_id', '=', groupId)
    .where('compute_instances.deleted', '=', 0)
    .execute();
  return rows.map((r) => r.host).filter((h): h is string => !!h);
}

/** Instance i of n, building and unscheduled; names and hostnames get "-<i+1>" when n > 1. */
function newInstanceRow(ctx: AuthContext, spec: ServerCreateSpec, plan: CreatePlan, i: number, n: number): InstanceRow {
  const id = uuid();
  const { flavor, image } = plan;
  const name = n > 1 ? `${spec.name}-${i + 1}` : spec.name;
  const baseHost = spec.hostname ?? sanitizeHostname(spec.name, `server-${id}`);
  const hostname = n > 1 ? `${baseHost}-${i + 1}` : baseHost;
  const now = nowIso();
  return {
    id,
    seq: nextSeq(),
    name,
    hostname,
    description: spec.description ?? null,
    project_id: plan.projectId,
    user_id: ctx.userId,
    image_ref: plan.imageRef,
    flavor_id: flavor.id,
    flavor: JSON.stringify(flavor),
    old_flavor: null,
    new_flavor: null,
    vcpus: flavor.vcpus,
    memory_mb: flavor.ram,
    root_gb: plan.rootGb + flavor.ephemeral,
    vm_state: 'building',
    task_state: 'scheduling',
    power_state: 0,
    host: null,
    node: null,
    availability_zone: plan.az,
    requested_az: plan.az,
    key_name: spec.keyName ?? null,
    key_data: plan.keyData,
    user_data: spec.userData ?? null,
    metadata: JSON.stringify(spec.metadata),
    system_metadata: JSON.stringify(
      withDiskConfig(
        {
          image_min_disk: String(image.minDisk),
          image_min_ram: String(image.minRam),
          image_name: image.name,
          ...Object.fromEntries(Object.entries(image.properties).map(([k, v]) => [`image_${k}`, v])),
        },
        spec.diskConfig,
      ),
    ),
    tags: JSON.stringify(spec.tags),
    security_groups: JSON.stringify(spec.securityGroups.length ? spec.securityGroups : ['default']),
    requested_networks: JSON.stringify(plan.nics),
    ports: '[]',
    block_devices: JSON.stringify(plan.blockDevices),
    config_drive: spec.configDrive ? 1 : 0,
    access_ip_v4: spec.accessIPv4 ?? null,
    access_ip_v6: spec.accessIPv6 ?? null,
    locked: 0,
    locked_by: null,
    locked_reason: null,
    progress: 0,
    fault: null,
    launch_index: i,
    reservation_id: plan.reservationId,
    server_group_id: plan.group?.id ?? null,
    launched_at: null,
    terminated_at: null,
    created_at: now,
    updated_at: now,
    deleted: 0,
    deleted_at: null,
  };
}
