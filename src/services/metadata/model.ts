// What the metadata service and the config drive know about one instance, and how it is read from the store.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { InstanceRow } from '../../store/compute-tables.js';

/** One NIC of the instance as the guest should see it. */
export interface MetadataNic {
  portId: string;
  networkId: string;
  mac: string;
  fixedIps: { address: string; version: 4 | 6 }[];
  floatingIps: string[];
}

/** Everything the metadata trees are made from (one instance, already decoded). */
export interface InstanceMetadata {
  uuid: string;
  /** Sequence number: EC2 ids are derived from it (i-0000000a). */
  seq: number;
  name: string;
  hostname: string;
  projectId: string;
  availabilityZone: string;
  launchIndex: number;
  reservationId: string;
  imageId: string;
  kernelId: string | null;
  ramdiskId: string | null;
  flavorName: string;
  keys: { name: string; type: string; data: string }[];
  /** User data as bytes (decoded from the API's base64), or null. */
  userData: Buffer | null;
  /** `--property` metadata of the server. */
  meta: Record<string, string>;
  securityGroups: string[];
  nics: MetadataNic[];
  /** The password the guest posted (Nova's encrypted-password protocol), '' when none. */
  password: string;
  launchedAt: string | null;
}

/** Settings of the metadata content. */
export interface MetadataOptions {
  /** Domain appended to host names (Nova's [api] dhcp_domain, default "novalocal"); '' for none. */
  dhcpDomain: string;
}

export const defaultMetadataOptions: MetadataOptions = { dhcpDomain: 'novalocal' };

/** Nova keeps a guest-posted password in system_metadata as password_0..3 (255 characters each). */
export const PASSWORD_CHUNKS = 4;
export const PASSWORD_CHUNK = 255;

function parse<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Reassembles the posted password from system_metadata chunks. */
export function passwordOf(systemMetadata: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < PASSWORD_CHUNKS; i++) out += systemMetadata[`password_${i}`] ?? '';
  return out;
}

/** Builds the model from an instance row (and its keypair's type when the key still exists). */
export function metadataFromRow(r: InstanceRow, keyType: string | null): InstanceMetadata {
  const sys = parse<Record<string, string>>(r.system_metadata, {});
  const flavor = parse<{ name?: string }>(r.flavor, {});
  const ports = parse<
    {
      id: string;
      networkId: string;
      mac: string;
      fixedIps: { ipAddress: string; version: 4 | 6 }[];
      floatingIps?: string[];
    }[]
  >(r.ports, []);
  let userData: Buffer | null = null;
  if (r.user_data) userData = Buffer.from(r.user_data, 'base64');
  return {
    uuid: r.id,
    seq: r.seq,
    name: r.name,
    hostname: r.hostname,
    projectId: r.project_id,
    availabilityZone: r.availability_zone ?? 'nova',
    launchIndex: r.launch_index,
    reservationId: r.reservation_id,
    imageId: r.image_ref,
    kernelId: sys.image_kernel_id ?? null,
    ramdiskId: sys.image_ramdisk_id ?? null,
    flavorName: flavor.name ?? r.flavor_id,
    keys: r.key_name && r.key_data ? [{ name: r.key_name, type: keyType ?? 'ssh', data: r.key_data }] : [],
    userData,
    meta: parse(r.metadata, {}),
    securityGroups: parse(r.security_groups, []),
    nics: ports.map((p) => ({
      portId: p.id,
      networkId: p.networkId,
      mac: p.mac,
      fixedIps: p.fixedIps.map((f) => ({ address: f.ipAddress, version: f.version })),
      floatingIps: p.floatingIps ?? [],
    })),
    password: passwordOf(sys),
    launchedAt: r.launched_at,
  };
}

/** Loads one live (not deleted) instance's metadata; undefined when there is none. */
export async function loadInstanceMetadata(
  db: Kysely<Database>,
  instanceId: string,
): Promise<InstanceMetadata | undefined> {
  const r = await db
    .selectFrom('compute_instances')
    .selectAll()
    .where('id', '=', instanceId)
    .where('deleted', '=', 0)
    .executeTakeFirst();
  if (!r) return undefined;
  let keyType: string | null = null;
  if (r.key_name) {
    const k = await db
      .selectFrom('compute_keypairs')
      .select('type')
      .where('user_id', '=', r.user_id)
      .where('name', '=', r.key_name)
      .executeTakeFirst();
    keyType = k?.type ?? null;
  }
  return metadataFromRow(r, keyType);
}
