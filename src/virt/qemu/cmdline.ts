// The QEMU command line as a pure function of a launch description: an argument array, never a shell string.
import { driveThrottleOptions, type IoLimits } from '../io-limits.js';

/** How a NIC reaches the world: slirp user networking now; a tap on a bridge drops in later. */
export type NicBackend =
  | {
      kind: 'user';
      /** slirp network, e.g. 169.254.169.0/24 (must contain the metadata address for guestfwd). */
      net: string;
      /** slirp's own address in that network. */
      host: string;
      /** First DHCP address handed out. */
      dhcpStart: string;
      /** Host name offered over DHCP. */
      hostname?: string;
      /** Loopback port forwards into the guest, e.g. SSH. */
      hostForwards: { hostAddr: string; hostPort: number; guestPort: number }[];
      /** Guest connections to addr:port handed to a new process each (stdin/stdout = the connection). */
      guestForwards: { addr: string; port: number; command: string[] }[];
      /** Cut the guest off from the host and the outside except for the forwards. */
      restrict: boolean;
    }
  | { kind: 'tap'; ifname: string };

/** One virtio NIC. */
export interface NicSpec {
  /** Short id used for netdev/device ids (net0, net1...). */
  id: string;
  mac: string;
  backend: NicBackend;
}

/** One virtio disk. */
export interface DiskSpec {
  id: string;
  path: string;
  /** qemu format name (qcow2, raw). */
  format: string;
  readOnly?: boolean;
  /** Serial shown to the guest (/dev/disk/by-id). */
  serial?: string;
  /** Boot from this disk first. */
  boot?: boolean;
  /**
   * The guest bus (the image's hw_disk_bus): virtio-blk by default, or a disk on a virtio-scsi controller, which
   * QEMU can hot-unplug without the guest's help (a virtio-blk unplug waits for the guest's ACPI answer).
   */
  bus?: 'virtio' | 'scsi';
  /** I/O throttling (a volume's front-end QoS). */
  ioLimits?: IoLimits;
}

/** The id of the virtio-scsi controller a guest gets when any of its disks is on the SCSI bus. */
export const SCSI_CONTROLLER = 'scsi0';

/** Everything that decides the QEMU command line of one instance. */
export interface LaunchSpec {
  binary: string;
  name: string;
  uuid: string;
  accel: 'kvm' | 'tcg';
  machine: string;
  vcpus: number;
  memoryMb: number;
  disks: DiskSpec[];
  nics: NicSpec[];
  /** Direct kernel boot (AMI-style images, or the tiny image). */
  kernel?: { path: string; initrd?: string; append: string };
  serialLog: string;
  qmpSocket: string;
  vncSocket: string;
  /** The qemu-guest-agent channel's host socket; absent: no channel (as Nova without hw_qemu_guest_agent). */
  guestAgentSocket?: string;
  pidFile: string;
  /** SMBIOS serial; defaults to the uuid. */
  smbiosSerial?: string;
  /** Wait for migration state on this unix socket (resume from suspend). */
  incomingSocket?: string;
  /** Fork into the background once ready (the driver always does; the accel probe does not). */
  daemonize: boolean;
}

/** QEMU's option syntax: a comma inside a value is written twice. */
export function escapeOpt(value: string): string {
  return value.replace(/,/g, ',,');
}

