// Validated /servers bodies (schemas/servers.ts) turned into the typed specs the compute services take. The schema
// has checked shapes and types; what is left here are Nova's rules a schema cannot say (a port or a network,
// boot indexes unique, IPv6 normalised) and the mapping of Nova's loose forms to plain values.
import { badRequest, forbidden } from '../../errors.js';
import { tryParseIp, formatIp } from '../../util/ipaddr.js';
import type { AuthContext } from '../../services/auth-context.js';
import { isAdmin } from '../../services/auth-context.js';
import type { ServerCreateSpec } from '../../services/compute/servers.js';
import type { BlockDevice } from '../../services/compute/model.js';
import type { NicRequest } from '../../services/compute/peer-services.js';
import { toBool, toInt, UUID_PATTERN } from './schemas/common.js';
import type { ServerCreateBody } from './schemas/servers.js';

const UUID = new RegExp(UUID_PATTERN);
type CreateFields = ServerCreateBody['server'];

/** Nova's message for a field that failed a check the schema cannot express. */
export const invalidField = (field: string, value: unknown, why = '') =>
  badRequest(
    `Invalid input for field/attribute ${field}. Value: ` +
      `${typeof value === 'string' ? value : JSON.stringify(value)}.${why ? ` ${why}` : ''}`,
  );

function nics(raw: CreateFields['networks']): ServerCreateSpec['networks'] {
  if (raw === undefined || raw === 'auto' || raw === 'none') return raw;
  return raw.map((n): NicRequest => {
    const tag = n.tag !== undefined ? { tag: n.tag } : {};
    if (n.port !== undefined && n.port !== null) {
      if (!UUID.test(n.port)) throw badRequest(`Bad port format: port uuid is not in proper format (${n.port})`);
      return { kind: 'port', portId: n.port, ...tag };
    }
    if (n.uuid === undefined || !UUID.test(n.uuid))
      throw badRequest(`Bad networks format: network uuid is not in proper format (${String(n.uuid)})`);
    if (n.fixed_ip !== undefined && !tryParseIp(n.fixed_ip))
      throw badRequest(`Invalid fixed IP address (${n.fixed_ip})`);
    return { kind: 'network', networkId: n.uuid, ...(n.fixed_ip ? { fixedIp: n.fixed_ip } : {}), ...tag };
  });
}

function blockDevices(raw: CreateFields['block_device_mapping_v2']): BlockDevice[] {
  const bootIdx = new Set<number>();
  return (raw ?? []).map((o) => {
    const src = o.source_type ?? 'image';
    const dst = o.destination_type ?? (src === 'blank' || src === 'image' ? 'local' : 'volume');
    const boot =
      o.boot_index === undefined || o.boot_index === null || o.boot_index === 'none' ? null : Number(o.boot_index);
    if (boot !== null && boot >= 0) {
      if (bootIdx.has(boot))
        throw badRequest('Boot sequence for the instance and image/block device mapping combination is not valid.');
      bootIdx.add(boot);
    }
    if (src !== 'blank' && (o.uuid === undefined || o.uuid === null)) throw invalidField('uuid', null);
    return {
      boot_index: boot,
      source_type: src,
      destination_type: dst,
      uuid: o.uuid ?? null,
      volume_size: sizeOf(o.volume_size),
      delete_on_termination: toBool(o.delete_on_termination) ?? false,
      device_name: o.device_name ?? null,
      tag: o.tag ?? null,
      guest_format: o.guest_format ?? null,
      disk_bus: o.disk_bus ?? null,
      device_type: o.device_type ?? null,
      volume_id: null,
    };
  });
}

const sizeOf = (v: number | string | null | undefined): number | null =>
  v === undefined || v === null || v === '' ? null : toInt(v);

/** The legacy block_device_mapping (v1): the root device (vda) is the boot volume, as Nova reads it. */
function legacyBlockDevices(raw: NonNullable<CreateFields['block_device_mapping']>): BlockDevice[] {
  return raw.map((o) => {
    const volumeId = o.volume_id ?? null;
    const snapshotId = o.snapshot_id ?? null;
    if (!volumeId && !snapshotId)
      throw badRequest('Block Device Mapping is Invalid: a legacy mapping needs volume_id or snapshot_id.');
    const root = o.device_name.replace(/^\/dev\//, '') === 'vda';
    return {
      boot_index: root ? 0 : null,
      source_type: volumeId ? 'volume' : 'snapshot',
      destination_type: 'volume',
      uuid: volumeId ?? snapshotId,
      volume_size: sizeOf(o.volume_size),
      delete_on_termination: toBool(o.delete_on_termination) ?? false,
      device_name: o.device_name,
      tag: null,
      guest_format: null,
      disk_bus: null,
      device_type: null,
      volume_id: null,
    };
  });
}

/** accessIPv4/accessIPv6 as create, update and rebuild take them: '' is none, IPv6 normalised as Nova stores it. */
export function accessIps(b: { accessIPv4?: string | null; accessIPv6?: string | null }): {
  accessIPv4: string | null | undefined;
  accessIPv6: string | null | undefined;
} {
  let accessIPv6 = b.accessIPv6;
  if (accessIPv6) {
    const ip = tryParseIp(accessIPv6);
    if (ip?.version !== 6) throw invalidField('accessIPv6', accessIPv6, 'is not a valid IPv6 address');
    accessIPv6 = formatIp(6, ip.value);
  }
  return { accessIPv4: b.accessIPv4, accessIPv6 };
}

/** "http://.../flavors/42" and 42 both name flavor "42". */
export const flavorIdOf = (ref: string | number): string => {
  const id = String(ref).replace(/^.*\/flavors\//, '');
  if (id === '') throw invalidField('flavorRef', ref, 'is too short');
  return id;
};

/** The service's create spec from a validated (and version-checked) body. */
export function serverCreateSpec(a: AuthContext, body: ServerCreateBody): ServerCreateSpec {
  const b = body.server;
  const minCount = toInt(b.min_count) ?? 1;
  const maxCount = toInt(b.max_count) ?? minCount;
  if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
  if ((b.host !== undefined || b.hypervisor_hostname !== undefined) && !isAdmin(a)) {
    throw forbidden(`Policy doesn't allow compute:servers:create:requested_destination to be performed.`);
  }
  if (b.block_device_mapping !== undefined && b.block_device_mapping_v2 !== undefined) {
    throw badRequest('Using different block_device_mapping syntaxes is not allowed in the same request.');
  }
  const az = b.availability_zone;
  return {
    name: b.name,
    imageRef: b.imageRef ?? null,
    flavorRef: flavorIdOf(b.flavorRef),
    networks: nics(b.networks),
    keyName: b.key_name,
    userData: b.user_data,
    metadata: b.metadata ?? {},
    securityGroups: (b.security_groups ?? []).map((g) => g.name),
    availabilityZone: b.host ? `${az ?? ''}:${b.host}` : az,
    configDrive:
      b.config_drive === undefined || b.config_drive === null || b.config_drive === '' ? false : toBool(b.config_drive),
    minCount,
    maxCount,
    hints: body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints'] ?? {},
    description: b.description,
    hostname: b.hostname ?? null,
    blockDevices:
      b.block_device_mapping !== undefined
        ? legacyBlockDevices(b.block_device_mapping)
        : blockDevices(b.block_device_mapping_v2),
    ...accessIps(b),
    tags: b.tags ?? [],
    diskConfig: b['OS-DCF:diskConfig'],
  };
}
