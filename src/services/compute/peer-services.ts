// The narrow views compute has of its peer services (image, network, block storage): the interfaces it calls and
// the shapes it gets back. The adapters over the in-process services are in ./adapters.ts.
import type { Readable } from 'node:stream';
import type { AuthContext } from '../auth-context.js';
import type { IoLimits } from '../../virt/io-limits.js';

/** What compute needs to know about an image. */
export interface ComputeImage {
  id: string;
  name: string;
  status: string;
  minDisk: number;
  minRam: number;
  size: number | null;
  diskFormat: string | null;
  containerFormat: string | null;
  /** Extra properties (architecture, hw_*, ...), string-valued. */
  properties: Record<string, string>;
}

/** The narrow view of the image service compute uses (Glance for Nova). */
export interface ComputeImagePort {
  /** The image as the caller may see it; throws NotFound otherwise. */
  getImage(ctx: AuthContext, id: string): Promise<ComputeImage>;
  /** Creates a snapshot image record (queued) owned by the caller's project. */
  createSnapshot(
    ctx: AuthContext,
    spec: {
      name: string;
      minDisk: number;
      minRam: number;
      properties: Record<string, string>;
    },
  ): Promise<ComputeImage>;
  /** Streams the snapshot's bytes (`size` of them) and makes it active (host side, with the service's own rights). */
  uploadSnapshot(id: string, diskFormat: string, data: Readable, size: number): Promise<void>;
  /** The backups of one type made from an instance, newest first (for createBackup's rotation). */
  listBackups?(instanceId: string, backupType: string): Promise<{ id: string; createdAt: string }[]>;
  /** Removes an image (a shelve snapshot after unshelve, a failed snapshot); unknown ids are ignored. */
  deleteImage(id: string): Promise<void>;
}

/** One requested NIC, as parsed from `networks` in a server create. */
export type NicRequest =
  | { kind: 'network'; networkId: string; fixedIp?: string; tag?: string }
  | { kind: 'port'; portId: string; tag?: string };

/** A port bound to an instance, as compute shows it. */
export interface ComputePort {
  id: string;
  networkId: string;
  networkName: string;
  mac: string;
  fixedIps: { ipAddress: string; subnetId: string; version: 4 | 6 }[];
  /** Floating IPs associated with this port. */
  floatingIps: string[];
  status: string;
  /** True when compute created it (deleted with the instance); false for a user's pre-made port. */
  createdByCompute: boolean;
}

/** The narrow view of the network service compute uses (Neutron for Nova). */
export interface ComputeNetworkPort {
  /** For `networks: "auto"`: the networks to use (the project's own, else the shared ones); may be empty. */
  autoNetworks(ctx: AuthContext): Promise<string[]>;
  /** Checks requests before anything is created (network exists and visible, port free, fixed IP in a subnet). */
  validate(ctx: AuthContext, requests: NicRequest[]): Promise<void>;
  /** Creates or binds one port per request, all or nothing; security groups by name or id. */
  allocate(
    instance: { id: string; projectId: string; userId: string; host: string; hostname: string },
    requests: NicRequest[],
    securityGroups: string[],
  ): Promise<ComputePort[]>;
  /** Deletes the ports compute made and unbinds the others. Unknown ports are ignored. */
  deallocate(instanceId: string, ports: { id: string; createdByCompute: boolean }[]): Promise<void>;
  /** The instance's ports now (addresses change with floating IPs). */
  listPorts(instanceId: string): Promise<ComputePort[]>;
  /** Checks security group names or ids exist for the caller (400 otherwise). */
  validateSecurityGroups?(ctx: AuthContext, names: string[]): Promise<void>;
  /** Security group names of a port set, for the server view. */
  securityGroupNames?(portIds: string[]): Promise<string[]>;
}

/** No network service: only `networks: "none"` and `"auto"` (which then means none) work. */
export class NoNetwork implements ComputeNetworkPort {
  async autoNetworks(): Promise<string[]> {
    return [];
  }
  async validate(_ctx: AuthContext, requests: NicRequest[]): Promise<void> {
    if (requests.length > 0) {
      const { badRequest } = await import('../../errors.js');
      throw badRequest('Networking is not available in this cloud: use "networks": "none".');
    }
  }
  async allocate(): Promise<ComputePort[]> {
    return [];
  }
  async deallocate(): Promise<void> {}
  async listPorts(): Promise<ComputePort[]> {
    return [];
  }
}

/** A volume attached to a server, as compute shows it (Nova's block device mapping of a volume). */
export interface ComputeVolumeAttachment {
  attachmentId: string;
  volumeId: string;
  instanceId: string;
  device: string | null;
  tag: string | null;
  deleteOnTermination: boolean;
  /** attaching | attached | detaching. */
  status: string;
}

/** The narrow view of the block storage service compute uses (Cinder for Nova). */
export interface ComputeVolumePort {
  /** Reserves a volume the caller may see for the server (400 InvalidVolume when it cannot be attached). */
  reserve(
    ctx: AuthContext,
    volumeId: string,
    instanceId: string,
    opts: { device: string; tag: string | null; deleteOnTermination: boolean },
  ): Promise<{
    attachment: ComputeVolumeAttachment;
    path: string;
    format: string;
    readonly: boolean;
    /** Front-end QoS of the volume's type, for the hypervisor to throttle. */
    ioLimits?: IoLimits;
  }>;
  complete(attachmentId: string, device: string, host: string | null): Promise<void>;
  /** The attach failed: the volume is available again; `reason` becomes a user message. */
  rollback(attachmentId: string, reason?: string): Promise<void>;
  beginDetach(attachmentId: string): Promise<void>;
  finishDetach(attachmentId: string): Promise<void>;
  rollDetach(attachmentId: string, reason: string): Promise<void>;
  /** Attachments of a server (any status). */
  ofInstance(instanceId: string): Promise<ComputeVolumeAttachment[]>;
  /** Attachments of many servers (for server lists). */
  ofInstances(instanceIds: string[]): Promise<Map<string, ComputeVolumeAttachment[]>>;
  /** Where a volume's bytes are and its I/O limits, for reattaching it when a guest is rebuilt from its spec. */
  connection(volumeId: string): Promise<{ path: string; format: string; ioLimits?: IoLimits }>;
  /** The server is deleted: detach everything, delete volumes marked delete_on_termination. */
  releaseInstance(instanceId: string): Promise<void>;
  /** A volume the caller may see (boot-from-volume checks); null when there is none. */
  describeVolume(ctx: AuthContext, volumeId: string): Promise<ComputeVolumeInfo | null>;
  /** A volume snapshot the caller may see; null when there is none. */
  describeSnapshot(ctx: AuthContext, snapshotId: string): Promise<{ id: string; status: string; size: number } | null>;
  /** Creates a volume for a server's block device mapping (status `creating`); answers its id. */
  createVolume(
    ctx: AuthContext,
    spec: { size: number | null; name: string; imageId?: string | null; snapshotId?: string | null },
  ): Promise<string>;
  /** A volume's status and image metadata with the service's own rights; null when it is gone. */
  volumeState(volumeId: string): Promise<{ status: string; imageMetadata: Record<string, string> } | null>;
  /**
   * Snapshots a volume attached to a server (server createImage of a volume-backed server); answers the snapshot id.
   */
  snapshotAttached(ctx: AuthContext, volumeId: string, name: string): Promise<{ id: string; size: number }>;
}

/** What boot from volume needs to know about a volume. */
export interface ComputeVolumeInfo {
  id: string;
  status: string;
  size: number;
  bootable: boolean;
  imageMetadata: Record<string, string>;
}
