// Settings of the QEMU driver (the composition root fills them from the config: src/app/drivers.ts).
import type { GuestSpec } from '../driver.js';
import type { ImageSource } from '../../disk/image-cache.js';
import type { AccelMode } from './accel.js';

/** Settings of the QEMU driver. */
export interface QemuDriverOptions {
  dataDir: string;
  /** The system emulator (config virt.qemuBinary; default qemu-system-x86_64 on PATH). */
  binary?: string;
  accel?: AccelMode;
  /** Host name for the scheduler (default: this machine's). */
  hostName?: string;
  /** Where base images come from. */
  images: () => ImageSource | null;
  /** argv of the per-connection metadata proxy for an instance; null/absent: no metadata forward. */
  metadataCommand?: (instanceId: string) => string[] | null;
  /** Writes a config drive (ISO 9660, label config-2) for the guest; absent: config drive is refused. */
  configDrive?: (spec: GuestSpec, dest: string) => Promise<void>;
  /** A kernel for the KVM proof (auto mode). */
  probeKernel?: () => { kernel: string; initrd?: string } | null;
  /** Console log bound in bytes (default 1 MiB). */
  consoleMaxBytes?: number;
  /** QEMU machine type (default pc). */
  machine?: string;
  /**
   * Bridged networking: the tap device (made and plugged by the data plane) of a port. Absent: QEMU user networking.
   * With taps a guest holds its Neutron fixed IP and there is no SSH forward; metadata reaches it over its network
   * when the data plane serves it, so a config drive is attached when `configDriveWithTaps` says so.
   */
  tapName?: (portId: string) => string;
  /** Attach a config drive to every bridged guest (while the data plane serves no metadata on its networks). */
  configDriveWithTaps?: boolean;
  /** Cut guests off from the host except for their forwards (default true). */
  restrictNetwork?: boolean;
  /** Seconds a soft reboot waits for the guest before resetting it (default 60). */
  softRebootTimeoutSec?: number;
}
