import type { IoLimits } from './io-limits.js';
/** Nova's power states, as the hypervisor reports them. */
export const PowerState = {
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  CRASHED: 6,
  SUSPENDED: 7,
} as const;
export type PowerStateValue = (typeof PowerState)[keyof typeof PowerState];

/** What a host offers to the scheduler. */
export interface HostCapacity {
  /** Host name as the scheduler and os-services know it. */
  host: string;
  hypervisorHostname: string;
  hypervisorType: string;
  hypervisorVersion: number;
  hostIp: string;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  cpuInfo: Record<string, unknown>;
}

/** The description of one guest a driver needs to build it. */
export interface GuestSpec {
  instanceId: string;
  /** instance-0000abcd style name. */
  name: string;
  hostname: string;
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  imageId: string;
  /** Ports to plug: MAC and fixed IPs. */
  nics: { portId: string; mac: string; ips: string[] }[];
  userData: string | null;
  keyData: string | null;
  metadata: Record<string, string>;
  configDrive: boolean;
  /** Flavor's ephemeral disk (GB) and swap (MB); absent or 0: none. */
  ephemeralGb?: number;
  swapMb?: number;
  /** Seconds a running guest gets to shut down cleanly (ACPI) before it is powered off; absent: 60. */
  shutdownTimeoutSec?: number;
  /** Block-storage volumes to attach at boot, in device order. */
  volumes?: VolumeDisk[];
  /**
   * Boot from volume: the root disk is this volume (no local root disk, no image fetched); its image properties
   * (kernel_id, ramdisk_id, os_command_line, hw_*) come from the volume's image metadata.
   */
  rootVolume?: VolumeDisk & { imageProperties: Record<string, string> };
}

/** A block-storage volume as a hypervisor opens it: a file on this host (the volume backend's connection). */
export interface VolumeDisk {
  volumeId: string;
  path: string;
  /** qcow2 or raw (never probed). */
  format: string;
  /** The device name reported to the API (/dev/vdb); the guest names disks itself. */
  device: string;
  readOnly?: boolean;
  /** Front-end QoS of the volume's type: QEMU throttles the disk. */
  ioLimits?: IoLimits;
}

/** The guest did not release a volume in time (detach); the volume stays attached. */
export class VolumeDetachTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeDetachTimeout';
  }
}

/** A captured disk in a file the driver owns: valid only while the `snapshot` callback runs. */
export interface SnapshotFile {
  /** Format of the file's bytes, e.g. "qcow2" or "raw". */
  diskFormat: string;
  path: string;
  /** Size of the file in bytes. */
  size: number;
}

/** What the driver knows about a guest right now. */
export interface GuestInfo {
  powerState: PowerStateValue;
  maxMemKb: number;
  memKb: number;
  numCpu: number;
  cpuTimeNs: number;
}

/** One disk's I/O counters since the guest's process started (QMP `query-blockstats`). */
export interface DiskCounters {
  /** The drive's id on the QEMU command line (disk0 = root, disk1 = ephemeral, config, vol-...). */
  id: string;
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
  /** Failed reads plus failed writes. */
  errors: number;
}

/**
 * One NIC's counters from the guest's point of view (rx = what the guest received); null where the backend has none.
 */
export interface NicCounters {
  mac: string;
  portId: string;
  /** The host's device for the NIC (a tap), or null for QEMU user networking (slirp), which keeps no counters. */
  device: string | null;
  rxBytes: number | null;
  rxPackets: number | null;
  rxDrops: number | null;
  rxErrors: number | null;
  txBytes: number | null;
  txPackets: number | null;
  txDrops: number | null;
  txErrors: number | null;
}

/** A running guest's resource counters at one moment: monotonic within one process lifetime (a restart resets them). */
export interface InstanceStats {
  /** When they were read (ms since the epoch). */
  at: number;
  /** Seconds since the guest's process started. */
  uptimeSec: number;
  /** CPU time of the whole process (vCPUs plus emulation), nanoseconds. */
  cpuTimeNs: number;
  /** CPU time of each vCPU thread, nanoseconds; empty when the driver cannot tell them apart. */
  vcpuTimeNs: number[];
  /** Guest RAM as configured. */
  memoryMaxBytes: number;
  /** Resident memory of the hypervisor process (what the host really spends on the guest). */
  memoryRssBytes: number;
  /** The balloon's current guest RAM, null without a balloon device. */
  memoryBalloonBytes: number | null;
  disks: DiskCounters[];
  nics: NicCounters[];
}

