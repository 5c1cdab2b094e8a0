import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import type { ServerCreateSpec, ServerListQuery } from '../../services/compute/servers.js';
import { ServerService } from '../../services/compute/servers.js';
import { diskConfigOf, parseDiskConfig } from '../../services/compute/disk-config.js';
import type { BlockDevice } from '../../services/compute/model.js';
import { extras } from '../../services/compute/model.js';
import type { NicRequest } from '../../services/compute/ports.js';
import { enforce } from '../../services/policy.js';
import { isAdmin } from '../../services/auth-context.js';
import { badRequest, forbidden, notFound } from '../../errors.js';
import { randomSecret } from '../../util/ids.js';
import { ctxOf } from '../http/service-api.js';
import { normalizeIpv6, bool, int, invalid, member, onlyKeys, qBool, qInt, qList, qStr, str, stringMap, type Json } from './body.js';
import { mv, type ApiVersion } from './microversion.js';
import type { ComputeViews } from './views.js';
import { novaTimeMicro } from '../../services/compute/common.js';
import { op } from '../http/route-policy.js';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const HOSTNAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
/** An ISO 8601 date or date-time, as Nova's changes-since/changes-before accept (not "2011/01/01"). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;

function parseNetworks(raw: unknown, ver: ApiVersion): ServerCreateSpec['networks'] {
  if (raw === undefined) {
    if (ver.atLeast('2.37')) throw badRequest("Invalid input for field/attribute server. 'networks' is a required property");
    return undefined;
  }
  if (raw === 'auto' || raw === 'none') {
    if (!ver.atLeast('2.37')) throw invalid('networks', raw, "is not of type 'array'");
    return raw;
  }
  if (!Array.isArray(raw)) throw invalid('networks', raw, "is not of type 'array'");
  return raw.map((n): NicRequest => {
    if (!n || typeof n !== 'object') throw invalid('networks', n);
    const o = n as Json;
    onlyKeys(o, ['uuid', 'port', 'fixed_ip', ...(ver.atLeast('2.32') ? ['tag'] : [])], 'networks');
    const tag = typeof o.tag === 'string' ? o.tag : undefined;
    if (o.port !== undefined && o.port !== null) {
      if (typeof o.port !== 'string' || !UUID.test(o.port)) throw badRequest(`Bad port format: port uuid is not in proper format (${String(o.port)})`);
      return { kind: 'port', portId: o.port, ...(tag ? { tag } : {}) };
    }
    if (typeof o.uuid !== 'string' || !UUID.test(o.uuid)) throw badRequest(`Bad networks format: network uuid is not in proper format (${String(o.uuid)})`);
    if (o.fixed_ip !== undefined && (typeof o.fixed_ip !== 'string' || (!IPV4.test(o.fixed_ip) && !o.fixed_ip.includes(':')))) {
      throw badRequest(`Invalid fixed IP address (${String(o.fixed_ip)})`);
    }
    return { kind: 'network', networkId: o.uuid, ...(o.fixed_ip ? { fixedIp: o.fixed_ip as string } : {}), ...(tag ? { tag } : {}) };
  });
}

const BDM_KEYS = ['boot_index', 'source_type', 'destination_type', 'uuid', 'volume_size', 'delete_on_termination', 'device_name', 'tag',
  'guest_format', 'disk_bus', 'device_type', 'no_device', 'volume_id', 'snapshot_id', 'image_id', 'volume_type', 'encrypted', 'encryption_secret_uuid',
  'encryption_format', 'encryption_options', 'connection_info'];
const DISK_BUSES = ['virtio', 'scsi', 'ide', 'usb', 'sata', 'fdc', 'xen', 'uml', 'lxc', 'sd'];
const DEVICE_TYPES = ['disk', 'cdrom', 'floppy', 'lun', 'fs'];
/** Nova's device_name: a device path or name without spaces, at most 255 characters. */
const DEVICE_NAME = /^[^\s]{1,255}$/;

/** delete_on_termination as Nova's schema takes it: a boolean or its string spellings. */
function bdmBool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|t|yes|y|1|on)$/i.test(v)) return true;
  if (typeof v === 'string' && /^(false|f|no|n|0|off)$/i.test(v)) return false;
  throw invalid(field, v, 'is not of type \'boolean\'');
}

