// Building a guest: its disks (overlay on the cached base, ephemeral, swap, config drive, volumes), its kernel
// when the image names one, its NICs (the data plane's taps, or QEMU user networking with forwards) and the launch
// spec QEMU is started from. Removing what a failed build made is the caller's (the driver destroys the instance).
import { CloudError } from '../../errors.js';
import type { GuestSpec, VolumeDisk } from '../driver.js';
import type { ImageCache } from '../../disk/image-cache.js';
import { createBlank, createOverlay, rootDiskBytes } from '../../disk/overlay.js';
import type { AccelChoice } from './accel.js';
import type { DiskSpec, LaunchSpec, NicSpec } from './cmdline.js';
import { GiB, freePort } from './host-facts.js';
import type { InstancePaths, InstanceState } from './instance-files.js';
import type { QemuDriverOptions } from './options.js';

/** The slirp network every user-mode NIC 0 gets; 169.254.169.254 (metadata) lies inside it. */
export const USER_NET = { net: '169.254.169.0/24', host: '169.254.169.1', dhcpStart: '169.254.169.15' } as const;

/**
 * The QEMU id of a volume's block node (`-drive id=` at launch, `node-name` when hot-plugged); its device is
 * `<id>-dev`.
 */
export function volumeNodeId(volumeId: string): string {
  return `vol-${volumeId.replaceAll('-', '').slice(0, 16)}`;
}

/** A volume as a disk of the command line (relaunches keep attached volumes). */
export function volumeDiskSpec(v: VolumeDisk): DiskSpec {
  return {
    id: volumeNodeId(v.volumeId),
    path: v.path,
    format: v.format,
    serial: v.volumeId.slice(0, 20),
    ...(v.readOnly ? { readOnly: true } : {}),
    ...(v.ioLimits ? { ioLimits: v.ioLimits } : {}),
  };
}

/** What building a guest needs of the driver. */
export interface GuestBuilder {
  cache: ImageCache;
  binary: string;
  accel: () => Promise<AccelChoice>;
  opts: QemuDriverOptions;
}

/**
 * The kernel (and initrd) an image names in kernel_id / ramdisk_id, fetched into the cache; none when it names none.
 */
export async function kernelOf(cache: ImageCache, props: Record<string, string>): Promise<LaunchSpec['kernel']> {
  if (!props.kernel_id) return undefined;
  const k = await cache.get(props.kernel_id);
  const r = props.ramdisk_id ? await cache.get(props.ramdisk_id) : null;
  return {
    path: k.path,
    ...(r ? { initrd: r.path } : {}),
    append: props.os_command_line || 'root=/dev/vda console=ttyS0',
  };
}

/**
 * The NICs of a guest: the data plane's taps when bridged, else user networking (SSH and metadata forwards on NIC 0).
 */
export function nicsFor(opts: QemuDriverOptions, spec: GuestSpec, sshPort: number | null): NicSpec[] {
  const tap = opts.tapName;
  if (tap)
    return spec.nics.map((n, i) => ({
      id: `net${i}`,
      mac: n.mac,
      backend: { kind: 'tap' as const, ifname: tap(n.portId) },
    }));
  const meta = opts.metadataCommand?.(spec.instanceId) ?? null;
  return spec.nics.map((n, i) => ({
    id: `net${i}`,
    mac: n.mac,
    backend:
      i === 0
        ? {
            kind: 'user' as const,
            ...USER_NET,
            hostname: spec.hostname,
            restrict: opts.restrictNetwork ?? true,
            hostForwards: sshPort ? [{ hostAddr: '127.0.0.1', hostPort: sshPort, guestPort: 22 }] : [],
            guestForwards: meta ? [{ addr: '169.254.169.254', port: 80, command: meta }] : [],
          }
        : {
            kind: 'user' as const,
            net: `169.254.${169 + i}.0/24`,
            host: `169.254.${169 + i}.1`,
            dhcpStart: `169.254.${169 + i}.15`,
            restrict: opts.restrictNetwork ?? true,
            hostForwards: [],
            guestForwards: [],
          },
  }));
}

/** Disks, kernel and files of a guest, and the state QEMU is launched from. */
export async function buildGuest(b: GuestBuilder, spec: GuestSpec, p: InstancePaths): Promise<InstanceState> {
  const { cache, opts } = b;
  let props: Record<string, string>;
  let key: string | null = null;
  const disks: DiskSpec[] = [];
  if (spec.rootVolume) {
    // Boot from volume: the volume is the root disk, nothing local is made for it.
    props = spec.rootVolume.imageProperties;
    disks.push({ ...volumeDiskSpec(spec.rootVolume), boot: true });
  } else {
    const base = await cache.get(spec.imageId);
    props = base.image.properties;
    if (['aki', 'ari'].includes(base.image.diskFormat ?? '')) {
      throw new CloudError('BadRequest', `Image ${spec.imageId} is a kernel or ramdisk, not a bootable disk.`);
    }
    await createOverlay(p.root, base.path, base.format, rootDiskBytes(spec.rootGb, base.virtualSize));
    disks.push({ id: 'disk0', path: p.root, format: 'qcow2', serial: spec.instanceId.slice(0, 20), boot: true });
    key = base.path.slice(cache.dir.length + 1);
  }
  if ((spec.ephemeralGb ?? 0) > 0) {
    await createBlank(p.ephemeral, spec.ephemeralGb! * GiB);
    disks.push({ id: 'disk1', path: p.ephemeral, format: 'qcow2' });
  }
  if ((spec.swapMb ?? 0) > 0) {
    await createBlank(p.swap, spec.swapMb! * 1024 * 1024);
    disks.push({ id: 'disk2', path: p.swap, format: 'qcow2' });
  }
  if (spec.configDrive || (opts.tapName && opts.configDriveWithTaps && opts.configDrive)) {
    if (!opts.configDrive) throw new CloudError('BadRequest', 'Config drive is not available on this host.');
    await opts.configDrive(spec, p.configDrive);
    disks.push({ id: 'config', path: p.configDrive, format: 'raw', readOnly: true });
  }
  for (const v of spec.volumes ?? []) disks.push(volumeDiskSpec(v));
  // Nova's hw_disk_bus image property: `scsi` puts the guest's disks (not the read-only config drive) on a
  // virtio-scsi controller; anything else is virtio-blk, Nova's default for KVM/QEMU guests.
  if (props.hw_disk_bus === 'scsi') for (const d of disks) if (d.id !== 'config') d.bus = 'scsi';
  const kernel = await kernelOf(cache, props);
  const sshPort = spec.nics.length && !opts.tapName ? await freePort() : null;
  const launch: LaunchSpec = {
    binary: b.binary,
    name: spec.name,
    uuid: spec.instanceId,
    accel: (await b.accel()).accel,
    machine: opts.machine ?? 'pc',
    vcpus: spec.vcpus,
    memoryMb: spec.memoryMb,
    disks,
    nics: nicsFor(opts, spec, sshPort),
    ...(kernel ? { kernel } : {}),
    serialLog: p.console,
    qmpSocket: p.qmp,
    vncSocket: p.vnc,
    pidFile: p.pid,
    daemonize: true,
  };
  const guestAgent = ['yes', 'true', '1'].includes((props.hw_qemu_guest_agent ?? '').toLowerCase());
  if (guestAgent) launch.guestAgentSocket = p.qga;
  return {
    spec,
    launch,
    sshPort,
    guestAddress: spec.nics.length && !opts.tapName ? USER_NET.dhcpStart : null,
    baseKey: key,
    suspended: false,
    guestAgent,
  };
}