/** What a host's kernel says about it right now (os-hypervisors' live figures). */
export interface HostUsage {
  uptimeSec: number;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: [number, number, number];
  /** Free space for guests' disks (the data directory's file system), whole GiB. */
  diskFreeGb: number;
  /** MemAvailable from /proc/meminfo, MiB. */
  memoryAvailableMb: number;
}

/** One hypervisor behind one interface: `qemu` on real hosts, `fake` for API tests and scale benchmarks. */
export interface HypervisorDriver {
  /** Driver name, e.g. "fake" or "qemu". */
  readonly type: string;
  /** The hosts this driver instance serves (the fake driver can simulate many). */
  hosts(): HostCapacity[];
  /** Releases timers and monitor connections at shutdown (guests keep running); drivers holding none omit it. */
  close?(): void;
  /** Builds and starts the guest. */
  spawn(host: string, spec: GuestSpec): Promise<void>;
  /** Stops and removes the guest and its local disks; unknown guests are not an error. */
  destroy(host: string, instanceId: string): Promise<void>;
  /** SOFT asks the guest (ACPI), HARD resets it. */
  reboot(host: string, instanceId: string, type: 'SOFT' | 'HARD'): Promise<void>;
  pause(host: string, instanceId: string): Promise<void>;
  unpause(host: string, instanceId: string): Promise<void>;
  suspend(host: string, instanceId: string): Promise<void>;
  resume(host: string, instanceId: string): Promise<void>;
  /** Clean shutdown with a timeout in seconds, then forced off; 0 forces at once. */
  powerOff(host: string, instanceId: string, timeoutSec: number): Promise<void>;
  powerOn(host: string, instanceId: string): Promise<void>;
  /**
   * Captures the root disk into a temporary file, hands it to `consume` (which streams it to the image service) once
   * the guest runs again, and removes the file afterwards, also when `consume` fails.
   */
  snapshot(host: string, instanceId: string, consume: (file: SnapshotFile) => Promise<void>): Promise<void>;
  /** Boots the guest from a rescue image with its own disk attached second. */
  rescue(host: string, instanceId: string, rescueImageId: string): Promise<void>;
  unrescue(host: string, instanceId: string): Promise<void>;
  /** Moves (or resizes in place) the guest to `destHost` with new sizes. */
  migrate(host: string, instanceId: string, destHost: string, spec: GuestSpec): Promise<void>;
  /** Current state; `null` when the driver does not know the guest. */
  getInfo(host: string, instanceId: string): Promise<GuestInfo | null>;
  /** The host's live figures; omitted by drivers that simulate hosts (the fake). */
  hostUsage?(host: string): Promise<HostUsage | null>;
  /** Resource counters of a running guest; null when it does not run here (stopped, suspended, unknown). */
  instanceStats?(host: string, instanceId: string): Promise<InstanceStats | null>;
  /** The serial console log so far. */
  consoleOutput(host: string, instanceId: string): Promise<string>;
  attachInterface(host: string, instanceId: string, nic: GuestSpec['nics'][number]): Promise<void>;
  detachInterface(host: string, instanceId: string, portId: string): Promise<void>;
  /** Hot-plugs a volume (or records it for the next start when the guest is not running). */
  attachVolume(host: string, instanceId: string, disk: VolumeDisk): Promise<void>;
  /** Hot-unplugs a volume, waiting up to timeoutMs for the guest to let go; throws VolumeDetachTimeout otherwise. */
  detachVolume(host: string, instanceId: string, volumeId: string, timeoutMs: number): Promise<void>;
  /**
   * Grows an attached volume to `bytes` through the running guest's hypervisor; false when no guest runs (grow the file
   * then).
   */
  extendVolume(host: string, instanceId: string, volumeId: string, bytes: number): Promise<boolean>;
  /** Volumes the driver has attached to a guest (restart reconciliation); [] when none or unknown. */
  attachedVolumes(host: string, instanceId: string): Promise<VolumeDisk[]>;
  /** Guests present on a host, for reconciliation after a restart. */
  listInstances(host: string): Promise<string[]>;
  /** Remote console protocols this driver serves ("vnc"); empty when it has none (the fake). */
  readonly consoleProtocols: readonly string[];
  /** The unix socket of a running guest's VNC server (for the remote console bridge); null when there is none. */
  consoleSocket(host: string, instanceId: string): Promise<string | null>;
  /** Facts worth showing in the server's details (SSH forward, guest addresses); null when unknown. */
  details?(host: string, instanceId: string): Promise<Record<string, string> | null>;
}
