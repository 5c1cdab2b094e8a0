import type { InstanceRow } from '../../store/compute-tables.js';
import type { ComputePort, NicRequest } from './peer-services.js';
import { parseJson } from './common.js';

/** The flavor as copied into an instance at boot (Nova's embedded flavor, shown from 2.47). */
export interface FlavorSnapshot {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  extraSpecs: Record<string, string>;
}

/** A port as stored on the instance (enough to show addresses without asking the network service). */
export type StoredPort = ComputePort;

/** One block device mapping as accepted; `volume_id` is the volume the host made or used for it (block-devices.ts). */
export interface BlockDevice {
  boot_index: number | null;
  source_type: string;
  destination_type: string;
  uuid: string | null;
  volume_size: number | null;
  delete_on_termination: boolean;
  device_name: string | null;
  tag: string | null;
  guest_format: string | null;
  disk_bus: string | null;
  device_type: string | null;
  volume_id?: string | null;
}

/** Decoded JSON columns of an instance. */
export interface InstanceExtras {
  flavor: FlavorSnapshot;
  metadata: Record<string, string>;
  tags: string[];
  securityGroups: string[];
  ports: StoredPort[];
  requestedNetworks: NicRequest[] | 'auto' | 'none';
  fault: { code: number; message: string; details?: string; created: string } | null;
  systemMetadata: Record<string, string>;
  blockDevices: BlockDevice[];
}

export function extras(r: InstanceRow): InstanceExtras {
  return {
    flavor: parseJson<FlavorSnapshot>(r.flavor, {
      id: r.flavor_id,
      name: '',
      vcpus: r.vcpus,
      ram: r.memory_mb,
      disk: r.root_gb,
      ephemeral: 0,
      swap: 0,
      extraSpecs: {},
    }),
    metadata: parseJson(r.metadata, {}),
    tags: parseJson(r.tags, []),
    securityGroups: parseJson(r.security_groups, []),
    ports: parseJson(r.ports, []),
    requestedNetworks: parseJson(r.requested_networks, []),
    fault: parseJson(r.fault, null),
    systemMetadata: parseJson(r.system_metadata, {}),
    blockDevices: parseJson(r.block_devices, []),
  };
}

/** Instance name on the hypervisor, as Nova's instance_name_template "instance-%08x". */
export function instanceName(r: { seq: number }): string {
  return `instance-${(r.seq % 0x100000000).toString(16).padStart(8, '0')}`;
}

/** Nova's hostname from a display name: lowercase, letters/digits/hyphens, at most 63 characters. */
export function sanitizeHostname(name: string, fallback: string): string {
  let h = name
    .toLowerCase()
    .replace(/[ _]/g, '-')
    .replace(/[^a-z0-9.-]/g, '')
    .replace(/^[.-]+|[.-]+$/g, '');
  h = h.slice(0, 63).replace(/[.-]+$/, '');
  return h || fallback;
}

/** Compute's stored records as the API renders them (the API layer does not import the store). */
export type { InstanceRow, ComputeNodeRow, MigrationRow } from '../../store/compute-tables.js';