function optInt(o: Json, key: string, min: number): number | null {
  const v = o[key];
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) throw invalid(key, v);
  return n;
}

function optStr(o: Json, key: string, opts: { re?: RegExp; oneOf?: string[] } = {}): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || (opts.re && !opts.re.test(v)) || (opts.oneOf && !opts.oneOf.includes(v))) throw invalid(key, v);
  return v;
}

/** block_device_mapping_v2 as Nova's schema checks it (tags from 2.42, volume_type from 2.67). */
function parseBdm(raw: unknown, ver: ApiVersion): BlockDevice[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw invalid('block_device_mapping_v2', raw, "is not of type 'array'");
  const bootIdx = new Set<number>();
  return raw.map((b) => {
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalid('block_device_mapping_v2', b);
    const o = b as Json;
    onlyKeys(o, BDM_KEYS.filter((k) => (k !== 'tag' || ver.atLeast('2.42')) && (k !== 'volume_type' || ver.atLeast('2.67'))), 'block_device_mapping_v2');
    const src = o.source_type ?? 'image';
    if (!['image', 'volume', 'snapshot', 'blank'].includes(String(src))) throw invalid('source_type', src);
    const dst = o.destination_type ?? (src === 'blank' || src === 'image' ? 'local' : 'volume');
    if (!['local', 'volume'].includes(String(dst))) throw invalid('destination_type', dst);
    const rawBoot = o.boot_index;
    const boot = rawBoot === undefined || rawBoot === null || rawBoot === 'none' ? null : Number(rawBoot);
    if (boot !== null && (!Number.isInteger(boot) || (typeof rawBoot !== 'number' && !/^-?\d+$/.test(String(rawBoot))))) throw invalid('boot_index', rawBoot);
    if (boot !== null && boot >= 0) {
      if (bootIdx.has(boot)) throw badRequest('Boot sequence for the instance and image/block device mapping combination is not valid.');
      bootIdx.add(boot);
    }
    const uuid = optStr(o, 'uuid');
    if (src !== 'blank' && (uuid === null || !/^[a-zA-Z0-9._-]{1,255}$/.test(uuid))) throw invalid('uuid', o.uuid);
    return {
      boot_index: boot, source_type: String(src), destination_type: String(dst), uuid, volume_size: optInt(o, 'volume_size', 0),
      delete_on_termination: bdmBool(o.delete_on_termination, 'delete_on_termination'), device_name: optStr(o, 'device_name', { re: DEVICE_NAME }),
      tag: optStr(o, 'tag', { re: /^[^,/]{1,60}$/ }), guest_format: optStr(o, 'guest_format', { re: /^.{1,255}$/ }),
      disk_bus: optStr(o, 'disk_bus', { oneOf: DISK_BUSES }), device_type: optStr(o, 'device_type', { oneOf: DEVICE_TYPES }), volume_id: null,
    };
  });
}

/**
 * The legacy block_device_mapping (v1): volume_id or snapshot_id on a device name; the root device (vda) is the
 * boot volume, as Nova reads it.
 */
