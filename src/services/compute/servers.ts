// Over 400 lines, not yet split: create, query and metadata/tags share the private lookups (get, checkLocked,
// resolveAz) of one class; the split along those seams (issue 10 item 5) is still open.
import { badRequest, conflict, forbidden, notFound, overQuota, type CloudError, isCloudError } from '../../errors.js';
import type { InstanceRow } from '../../store/compute-tables.js';
import { nextSeq, type TaskQueue } from '../../store/task-queue.js';
import { uuid } from '../../util/ids.js';
import { type AuthContext, type ComputeDeps, type Db, isAdmin, nowIso } from './common.js';
import type { FlavorService } from './flavors.js';
import type { HostService } from './hosts.js';
import type { InstanceActionLog } from './instance-actions.js';
import type { KeypairService } from './keypairs.js';
import { type BlockDevice, type FlavorSnapshot, extras, sanitizeHostname } from './model.js';
import { type DiskConfig, withDiskConfig } from './disk-config.js';
import type {
  ComputeImage,
  ComputeImagePort,
  ComputeNetworkPort,
  ComputeVolumePort,
  NicRequest,
} from './peer-services.js';
import { checkBlockDevices } from './block-devices.js';
import type { QuotaService } from './quotas.js';
import type { Scheduler, ScheduleRequest } from './scheduler.js';
import { statesForStatus, statusOf } from './states.js';

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

/** Filters of a server list, as the API parsed them. */
export interface ServerListQuery {
  allTenants: boolean;
  projectId?: string;
  userId?: string;
  name?: string;
  status?: string;
  host?: string;
  image?: string;
  flavor?: string;
  ip?: string;
  ip6?: string;
  changesSince?: string;
  changesBefore?: string;
  reservationId?: string;
  availabilityZone?: string;
  deleted?: boolean;
  locked?: boolean;
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
  vmState?: string;
  taskState?: string;
  keyName?: string;
  sortKeys: string[];
  sortDirs: ('asc' | 'desc')[];
  limit?: number;
  marker?: string;
}

const SORT_KEYS: Record<string, keyof InstanceRow> = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  display_name: 'name',
  id: 'id',
  uuid: 'id',
  hostname: 'hostname',
  host: 'host',
  node: 'node',
  vm_state: 'vm_state',
  task_state: 'task_state',
  power_state: 'power_state',
  availability_zone: 'availability_zone',
  launched_at: 'launched_at',
  terminated_at: 'terminated_at',
  key_name: 'key_name',
  project_id: 'project_id',
  user_id: 'user_id',
  image_ref: 'image_ref',
  instance_type_id: 'flavor_id',
  locked: 'locked',
  display_description: 'description',
  launch_index: 'launch_index',
  progress: 'progress',
  root_device_name: 'name',
  config_drive: 'config_drive',
  kernel_id: 'image_ref',
  ramdisk_id: 'image_ref',
  access_ip_v4: 'access_ip_v4',
  access_ip_v6: 'access_ip_v6',
  reservation_id: 'reservation_id',
  vcpus: 'vcpus',
  memory_mb: 'memory_mb',
  root_gb: 'root_gb',
};

const MAX_USER_DATA = 65535;