/** Quotes one argument the way g_shell_parse_argv (libslirp's guestfwd cmd:) reads it back, without a shell. */
export function shellWord(arg: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The `-netdev` value of a user-mode NIC. */
export function userNetdev(id: string, b: Extract<NicBackend, { kind: 'user' }>): string {
  const parts = [`user`, `id=${id}`, `net=${b.net}`, `host=${b.host}`, `dhcpstart=${b.dhcpStart}`];
  if (b.restrict) parts.push('restrict=on');
  if (b.hostname) parts.push(`hostname=${escapeOpt(b.hostname)}`);
  for (const f of b.hostForwards) parts.push(`hostfwd=tcp:${f.hostAddr}:${f.hostPort}-:${f.guestPort}`);
  for (const f of b.guestForwards) {
    parts.push(`guestfwd=tcp:${f.addr}:${f.port}-cmd:${escapeOpt(f.command.map(shellWord).join(' '))}`);
  }
  return parts.join(',');
}

/** The `-netdev` value for any backend. */
export function netdevArg(nic: NicSpec): string {
  const b = nic.backend;
  if (b.kind === 'user') return userNetdev(nic.id, b);
  return `tap,id=${nic.id},ifname=${escapeOpt(b.ifname)},script=no,downscript=no,vhost=off`;
}

/** Builds QEMU's argv (without the binary). */
export function buildCommandLine(s: LaunchSpec): string[] {
  const a: string[] = [];
  const sock = (id: string, path: string) => `socket,id=${id},path=${escapeOpt(path)},server=on,wait=off`;
  a.push('-name', `guest=${escapeOpt(s.name)},debug-threads=on`);
  a.push('-uuid', s.uuid);
  a.push('-machine', s.machine);
  // TCG's translation cache defaults to 1 GiB per guest; 64 MiB keeps a small guest's QEMU small.
  a.push('-accel', s.accel === 'tcg' ? 'tcg,tb-size=64' : 'kvm');
  a.push('-cpu', s.accel === 'kvm' ? 'host' : 'max');
  a.push('-smp', String(s.vcpus));
  a.push('-m', String(s.memoryMb));
  a.push('-nodefaults', '-no-user-config', '-msg', 'timestamp=on');
  a.push('-display', 'none', '-vga', 'std', '-vnc', `unix:${s.vncSocket}`);
  a.push('-chardev', sock('qmp', s.qmpSocket), '-mon', 'chardev=qmp,mode=control');
  a.push('-chardev', `file,id=serial0,path=${escapeOpt(s.serialLog)},append=on`, '-serial', 'chardev:serial0');
  if (s.guestAgentSocket) {
    a.push('-device', 'virtio-serial-pci,id=vserial0');
    a.push('-chardev', sock('qga0', s.guestAgentSocket));
    a.push('-device', 'virtserialport,bus=vserial0.0,chardev=qga0,name=org.qemu.guest_agent.0');
  }
  a.push('-object', 'rng-random,id=rng0,filename=/dev/urandom', '-device', 'virtio-rng-pci,rng=rng0');
  const serial = s.smbiosSerial ?? s.uuid;
  a.push(
    '-smbios',
    `type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,serial=${escapeOpt(serial)},uuid=${s.uuid}`,
  );
  if (s.disks.some((d) => d.bus === 'scsi')) a.push('-device', `virtio-scsi-pci,id=${SCSI_CONTROLLER}`);
  for (const d of s.disks) {
    const ro = d.readOnly ? ',read-only=on' : '';
    a.push(
      '-drive',
      `file=${escapeOpt(d.path)},format=${d.format},if=none,id=${d.id},discard=unmap${ro}` +
        driveThrottleOptions(d.ioLimits),
    );
    const dev = d.bus === 'scsi' ? ['scsi-hd', `bus=${SCSI_CONTROLLER}.0`] : ['virtio-blk-pci'];
    dev.push(`drive=${d.id}`, `id=${d.id}-dev`);
    if (d.serial) dev.push(`serial=${escapeOpt(d.serial)}`);
    if (d.boot) dev.push('bootindex=1');
    a.push('-device', dev.join(','));
  }
  for (const n of s.nics) {
    a.push('-netdev', netdevArg(n));
    a.push('-device', `virtio-net-pci,netdev=${n.id},id=${n.id}-dev,mac=${n.mac}`);
  }
  if (s.kernel) {
    a.push('-kernel', s.kernel.path);
    if (s.kernel.initrd) a.push('-initrd', s.kernel.initrd);
    a.push('-append', s.kernel.append);
  }
  a.push('-pidfile', s.pidFile);
  if (s.incomingSocket) a.push('-incoming', `unix:${s.incomingSocket}`);
  if (s.daemonize) a.push('-daemonize');
  return a;
}