function parseLegacyBdm(raw: unknown): BlockDevice[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw invalid('block_device_mapping', raw, "is not of type 'array'");
  return raw.map((b) => {
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalid('block_device_mapping', b);
    const o = b as Json;
    onlyKeys(o, ['device_name', 'volume_id', 'snapshot_id', 'volume_size', 'delete_on_termination', 'no_device', 'virtual_name', 'connection_info'], 'block_device_mapping');
    const device = optStr(o, 'device_name', { re: DEVICE_NAME });
    if (device === null) throw badRequest("Invalid input for field/attribute device_name. 'device_name' is a required property");
    const volumeId = optStr(o, 'volume_id');
    const snapshotId = optStr(o, 'snapshot_id');
    if (!volumeId && !snapshotId) throw badRequest('Block Device Mapping is Invalid: a legacy mapping needs volume_id or snapshot_id.');
    const root = device.replace(/^\/dev\//, '') === 'vda';
    return {
      boot_index: root ? 0 : null, source_type: volumeId ? 'volume' : 'snapshot', destination_type: 'volume', uuid: volumeId ?? snapshotId,
      volume_size: optInt(o, 'volume_size', 0), delete_on_termination: bdmBool(o.delete_on_termination, 'delete_on_termination'),
      device_name: device, tag: null, guest_format: null, disk_bus: null, device_type: null, volume_id: null,
    };
  });
}

/** os-volumes_boot's envelope; the server inside is checked field by field as for POST /servers. */
const VolumesBootBody = Type.Object({ server: Type.Object({}, { additionalProperties: true }) }, { additionalProperties: true });

const CREATE_KEYS = ['name', 'imageRef', 'flavorRef', 'networks', 'key_name', 'user_data', 'metadata', 'security_groups', 'availability_zone',
  'config_drive', 'min_count', 'max_count', 'return_reservation_id', 'description', 'hostname', 'block_device_mapping_v2', 'block_device_mapping',
  'accessIPv4', 'accessIPv6', 'adminPass', 'personality', 'OS-DCF:diskConfig', 'tags', 'trusted_image_certificates', 'host', 'hypervisor_hostname'];

/** Servers: create, list, show, update, delete, metadata, tags, ips, instance actions, interfaces. */

/** accessIPv4/accessIPv6 as create and update take them: validated, IPv6 normalised. */
function accessIps(b: Record<string, unknown>): { accessIPv4: string | null | undefined; accessIPv6: string | null | undefined } {
  const accessIPv4 = str(b, 'accessIPv4', { nullable: true });
  if (accessIPv4 && !IPV4.test(accessIPv4)) throw invalid('accessIPv4', accessIPv4, 'is not a valid IPv4 address');
  let accessIPv6 = str(b, 'accessIPv6', { nullable: true });
  if (accessIPv6) {
    const norm = normalizeIpv6(accessIPv6);
    if (!norm) throw invalid('accessIPv6', accessIPv6, 'is not a valid IPv6 address');
    accessIPv6 = norm;
  }
  return { accessIPv4, accessIPv6 };
}

export function serverRoutes(app: FastifyInstance, compute: ComputeService, v: ComputeViews): void {
  const s = compute.servers;
  const rid = (req: FastifyRequest) => req.id;

  const show = async (req: FastifyRequest, id: string) => {
    const a = ctxOf(req).auth;
    const inst = await s.get(a, id);
    let ports = extras(inst).ports;
    if (ports.length) ports = await compute.network.listPorts(inst.id).catch(() => ports);
    const volumes = (await compute.volume?.ofInstance(inst.id)) ?? [];
    return v.server(inst, mv(req), a, { ports, hostStatus: await hostStatus(inst.host), groups: true, volumes });
  };
  const hostStatus = async (host: string | null): Promise<string> => {
    if (!host) return '';
    const svc = (await compute.hosts.listServices({ binary: 'nova-compute', host }))[0];
    if (!svc) return 'UNKNOWN';
    if (!svc.up) return 'DOWN';
    return svc.disabled ? 'MAINTENANCE' : 'UP';
  };

  const create = async (req: FastifyRequest, reply: FastifyReply) => {
    const a = ctxOf(req).auth;
    enforce(a, 'compute:write', { project_id: a.projectId ?? null });
    const ver = mv(req);
    const b = member(req.body, 'server');
    onlyKeys(b, CREATE_KEYS, 'server');
    if (b.personality !== undefined && ver.atLeast('2.57')) throw badRequest("Additional properties are not allowed ('personality' was unexpected)");
    if ((b.description !== undefined && !ver.atLeast('2.19')) || (b.tags !== undefined && !ver.atLeast('2.52'))
      || (b.hostname !== undefined && !ver.atLeast('2.90')) || ((b.host !== undefined || b.hypervisor_hostname !== undefined) && !ver.atLeast('2.74'))) {
      const k = ['description', 'tags', 'hostname', 'host', 'hypervisor_hostname'].find((x) => b[x] !== undefined);
      throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
    }
    const name = str(b, 'name', { required: true, min: 1, max: 255 })!;
    if (name.trim() === '') throw invalid('name', name, 'Name must not be blank');
    const imageRef = str(b, 'imageRef', { nullable: true }) ?? null;
    const flavorRefRaw = b.flavorRef;
    if (flavorRefRaw === undefined) throw badRequest("Invalid input for field/attribute server. 'flavorRef' is a required property");
    if (typeof flavorRefRaw !== 'string' && typeof flavorRefRaw !== 'number') throw invalid('flavorRef', flavorRefRaw);
    const flavorRef = String(flavorRefRaw).replace(/^.*\/flavors\//, '');
    if (flavorRef === '') throw invalid('flavorRef', flavorRefRaw, 'is too short');
    const userData = str(b, 'user_data', { nullable: true });
    if (typeof userData === 'string') ServerService.checkUserData(userData);
    const metadata = stringMap(b, 'metadata') ?? {};
    const sgRaw = b.security_groups;
    let securityGroups: string[] = [];
    if (sgRaw !== undefined) {
      if (!Array.isArray(sgRaw)) throw invalid('security_groups', sgRaw, "is not of type 'array'");
      securityGroups = sgRaw.map((g) => {
        if (!g || typeof g !== 'object' || typeof (g as Json).name !== 'string' || !(g as Json).name) throw invalid('security_groups', g);
        return (g as Json).name as string;
      });
    }
    const minCount = int(b, 'min_count', { min: 1 }) ?? 1;
    const maxCount = int(b, 'max_count', { min: 1 }) ?? minCount;
    if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
    const hintsRaw = (req.body as Json)['os:scheduler_hints'] ?? (req.body as Json)['OS-SCH-HNT:scheduler_hints'] ?? {};
    if (typeof hintsRaw !== 'object' || hintsRaw === null || Array.isArray(hintsRaw)) throw invalid('os:scheduler_hints', hintsRaw);
    const hints = hintsRaw as Json;
    if (hints.group !== undefined && (typeof hints.group !== 'string' || !UUID.test(hints.group))) throw invalid('group', hints.group);
    const hostname = str(b, 'hostname', { min: 1, max: 255 }) ?? null;
    if (hostname !== null && !HOSTNAME_RE.test(hostname)) throw invalid('hostname', hostname);
    const tags = b.tags === undefined ? [] : Array.isArray(b.tags) ? b.tags.map(String) : (() => { throw invalid('tags', b.tags); })();
    tags.forEach(ServerService.checkTag);
    const { accessIPv4, accessIPv6 } = accessIps(b);
    const keyName = str(b, 'key_name', { nullable: true, min: 1, max: 255 });
    const az = str(b, 'availability_zone', { nullable: true, min: 1, max: 255 });
    const adminPassIn = str(b, 'adminPass', { nullable: true });
    const cd = b.config_drive;
    const configDrive = cd === undefined || cd === null || cd === '' ? false : typeof cd === 'boolean' ? cd : bool(b, 'config_drive') ?? false;
    if (b.block_device_mapping !== undefined && b.block_device_mapping_v2 !== undefined) {
      throw badRequest('Using different block_device_mapping syntaxes is not allowed in the same request.');
    }
    const bdm = b.block_device_mapping !== undefined ? parseLegacyBdm(b.block_device_mapping) : parseBdm(b.block_device_mapping_v2, ver);
    if (ver.atLeast('2.74') && (b.host || b.hypervisor_hostname) && !isAdmin(a)) throw forbidden(`Policy doesn't allow compute:servers:create:requested_destination to be performed.`);
    const spec: ServerCreateSpec = {
      name, imageRef, flavorRef, networks: parseNetworks(b.networks, ver), keyName, userData, metadata, securityGroups,
      availabilityZone: b.host ? `${az ?? ''}:${String(b.host)}` : az, configDrive, minCount, maxCount, hints,
      description: str(b, 'description', { nullable: true, max: 255 }), hostname, blockDevices: bdm,
      accessIPv4, accessIPv6, tags, diskConfig: parseDiskConfig(b['OS-DCF:diskConfig']),
    };
    const { instances, reservationId } = await s.create(a, rid(req), spec);
    reply.code(202);
    if (bool(b, 'return_reservation_id')) return { reservation_id: reservationId };
    const first = instances[0]!;
    reply.header('location', `${v.base}/servers/${first.id}`);
    return {
      server: {
        id: first.id, links: v.links('servers', first.id), 'OS-DCF:diskConfig': diskConfigOf(extras(first).systemMetadata),
        security_groups: extras(first).securityGroups.map((n) => ({ name: n })), adminPass: adminPassIn ?? randomSecret(9).slice(0, 12),
      },
    };
  };
  app.post('/servers', op('compute:servers:create'), create);
  // Nova's older name for create with a block device mapping (boot from volume).
  app.post('/os-volumes_boot', op('compute:servers:create', { schema: { body: VolumesBootBody } }), create);

  const listQuery = (req: FastifyRequest): ServerListQuery => {
    const q = req.query as Json;
    const a = ctxOf(req).auth;
    const admin = isAdmin(a);
    const allRaw = qStr(q, 'all_tenants');
    const allTenants = allRaw !== undefined && (allRaw === '' || qBool(q, 'all_tenants') !== false);
    const sortKeys = qList(q, 'sort_key');
    const sortDirs = qList(q, 'sort_dir').map((d) => {
      if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid input for query parameters sort_dir. Value: ${d}.`);
      return d;
    }) as ('asc' | 'desc')[];
    const changesSince = qStr(q, 'changes-since');
    const changesBefore = qStr(q, 'changes-before');
    for (const [k, t] of [['changes-since', changesSince], ['changes-before', changesBefore]] as const) {
      if (t !== undefined && (!ISO_TIME.test(t.trim()) || Number.isNaN(Date.parse(t)))) throw badRequest(`Invalid input for query parameters ${k}. Value: ${t}. '${t}' is not a 'date-time'`);
    }
    if (changesSince && changesBefore && Date.parse(changesSince) > Date.parse(changesBefore)) {
      throw badRequest('The value of changes-since must be less than or equal to changes-before.');
    }
    const csv = (k: string) => { const s2 = qStr(q, k); return s2 === undefined ? undefined : s2.split(',').filter(Boolean); };
    const ver = mv(req);
    const limit = qInt(q, 'limit');
    return {
      // As Nova: a project filter counts only together with all_tenants (else an admin sees their own project).
      allTenants: admin && allTenants, projectId: admin && allTenants ? qStr(q, 'project_id') ?? qStr(q, 'tenant_id') : undefined,
      userId: qStr(q, 'user_id'), name: qStr(q, 'name'), status: qStr(q, 'status'), host: qStr(q, 'host'), image: qStr(q, 'image'),
      flavor: qStr(q, 'flavor'), ip: qStr(q, 'ip'), ip6: qStr(q, 'ip6'), changesSince, changesBefore, reservationId: qStr(q, 'reservation_id'),
      availabilityZone: qStr(q, 'availability_zone'), deleted: admin ? qBool(q, 'deleted') : undefined,
      locked: ver.atLeast('2.73') ? qBool(q, 'locked') : undefined,
      tags: ver.atLeast('2.26') ? csv('tags') : undefined, tagsAny: ver.atLeast('2.26') ? csv('tags-any') : undefined,
      notTags: ver.atLeast('2.26') ? csv('not-tags') : undefined, notTagsAny: ver.atLeast('2.26') ? csv('not-tags-any') : undefined,
      vmState: admin ? qStr(q, 'vm_state') : undefined, taskState: admin ? qStr(q, 'task_state') : undefined, keyName: qStr(q, 'key_name'),
      sortKeys, sortDirs, limit: limit === undefined ? 1000 : Math.min(limit, 1000), marker: qStr(q, 'marker'),
    };
  };
  const nextLinks = (req: FastifyRequest, path: string, rows: { id: string }[], q: ServerListQuery) => {
    const asked = qInt(req.query as Json, 'limit');
    if (asked === undefined || rows.length < Math.min(asked, 1000) || rows.length === 0) return {};
    const params = new URLSearchParams();
    for (const [k, val] of Object.entries(req.query as Json)) if (k !== 'marker') params.set(k, String(val));
    params.set('marker', rows[rows.length - 1]!.id);
    void q;
    return { servers_links: [{ rel: 'next', href: `${v.base}/${path}?${params.toString()}` }] };
  };
  app.get('/servers', op('compute:servers:index'), async (req) => {
    const q = listQuery(req);
    const rows = await s.list(ctxOf(req).auth, q);
    return { servers: rows.map((r) => v.serverBrief(r)), ...nextLinks(req, 'servers', rows, q) };
  });
  app.get('/servers/detail', op('compute:servers:detail'), async (req) => {
    const a = ctxOf(req).auth;
    const q = listQuery(req);
    const rows = await s.list(a, q);
    const ver = mv(req);
    const statuses = new Map<string, string>();
    if (isAdmin(a) && ver.atLeast('2.16')) for (const h of new Set(rows.map((r) => r.host).filter((x): x is string => !!x))) statuses.set(h, await hostStatus(h));
    const volumes = (await compute.volume?.ofInstances(rows.map((r) => r.id))) ?? new Map();
    return {
      servers: rows.map((r) => v.server(r, ver, a, { hostStatus: r.host ? statuses.get(r.host) ?? 'UP' : '', volumes: volumes.get(r.id) ?? [] })),
      ...nextLinks(req, 'servers/detail', rows, q),
    };
  });
  app.get('/servers/:id', op('compute:servers:show'), async (req) => ({ server: await show(req, (req.params as { id: string }).id) }));
  app.put('/servers/:id', op('compute:servers:update'), async (req) => {
    const a = ctxOf(req).auth;
    const ver = mv(req);
    const b = member(req.body, 'server');
    onlyKeys(b, ['name', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig', ...(ver.atLeast('2.19') ? ['description'] : []), ...(ver.atLeast('2.90') ? ['hostname'] : [])], 'server');
    const name = str(b, 'name', { min: 1, max: 255 }) ?? undefined;
    if (name !== undefined && name.trim() === '') throw invalid('name', name, 'Name must not be blank');
    const hostname = str(b, 'hostname', { min: 1, max: 255 }) ?? undefined;
    if (hostname !== undefined && !HOSTNAME_RE.test(hostname)) throw invalid('hostname', hostname);
    const { accessIPv4, accessIPv6 } = accessIps(b);
    const inst = await s.update(a, (req.params as { id: string }).id, {
      name, description: 'description' in b ? str(b, 'description', { nullable: true, max: 255 }) ?? null : undefined, hostname, accessIPv4, accessIPv6,
      diskConfig: parseDiskConfig(b['OS-DCF:diskConfig']),
    });
    // From 2.75 update answers the same representation as show.
    return { server: v.server(inst, ver, a, ver.atLeast('2.75') ? { groups: true, hostStatus: await hostStatus(inst.host) } : { minimal: true, groups: true }) };
  });
  app.delete('/servers/:id', op('compute:servers:delete'), async (req, reply) => {
    const a = ctxOf(req).auth;
    await compute.serverActions.delete(a, rid(req), (req.params as { id: string }).id);
    return reply.code(204).send();
  });

  // addresses
  app.get('/servers/:id/ips', op('compute:ips:index'), async (req) => {
    const a = ctxOf(req).auth;
    const inst = await s.get(a, (req.params as { id: string }).id);
    const all = v.addresses(extras(inst).ports);
    const strip = Object.fromEntries(Object.entries(all).map(([k, l]) => [k, l.map((x) => ({ version: x.version, addr: x.addr }))]));
    return { addresses: strip };
  });
  app.get('/servers/:id/ips/:net', op('compute:ips:show'), async (req) => {
    const a = ctxOf(req).auth;
    const { id, net } = req.params as { id: string; net: string };
    const inst = await s.get(a, id);
    const all = v.addresses(extras(inst).ports);
    const list = all[net];
    if (!list) throw notFound('Instance is not a member of specified network', { code: 'NetworkNotFound' });
    return { [net]: list.map((x) => ({ version: x.version, addr: x.addr })) };
  });

  // metadata
  app.get('/servers/:id/metadata', op('compute:server-metadata:index'), async (req) => ({ metadata: extras(await s.get(ctxOf(req).auth, (req.params as { id: string }).id)).metadata }));
  app.post('/servers/:id/metadata', op('compute:server-metadata:create'), async (req) => {
    const md = stringMap(req.body as Json ?? {}, 'metadata', { required: true })!;
    return { metadata: await s.setMetadata(ctxOf(req).auth, (req.params as { id: string }).id, md, false) };
  });
  app.put('/servers/:id/metadata', op('compute:server-metadata:update_all'), async (req) => {
    const md = stringMap(req.body as Json ?? {}, 'metadata', { required: true })!;
    return { metadata: await s.setMetadata(ctxOf(req).auth, (req.params as { id: string }).id, md, true) };
  });
  app.get('/servers/:id/metadata/:key', op('compute:server-metadata:show'), async (req) => {
    const { id, key } = req.params as { id: string; key: string };
    const md = extras(await s.get(ctxOf(req).auth, id)).metadata;
    if (!(key in md)) throw notFound('Metadata item was not found', { code: 'MetadataNotFound' });
    return { meta: { [key]: md[key] } };
  });
  app.put('/servers/:id/metadata/:key', op('compute:server-metadata:update'), async (req) => {
    const { id, key } = req.params as { id: string; key: string };
    const meta = stringMap(req.body as Json ?? {}, 'meta', { required: true })!;
    if (Object.keys(meta).length > 1) throw badRequest('Request body contains too many items');
    if (!(key in meta)) throw badRequest('Request body and URI mismatch');
    await s.setMetadata(ctxOf(req).auth, id, meta, false);
    return { meta };
  });
  app.delete('/servers/:id/metadata/:key', op('compute:server-metadata:delete'), async (req, reply) => {
    const { id, key } = req.params as { id: string; key: string };
    await s.deleteMetadataKey(ctxOf(req).auth, id, key);
    return reply.code(204).send();
  });

  // tags (2.26)
  const needTags = (req: FastifyRequest) => {
    if (!mv(req).atLeast('2.26')) throw notFound('The resource could not be found.');
  };
  app.get('/servers/:id/tags', op('compute:os-server-tags:index'), async (req) => {
    needTags(req);
    return { tags: extras(await s.get(ctxOf(req).auth, (req.params as { id: string }).id)).tags };
  });
  app.put('/servers/:id/tags', op('compute:os-server-tags:update_all'), async (req) => {
    needTags(req);
    const tags = (req.body as Json | undefined)?.tags;
    if (!Array.isArray(tags)) throw badRequest("Invalid input for field/attribute tags. 'tags' is a required property");
    return { tags: await s.setTags(ctxOf(req).auth, (req.params as { id: string }).id, tags.map((t) => (typeof t === 'string' ? t : (() => { throw invalid('tags', t); })()))) };
  });
  app.delete('/servers/:id/tags', op('compute:os-server-tags:delete_all'), async (req, reply) => {
    needTags(req);
    await s.deleteTag(ctxOf(req).auth, (req.params as { id: string }).id, null);
    return reply.code(204).send();
  });
  app.get('/servers/:id/tags/:tag', op('compute:os-server-tags:show'), async (req, reply) => {
    needTags(req);
    const { id, tag } = req.params as { id: string; tag: string };
    if (!extras(await s.get(ctxOf(req).auth, id)).tags.includes(tag)) throw notFound(`Tag ${tag} could not be found.`);
    return reply.code(204).send();
  });
  app.put('/servers/:id/tags/:tag', op('compute:os-server-tags:update'), async (req, reply) => {
    needTags(req);
    const { id, tag } = req.params as { id: string; tag: string };
    const added = await s.addTag(ctxOf(req).auth, id, tag);
    reply.header('location', `${v.base}/servers/${id}/tags/${tag}`);
    return reply.code(added ? 201 : 204).send();
  });
  app.delete('/servers/:id/tags/:tag', op('compute:os-server-tags:delete'), async (req, reply) => {
    needTags(req);
    const { id, tag } = req.params as { id: string; tag: string };
    await s.deleteTag(ctxOf(req).auth, id, tag);
    return reply.code(204).send();
  });

  // os-instance-actions
  const actionView = (r: { action: string; instance_id: string; request_id: string; user_id: string; project_id: string; start_time: string; message: string | null; updated_at: string }, ver: ApiVersion) => ({
    action: r.action, instance_uuid: r.instance_id, request_id: r.request_id, user_id: r.user_id, project_id: r.project_id,
    start_time: novaTimeMicro(r.start_time), message: r.message, ...(ver.atLeast('2.58') ? { updated_at: novaTimeMicro(r.updated_at) } : {}),
  });
  app.get('/servers/:id/os-instance-actions', op('compute:os-instance-actions:list'), async (req) => {
    const a = ctxOf(req).auth;
    const id = (req.params as { id: string }).id;
    const ver = mv(req);
    await s.get(a, id, { includeDeleted: ver.atLeast('2.21') });
    const q = req.query as Json;
    const rows = await compute.actions.list(id, {
      limit: ver.atLeast('2.58') ? qInt(q, 'limit') : undefined, marker: ver.atLeast('2.58') ? qStr(q, 'marker') : undefined,
      changesSince: ver.atLeast('2.58') ? qStr(q, 'changes-since') : undefined, changesBefore: ver.atLeast('2.66') ? qStr(q, 'changes-before') : undefined,
    }).catch((e: { marker?: string }) => {
      if (e.marker !== undefined) throw badRequest(`Marker ${e.marker} could not be found.`);
      throw e;
    });
    return { instanceActions: rows.map((r) => actionView(r, ver)) };
  });
  app.get('/servers/:id/os-instance-actions/:rid', op('compute:os-instance-actions:show'), async (req) => {
    const a = ctxOf(req).auth;
    const { id, rid: reqId } = req.params as { id: string; rid: string };
    const ver = mv(req);
    await s.get(a, id, { includeDeleted: ver.atLeast('2.21') });
    const got = await compute.actions.get(id, reqId);
    if (!got) throw notFound(`Action for request_id ${reqId} on instance ${id} not found`, { code: 'InstanceActionNotFound' });
    const admin = isAdmin(a);
    const events = got.events.map((e) => ({
      event: e.event, start_time: novaTimeMicro(e.start_time), finish_time: novaTimeMicro(e.finish_time), result: e.result,
      ...(admin || !ver.atLeast('2.51') ? { traceback: e.traceback } : {}),
      ...(ver.atLeast('2.62') ? { hostId: e.host ? createHash('sha224').update(got.action.project_id + e.host).digest('hex') : '', ...(admin ? { host: e.host ?? '' } : {}) } : {}),
      ...(ver.atLeast('2.84') ? { details: e.details } : {}),
    }));
    return { instanceAction: { ...actionView(got.action, ver), ...(admin || ver.atLeast('2.51') ? { events } : {}) } };
  });

  // os-interface
  app.get('/servers/:id/os-interface', op('compute:os-attach-interfaces:list'), async (req) => {
    const inst = await s.get(ctxOf(req).auth, (req.params as { id: string }).id);
    const ports = await compute.network.listPorts(inst.id).catch(() => extras(inst).ports);
    return { interfaceAttachments: ports.map((p) => v.interfaceAttachment(p, mv(req))) };
  });
  app.get('/servers/:id/os-interface/:pid', op('compute:os-attach-interfaces:show'), async (req) => {
    const { id, pid } = req.params as { id: string; pid: string };
    const inst = await s.get(ctxOf(req).auth, id);
    const ports = await compute.network.listPorts(inst.id).catch(() => extras(inst).ports);
    const p = ports.find((x) => x.id === pid);
    if (!p) throw notFound(`Port ${pid} is not attached`, { code: 'PortNotFound' });
    return { interfaceAttachment: v.interfaceAttachment(p, mv(req)) };
  });
  app.post('/servers/:id/os-interface', op('compute:os-attach-interfaces:create'), async (req) => {
    const a = ctxOf(req).auth;
    const b = (req.body as Json | undefined)?.interfaceAttachment;
    const o = (b && typeof b === 'object' ? b : {}) as Json;
    onlyKeys(o, ['net_id', 'port_id', 'fixed_ips', ...(mv(req).atLeast('2.49') ? ['tag'] : [])], 'interfaceAttachment');
    const fixed = Array.isArray(o.fixed_ips) ? (o.fixed_ips[0] as Json | undefined)?.ip_address : undefined;
    if (o.port_id && o.net_id) throw badRequest('Must not input both network_id and port_id');
    const port = await compute.serverActions.attachInterface(a, rid(req), (req.params as { id: string }).id, {
      networkId: typeof o.net_id === 'string' ? o.net_id : undefined, portId: typeof o.port_id === 'string' ? o.port_id : undefined,
      fixedIp: typeof fixed === 'string' ? fixed : undefined,
    });
    return { interfaceAttachment: v.interfaceAttachment(port, mv(req)) };
  });
  app.delete('/servers/:id/os-interface/:pid', op('compute:os-attach-interfaces:delete'), async (req, reply) => {
    const { id, pid } = req.params as { id: string; pid: string };
    await compute.serverActions.detachInterface(ctxOf(req).auth, rid(req), id, pid);
    return reply.code(202).send();
  });
}