/** The image id from an imageRef that may be a URL. */
export function imageIdFromRef(ref: string): string {
  const m = /\/images\/([^/?#]+)\/?$/.exec(ref);
  return m ? m[1]! : ref;
}

/** The image a request names (an id or an image URL), or Nova's 400 ImageNotFound when the image service has none. */
export async function findImage(
  port: ComputeImagePort | undefined | null,
  ctx: AuthContext,
  ref: string,
): Promise<ComputeImage> {
  const id = imageIdFromRef(ref);
  if (!port) throw badRequest(`Image ${id} could not be found.`, { code: 'ImageNotFound' });
  try {
    return await port.getImage(ctx, id);
  } catch (e) {
    if (isCloudError(e) && e.status === 404)
      throw badRequest(`Image ${id} could not be found.`, { code: 'ImageNotFound' });
    throw e;
  }
}

/** Servers: create, read, update, delete, metadata and tags. Actions live in ServerActions. */
export class ServerService {
  constructor(
    private readonly d: ComputeDeps,
    private readonly x: {
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
    },
  ) {}

  /** Nova's image/flavor fit checks. */
  checkFit(image: ComputeImage, flavor: FlavorSnapshot): void {
    if (image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`, { code: 'ImageNotActive' });
    const gib = 1024 ** 3;
    if (flavor.disk > 0) {
      if (image.size !== null && image.size > flavor.disk * gib) {
        throw badRequest(
          `Flavor's disk is too small for requested image. Flavor disk is ${flavor.disk * gib} bytes, image is ${image.size} bytes.`,
          { code: 'FlavorDiskTooSmall' },
        );
      }
      if (image.minDisk > flavor.disk) {
        throw badRequest(
          `Flavor's disk is too small for requested image. Flavor disk is ${flavor.disk * gib} bytes, minimum required by image is ${image.minDisk * gib} bytes.`,
          { code: 'FlavorDiskTooSmall' },
        );
      }
    }
    if (image.minRam > flavor.ram)
      throw badRequest(`Flavor's memory is too small for requested image.`, { code: 'FlavorMemoryTooSmall' });
  }

  private resolveImage(ctx: AuthContext, ref: string): Promise<ComputeImage> {
    return findImage(this.x.image(), ctx, ref);
  }

  /** Validates user data: base64, at most 65535 bytes as sent. */
  static checkUserData(data: string): void {
    if (data.length > MAX_USER_DATA) {
      throw badRequest(
        `User data too large. User data must be no larger than ${MAX_USER_DATA} bytes once base64 encoded. Your data is ${data.length} bytes`,
      );
    }
    const clean = data.replace(/\s/g, '');
    if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean))
      throw badRequest('User data needs to be valid base 64.');
  }

  /** Checks metadata against the metadata_items quota and Nova's key/value limits. */
  async checkMetadata(projectId: string, md: Record<string, string>): Promise<void> {
    const limit = await this.x.quotas.limitFor(projectId, 'metadata_items');
    const n = Object.keys(md).length;
    if (limit >= 0 && n > limit)
      throw overQuota(
        `Quota exceeded for metadata_items: Requested ${n}, but already used 0 of ${limit} metadata_items`,
        { code: 'MetadataLimitExceeded' },
      );
    for (const [k, v] of Object.entries(md)) {
      if (k.length === 0 || k.length > 255)
        throw badRequest('Metadata property key greater than 255 characters', { code: 'InvalidMetadataSize' });
      if (typeof v !== 'string' || v.length > 255)
        throw badRequest('Metadata property value greater than 255 characters', { code: 'InvalidMetadataSize' });
    }
  }

  private async resolveAz(
    ctx: AuthContext,
    az: string | null | undefined,
  ): Promise<{ az: string | null; forceHost: string | null }> {
    if (!az) return { az: null, forceHost: null };
    const parts = az.split(':');
    const zone = parts[0] || null;
    const host = parts[1] || null;
    if (host) {
      if (!isAdmin(ctx))
        throw forbidden(`Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.`);
      const node = await this.d.db
        .selectFrom('compute_nodes')
        .select('host')
        .where((eb) => eb.or([eb('host', '=', host), eb('hypervisor_hostname', '=', host)]))
        .executeTakeFirst();
      if (!node) throw badRequest(`Compute host ${host} could not be found.`, { code: 'ComputeHostNotFound' });
    }
    if (zone) {
      const zones = new Set([this.x.defaultAz, ...(await this.x.hosts.hostZones()).values()]);
      if (!zones.has(zone))
        throw badRequest('The requested availability zone is not available', { code: 'InvalidRequest' });
    }
    return { az: zone, forceHost: host };
  }

  /** Creates min..max instances: checks everything first, then one transaction writes instances, quota and claims. */
  async create(ctx: AuthContext, requestId: string, spec: ServerCreateSpec): Promise<CreateResult> {
    const projectId = ctx.projectId;
    if (!projectId) throw forbidden('A project-scoped token is required to create servers.');
    if (spec.minCount > spec.maxCount) throw badRequest('min_count must be <= max_count');
    const flavor = await this.x.flavors.get(ctx, spec.flavorRef).catch((e: unknown) => {
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
    const plan = await checkBlockDevices(
      ctx,
      spec.blockDevices,
      spec.imageRef ? imageIdFromRef(spec.imageRef) : null,
      this.x.volume?.() ?? null,
      (id) => this.resolveImage(ctx, id),
    );
    const image = plan.image;
    // A volume-backed server's root disk is its volume: the flavor's disk neither has to fit the image nor is claimed.
    if (plan.volumeBacked) {
      if (image.minRam > snap.ram)
        throw badRequest(`Flavor's memory is too small for requested image.`, { code: 'FlavorMemoryTooSmall' });
    } else this.checkFit(image, snap);
    const rootGb = plan.volumeBacked ? 0 : snap.disk;
    let keyData: string | null = null;
    if (spec.keyName) {
      // An unknown key pair is Nova's 400 below, not the key pair service's 404.
      const kp = await this.x.keypairs.get(ctx.userId, spec.keyName).catch(() => null);
      if (!kp) throw badRequest('Invalid key_name provided.', { code: 'KeypairNotFound' });
      keyData = kp.publicKey;
    }
    if (spec.userData) ServerService.checkUserData(spec.userData);
    await this.checkMetadata(projectId, spec.metadata);
    const { az, forceHost } = await this.resolveAz(ctx, spec.availabilityZone);
    const network = this.x.network();
    let nics: NicRequest[] | 'auto' | 'none' = spec.networks ?? 'auto';
    if (spec.securityGroups.length && network.validateSecurityGroups)
      await network.validateSecurityGroups(ctx, spec.securityGroups);
    if (Array.isArray(nics)) {
      if (spec.maxCount > 1 && nics.some((n) => n.kind === 'port'))
        throw badRequest(
          'Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.',
        );
      await network.validate(ctx, nics);
    } else if (nics === 'auto') {
      // "auto", and before 2.37 no "networks" at all: the project's one usable network (Nova's default).
      const nets = await network.autoNetworks(ctx);
      if (nets.length > 1)
        throw conflict('Multiple possible networks found, use a Network ID to be more specific.', {
          code: 'NetworkAmbiguous',
        });
      nics = nets.map((id) => ({ kind: 'network' as const, networkId: id }));
    } else {
      nics = [];
    }
    // Server group and hints.
    let group: { id: string; policy: string; maxPerHost: number } | null = null;
    const groupHint = spec.hints.group;
    if (groupHint !== undefined) {
      const g = await this.d.db
        .selectFrom('compute_server_groups')
        .selectAll()
        .where('id', '=', String(groupHint))
        .executeTakeFirst();
      if (!g || (g.project_id !== projectId && !isAdmin(ctx)))
        throw badRequest(`Invalid server group ${String(groupHint)}`, { code: 'InvalidServerGroup' });
      const rules = JSON.parse(g.rules) as { max_server_per_host?: number };
      group = { id: g.id, policy: g.policy, maxPerHost: rules.max_server_per_host ?? 1 };
      const limit = await this.x.quotas.limitFor(projectId, 'server_group_members');
      const members = await this.d.db
        .selectFrom('compute_server_group_members')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('group_id', '=', g.id)
        .executeTakeFirstOrThrow();
      if (limit >= 0 && Number(members.n) + spec.minCount > limit)
        throw overQuota('Quota exceeded, too many servers in group', { code: 'QuotaError' });
    }
    const hintHosts = async (key: string): Promise<string[] | null> => {
      const v = spec.hints[key];
      if (v === undefined) return null;
      const ids = (Array.isArray(v) ? v : [v]).map(String);
      const rows = await this.d.db
        .selectFrom('compute_instances')
        .select(['id', 'host'])
        .where('id', 'in', ids.length ? ids : ['-'])
        .where('deleted', '=', 0)
        .execute();
      return rows.map((r) => r.host).filter((h): h is string => !!h);
    };
    const sameHosts = await hintHosts('same_host');
    const differentHosts = (await hintHosts('different_host')) ?? [];

    const reservationId = `r-${uuid().slice(0, 8)}`;
    const count = spec.maxCount;
    const created: InstanceRow[] = [];
    await this.d.db.transaction().execute(async (trx) => {
      // Take as many as the quota allows between min and max (Nova does the same).
      let n = count;
      for (;;) {
        try {
          await this.x.quotas.reserve(trx, projectId, { instances: n, cores: n * snap.vcpus, ram: n * snap.ram });
          break;
        } catch (e) {
          if (isCloudError(e) && e.kind === 'OverQuota' && n > spec.minCount) {
            n = spec.minCount;
            continue;
          }
          throw e;
        }
      }
      const groupHosts = group
        ? (
            await trx
              .selectFrom('compute_server_group_members')
              .innerJoin('compute_instances', 'compute_instances.id', 'compute_server_group_members.instance_id')
              .select('compute_instances.host as host')
              .where('compute_server_group_members.group_id', '=', group.id)
              .where('compute_instances.deleted', '=', 0)
              .execute()
          )
            .map((r) => r.host)
            .filter((h): h is string => !!h)
        : [];
      for (let i = 0; i < n; i++) {
        const id = uuid();
        const name = n > 1 ? `${spec.name}-${i + 1}` : spec.name;
        const baseHost = spec.hostname ?? sanitizeHostname(spec.name, `server-${id}`);
        const hostname = n > 1 ? `${baseHost}-${i + 1}` : baseHost;
        const now = nowIso();
        const row: InstanceRow = {
          id,
          seq: nextSeq(),
          name,
          hostname,
          description: spec.description ?? null,
          project_id: projectId,
          user_id: ctx.userId,
          image_ref: plan.imageRef,
          flavor_id: snap.id,
          flavor: JSON.stringify(snap),
          old_flavor: null,
          new_flavor: null,
          vcpus: snap.vcpus,
          memory_mb: snap.ram,
          root_gb: rootGb + snap.ephemeral,
          vm_state: 'building',
          task_state: 'scheduling',
          power_state: 0,
          host: null,
          node: null,
          availability_zone: az,
          requested_az: az,
          key_name: spec.keyName ?? null,
          key_data: keyData,
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
          requested_networks: JSON.stringify(nics),
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
          reservation_id: reservationId,
          server_group_id: group?.id ?? null,
          launched_at: null,
          terminated_at: null,
          created_at: now,
          updated_at: now,
          deleted: 0,
          deleted_at: null,
        };
        const req: ScheduleRequest = {
          vcpus: snap.vcpus,
          memoryMb: snap.ram,
          diskGb: rootGb + snap.ephemeral + Math.ceil(snap.swap / 1024),
          az,
          forceHost,
          imageProps: image.properties,
          group: group ? { policy: group.policy, hosts: groupHosts, maxPerHost: group.maxPerHost } : null,
          sameHosts,
          differentHosts,
          ignoreHosts: [],
        };
        let host: string | null = null;
        try {
          const node = await this.x.scheduler.selectAndClaim(trx, req);
          host = node.host;
          row.host = node.host;
          row.node = node.hypervisor_hostname;
          row.availability_zone = az ?? (await this.x.hosts.zoneOf(node.host, trx));
          row.task_state = 'spawning';
          groupHosts.push(node.host);
        } catch (e) {
          if (!(isCloudError(e) && e.code === 'NoValidHost')) throw e;
          row.vm_state = 'error';
          row.task_state = null;
          row.fault = JSON.stringify({ code: 500, message: e.message, created: now, details: '' });
        }
        await trx.insertInto('compute_instances').values(row).execute();
        if (group)
          await trx
            .insertInto('compute_server_group_members')
            .values({ group_id: group.id, instance_id: id })
            .execute();
        const actionId = await this.x.actions.start(trx, {
          instanceId: id,
          action: 'create',
          requestId,
          userId: ctx.userId,
          projectId,
          event: 'compute__do_build_and_run_instance',
          host,
        });
        if (host) await this.x.queue.enqueue(trx, { host, kind: 'spawn', instanceId: id, payload: { actionId } });
        else await this.x.actions.finish(trx, actionId, 'NoValidHost');
        created.push(row);
      }
    });
    this.x.queue.notify();
    return { instances: created, reservationId };
  }

  /** An instance the caller may see (admins see all); deleted ones are not found. */
  async get(ctx: AuthContext, id: string, opts: { includeDeleted?: boolean } = {}): Promise<InstanceRow> {
    let q = this.d.db.selectFrom('compute_instances').selectAll().where('id', '=', id);
    if (!opts.includeDeleted) q = q.where('deleted', '=', 0);
    const r = await q.executeTakeFirst();
    if (!r || (!isAdmin(ctx) && r.project_id !== ctx.projectId))
      throw notFound(`Instance ${id} could not be found.`, { code: 'InstanceNotFound' });
    return r;
  }

  async getRaw(trx: Db, id: string): Promise<InstanceRow | undefined> {
    return trx
      .selectFrom('compute_instances')
      .selectAll()
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirst();
  }

  /** Lists with Nova's filters, sorting and marker pagination. */
  async list(ctx: AuthContext, q: ServerListQuery): Promise<InstanceRow[]> {
    let query = this.d.db.selectFrom('compute_instances').selectAll();
    const admin = isAdmin(ctx);
    if (!admin || !q.allTenants)
      query = query.where('project_id', '=', admin && q.projectId ? q.projectId : (ctx.projectId ?? '-'));
    else if (q.projectId) query = query.where('project_id', '=', q.projectId);
    if (q.deleted && admin) query = query.where('deleted', '=', 1);
    else if (!q.changesSince && !q.changesBefore) query = query.where('deleted', '=', 0);
    if (q.userId) query = query.where('user_id', '=', q.userId);
    if (q.host && admin) query = query.where('host', '=', q.host);
    if (q.image) query = query.where('image_ref', '=', imageIdFromRef(q.image));
    if (q.flavor) query = query.where('flavor_id', '=', q.flavor);
    if (q.reservationId) query = query.where('reservation_id', '=', q.reservationId);
    if (q.availabilityZone) query = query.where('availability_zone', '=', q.availabilityZone);
    if (q.changesSince) query = query.where('updated_at', '>=', new Date(q.changesSince).toISOString());
    if (q.changesBefore) query = query.where('updated_at', '<=', new Date(q.changesBefore).toISOString());
    if (q.locked !== undefined) query = query.where('locked', '=', q.locked ? 1 : 0);
    if (q.vmState) query = query.where('vm_state', '=', q.vmState);
    if (q.taskState) query = query.where('task_state', '=', q.taskState);
    if (q.keyName) query = query.where('key_name', '=', q.keyName);
    if (q.status) {
      const vms = [...new Set(statesForStatus(q.status).map((p) => p.vm))];
      if (vms.length === 0) return [];
      query = query.where('vm_state', 'in', vms);
    }
    const keys = q.sortKeys.length ? q.sortKeys : ['created_at'];
    keys.forEach((k, i) => {
      const col = SORT_KEYS[k];
      if (!col) throw badRequest(`Invalid sort key: ${k}`);
      query = query.orderBy(col, q.sortDirs[i] ?? q.sortDirs[0] ?? 'desc');
    });
    query = query.orderBy('id', q.sortDirs[0] ?? 'desc');
    const needsMemoryFilter = !!(
      q.name ||
      q.ip ||
      q.ip6 ||
      q.tags ||
      q.tagsAny ||
      q.notTags ||
      q.notTagsAny ||
      q.status
    );
    if (!needsMemoryFilter && q.marker === undefined && q.limit !== undefined) query = query.limit(q.limit);
    let rows = await query.execute();
    if (q.status) rows = rows.filter((r) => statusOf(r.vm_state, r.task_state) === q.status!.toUpperCase());
    if (q.name) {
      let re: RegExp;
      try {
        re = new RegExp(q.name);
      } catch {
        re = new RegExp(q.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      }
      rows = rows.filter((r) => re.test(r.name));
    }
    if (q.ip || q.ip6) {
      const re = new RegExp((q.ip ?? q.ip6)!.replace(/\./g, '\\.'));
      rows = rows.filter((r) =>
        (JSON.parse(r.ports) as { fixedIps: { ipAddress: string }[]; floatingIps: string[] }[]).some(
          (p) => p.fixedIps.some((f) => re.test(f.ipAddress)) || p.floatingIps.some((f) => re.test(f)),
        ),
      );
    }
    const tagsOf = (r: InstanceRow) => new Set(JSON.parse(r.tags) as string[]);
    if (q.tags)
      rows = rows.filter((r) => {
        const t = tagsOf(r);
        return q.tags!.every((x) => t.has(x));
      });
    if (q.tagsAny)
      rows = rows.filter((r) => {
        const t = tagsOf(r);
        return q.tagsAny!.some((x) => t.has(x));
      });
    if (q.notTags)
      rows = rows.filter((r) => {
        const t = tagsOf(r);
        return !q.notTags!.every((x) => t.has(x));
      });
    if (q.notTagsAny)
      rows = rows.filter((r) => {
        const t = tagsOf(r);
        return !q.notTagsAny!.some((x) => t.has(x));
      });
    if (q.marker !== undefined) {
      const i = rows.findIndex((r) => r.id === q.marker);
      if (i < 0) throw badRequest(`marker [${q.marker}] not found`, { code: 'MarkerNotFound' });
      rows = rows.slice(i + 1);
    }
    if (q.limit !== undefined) rows = rows.slice(0, q.limit);
    return rows;
  }

  /** Rename, description, hostname, access IPs, disk config. */
  async update(
    ctx: AuthContext,
    id: string,
    change: {
      name?: string;
      description?: string | null;
      hostname?: string;
      accessIPv4?: string | null;
      accessIPv6?: string | null;
      diskConfig?: DiskConfig;
    },
  ): Promise<InstanceRow> {
    const inst = await this.get(ctx, id);
    this.checkLocked(ctx, inst);
    const set: Partial<InstanceRow> = { updated_at: nowIso() };
    if (change.name !== undefined) set.name = change.name;
    if (change.description !== undefined) set.description = change.description;
    if (change.hostname !== undefined) set.hostname = change.hostname;
    if (change.accessIPv4 !== undefined) set.access_ip_v4 = change.accessIPv4;
    if (change.accessIPv6 !== undefined) set.access_ip_v6 = change.accessIPv6;
    if (change.diskConfig !== undefined)
      set.system_metadata = JSON.stringify(withDiskConfig(extras(inst).systemMetadata, change.diskConfig));
    await this.d.db.updateTable('compute_instances').set(set).where('id', '=', id).execute();
    return this.get(ctx, id);
  }

  /** A locked server refuses changes from anyone but the locker's kind: admin, or the owner who locked it. */
  checkLocked(ctx: AuthContext, inst: InstanceRow): void {
    if (!inst.locked) return;
    if (isAdmin(ctx)) return;
    if (inst.locked_by === 'owner' && inst.project_id === ctx.projectId) {
      // Nova lets the owner act only after unlocking; a locked instance refuses everyone but admin.
    }
    throw conflict(`Instance ${inst.id} is locked`, { code: 'InstanceIsLocked' });
  }

  /** Records the security group names on the instance's ports (after addSecurityGroup/removeSecurityGroup). */
  async setSecurityGroupNames(id: string, names: string[]): Promise<void> {
    await this.d.db
      .updateTable('compute_instances')
      .set({ security_groups: JSON.stringify(names), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }

  // metadata

  async setMetadata(
    ctx: AuthContext,
    id: string,
    md: Record<string, string>,
    replace: boolean,
  ): Promise<Record<string, string>> {
    const inst = await this.get(ctx, id);
    this.checkLocked(ctx, inst);
    if (['building'].includes(inst.vm_state) === false && inst.task_state === 'deleting') {
      throw conflict(`Cannot 'update metadata' instance ${id} while it is in task_state deleting`);
    }
    const next = replace ? md : { ...(JSON.parse(inst.metadata) as Record<string, string>), ...md };
    await this.checkMetadata(inst.project_id, next);
    await this.d.db
      .updateTable('compute_instances')
      .set({ metadata: JSON.stringify(next), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
    return next;
  }

  async deleteMetadataKey(ctx: AuthContext, id: string, key: string): Promise<void> {
    const inst = await this.get(ctx, id);
    this.checkLocked(ctx, inst);
    const md = JSON.parse(inst.metadata) as Record<string, string>;
    if (!(key in md)) throw notFound('Metadata item was not found', { code: 'MetadataNotFound' });
    delete md[key];
    await this.d.db
      .updateTable('compute_instances')
      .set({ metadata: JSON.stringify(md), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }

  // tags (2.26)

  static checkTag(tag: string): void {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > 60 || tag.includes('/') || tag.includes(',')) {
      throw badRequest(`Invalid input for field/attribute tag. Value: ${tag}.`);
    }
  }

  async setTags(ctx: AuthContext, id: string, tags: string[]): Promise<string[]> {
    const inst = await this.get(ctx, id);
    this.checkLocked(ctx, inst);
    tags.forEach(ServerService.checkTag);
    const uniq = [...new Set(tags)];
    if (uniq.length > 50)
      throw badRequest('The number of tags exceeded the per-server limit 50', { code: 'TooManyTags' });
    await this.d.db
      .updateTable('compute_instances')
      .set({ tags: JSON.stringify(uniq), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
    return uniq;
  }

  async addTag(ctx: AuthContext, id: string, tag: string): Promise<boolean> {
    ServerService.checkTag(tag);
    const inst = await this.get(ctx, id);
    this.checkLocked(ctx, inst);
    const tags = JSON.parse(inst.tags) as string[];
    if (tags.includes(tag)) return false;
    if (tags.length >= 50)
      throw badRequest('The number of tags exceeded the per-server limit 50', { code: 'TooManyTags' });
    tags.push(tag);
    await this.d.db
      .updateTable('compute_instances')
      .set({ tags: JSON.stringify(tags), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
    return true;
  }

  async deleteTag(ctx: AuthContext, id: string, tag: string | null): Promise<void> {
    const inst = await this.get(ctx, id);
    this.checkLocked(ctx, inst);
    let tags = JSON.parse(inst.tags) as string[];
    if (tag !== null) {
      if (!tags.includes(tag)) throw notFound(`Tag ${tag} could not be found.`, { code: 'TagNotFound' });
      tags = tags.filter((t) => t !== tag);
    } else tags = [];
    await this.d.db
      .updateTable('compute_instances')
      .set({ tags: JSON.stringify(tags), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }

  /** Marks an instance deleted and gives back quota, claims and group membership (inside the caller's transaction). */
  async finalizeDelete(trx: Db, inst: InstanceRow): Promise<void> {
    const now = nowIso();
    await trx
      .updateTable('compute_instances')
      .set({
        deleted: 1,
        deleted_at: now,
        terminated_at: now,
        updated_at: now,
        vm_state: 'deleted',
        task_state: null,
        power_state: 0,
      })
      .where('id', '=', inst.id)
      .where('deleted', '=', 0)
      .execute();
    await this.x.quotas.add(trx, inst.project_id, { instances: -1, cores: -inst.vcpus, ram: -inst.memory_mb });
    if (inst.host && inst.vm_state !== 'shelved_offloaded' && inst.vm_state !== 'error') {
      await this.x.scheduler.release(trx, inst.host, {
        vcpus: inst.vcpus,
        memoryMb: inst.memory_mb,
        diskGb: inst.root_gb,
      });
    } else if (inst.host && inst.vm_state === 'error') {
      await this.x.scheduler.release(trx, inst.host, {
        vcpus: inst.vcpus,
        memoryMb: inst.memory_mb,
        diskGb: inst.root_gb,
      });
    }
    await trx.deleteFrom('compute_server_group_members').where('instance_id', '=', inst.id).execute();
  }

  static NotFound(id: string): CloudError {
    return notFound(`Instance ${id} could not be found.`, { code: 'InstanceNotFound' });
  }
}
