// The `qemu` hypervisor driver: one QEMU process per instance, run directly and driven over QMP.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync, statfsSync } from 'node:fs';
import { open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { cpus, hostname, networkInterfaces, totalmem } from 'node:os';
import { join } from 'node:path';
import { CloudError } from '../../errors.js';
import { PowerState, VolumeDetachTimeout, type GuestInfo, type GuestSpec, type HostCapacity, type HypervisorDriver, type SnapshotFile, type VolumeDisk } from '../driver.js';
import { ImageCache, type ImageSource } from '../../disk/image-cache.js';
import { createBlank, createOverlay, flatten, growDisk, rootDiskBytes } from '../../disk/overlay.js';
import { accelCacheKey, bootsUnderKvm, cachedAccel, chooseAccel, kvmDeviceUsable, type AccelChoice, type AccelMode } from './accel.js';
import { buildCommandLine, SCSI_CONTROLLER, type DiskSpec, type LaunchSpec, type NicSpec } from './cmdline.js';
import { guestAgentFacts, guestAgentFreeze, guestAgentThaw } from './guest-agent.js';
import { InstanceFiles, type InstancePaths, type InstanceState } from './instance-files.js';
import { isOurProcess, killHard, launchDaemon, qemuProcessesUnder, readPid, waitGone } from './process.js';
import { QmpClient } from './qmp.js';

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

/** The slirp network every user-mode NIC 0 gets; 169.254.169.254 (metadata) lies inside it. */
export const USER_NET = { net: '169.254.169.0/24', host: '169.254.169.1', dhcpStart: '169.254.169.15' } as const;

const GiB = 1024 ** 3;

/** The QEMU id of a volume's block node (`-drive id=` at launch, `node-name` when hot-plugged); its device is `<id>-dev`. */
export function volumeNodeId(volumeId: string): string {
  return `vol-${volumeId.replaceAll('-', '').slice(0, 16)}`;
}

/** A volume as a disk of the command line (relaunches keep attached volumes). */
function volumeDiskSpec(v: VolumeDisk): DiskSpec {
  return { id: volumeNodeId(v.volumeId), path: v.path, format: v.format, serial: v.volumeId.slice(0, 20), ...(v.readOnly ? { readOnly: true } : {}) };
}

/** Names of the temporary snapshot files in an instance folder. */
const SNAPSHOT_FILE = /^snapshot-[0-9a-f]{12}\.qcow2$/;

/** Facts the compute API shows in a server's details. */
export interface GuestDetails {
  [key: string]: string;
}

function notFound(id: string, host: string): CloudError {
  return new CloudError('NotFound', `Instance ${id} could not be found on ${host}.`, { code: 'InstanceNotFound' });
}

function qemuVersion(binary: string): number {
  try {
    const out = execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    const m = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
    return m ? Number(m[1]) * 1_000_000 + Number(m[2]) * 1000 + Number(m[3]) : 0;
  } catch {
    return 0;
  }
}

function hostIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** A free loopback TCP port (QEMU binds it right after; a lost race is retried by the caller). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The QEMU driver. Files per instance under DATA_DIR/instances/<uuid>, bases under DATA_DIR/cache/images. */
export class QemuDriver implements HypervisorDriver {
  readonly type = 'qemu';
  readonly consoleProtocols = ['vnc'] as const;
  readonly binary: string;
  readonly files: InstanceFiles;
  readonly cache: ImageCache;
  private readonly capacity: HostCapacity;
  private readonly monitors = new Map<string, QmpClient>();
  private accelChoice: Promise<AccelChoice> | null = null;
  private consoleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: QemuDriverOptions) {
    this.binary = opts.binary ?? 'qemu-system-x86_64';
    this.files = new InstanceFiles(opts.dataDir);
    this.cache = new ImageCache(join(opts.dataDir, 'cache', 'images'), opts.images);
    const host = opts.hostName ?? hostname();
    let diskGb = 0;
    try {
      const s = statfsSync(existsSync(opts.dataDir) ? opts.dataDir : '/');
      diskGb = Math.floor((s.blocks * s.bsize) / GiB);
    } catch {
      diskGb = 0;
    }
    const c = cpus();
    this.capacity = {
      host, hypervisorHostname: host, hypervisorType: 'QEMU', hypervisorVersion: qemuVersion(this.binary), hostIp: hostIp(),
      vcpus: c.length, memoryMb: Math.floor(totalmem() / 1024 / 1024), localGb: diskGb,
      cpuInfo: { arch: 'x86_64', model: c[0]?.model ?? 'unknown', vendor: 'unknown', topology: { sockets: 1, cores: c.length, threads: 1 }, features: [] },
    };
    this.consoleTimer = setInterval(() => { this.boundConsoles().catch(() => {}); }, 10_000);
    this.consoleTimer.unref();
  }

  hosts(): HostCapacity[] {
    return [this.capacity];
  }

  /** The accelerator in use (decided once, remembered in DATA_DIR/cache/accel.json). */
  accel(): Promise<AccelChoice> {
    this.accelChoice ??= (async () => {
      const mode = this.opts.accel ?? 'auto';
      return cachedAccel(join(this.opts.dataDir, 'cache', 'accel.json'), accelCacheKey(this.binary, mode), () => chooseAccel(mode, {
        kvmDevice: kvmDeviceUsable,
        probeKernel: () => this.opts.probeKernel?.() ?? null,
        bootsUnderKvm: (k, t) => bootsUnderKvm(this.binary, k, t),
      }));
    })();
    return this.accelChoice;
  }

  private checkHost(host: string): void {
    if (host !== this.capacity.host) throw new CloudError('Internal', `qemu driver: host ${host} is not this host (${this.capacity.host})`);
  }

  // --- processes and monitors

  private async pidOf(id: string): Promise<number | null> {
    const p = this.files.paths(id);
    const pid = await readPid(p.pid);
    return pid && isOurProcess(pid, p.pid) ? pid : null;
  }

  /** The monitor of a running instance (re-attached over its socket when needed); null when no process runs. */
  async monitor(id: string): Promise<QmpClient | null> {
    const m = this.monitors.get(id);
    if (m && !m.isClosed) return m;
    if (!(await this.pidOf(id))) return null;
    const c = await QmpClient.connect(this.files.paths(id).qmp);
    this.monitors.set(id, c);
    c.events.once('close', () => { if (this.monitors.get(id) === c) this.monitors.delete(id); });
    return c;
  }

  private async mustMonitor(id: string, host: string): Promise<QmpClient> {
    const m = await this.monitor(id);
    if (!m) throw new CloudError('Conflict', `Instance ${id} is not running on ${host}.`, { code: 'InstanceNotRunning' });
    return m;
  }

  /** Ends the process: ACPI first when `graceSec` > 0, then quit, then SIGKILL. */
  private async stopProcess(id: string, graceSec: number): Promise<void> {
    const p = this.files.paths(id);
    const pid = await this.pidOf(id);
    if (!pid) return;
    const m = await this.monitor(id).catch(() => null);
    if (m && graceSec > 0) {
      const st = await m.queryStatus().catch(() => null);
      if (st?.status === 'paused') await m.cont().catch(() => {});
      await m.systemPowerdown().catch(() => {});
      await m.waitClose(graceSec * 1000);
    }
    if (m && !m.isClosed) await m.quit().catch(() => {});
    if (!(await waitGone(pid, p.pid, 5000))) await killHard(pid, p.pid);
    this.monitors.get(id)?.close();
    this.monitors.delete(id);
    await rm(p.pid, { force: true });
  }

  /** Starts QEMU from the saved launch spec; picks a new SSH port when the old one is taken. */
  private async launch(id: string, st: InstanceState, extra: Partial<LaunchSpec> = {}): Promise<void> {
    const p = this.files.paths(id);
    await rm(p.pid, { force: true });
    for (const s of [p.qmp, p.vnc, p.qga, p.migrateIn]) await rm(s, { force: true });
    for (let attempt = 1; ; attempt++) {
      const launch: LaunchSpec = { ...st.launch, ...extra, accel: (await this.accel()).accel };
      try {
        await launchDaemon(this.binary, buildCommandLine(launch));
        await this.files.writeState(id, { ...st, launch: { ...st.launch, accel: launch.accel } });
        return;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (attempt < 4 && st.sshPort && /host forwarding|hostfwd|Address already in use/i.test(msg)) {
          st = await this.withNewSshPort(st);
          continue;
        }
        throw e;
      }
    }
  }

  private async withNewSshPort(st: InstanceState): Promise<InstanceState> {
    const port = await freePort();
    const nics = st.launch.nics.map((n) => (n.backend.kind === 'user' && n.backend.hostForwards.length
      ? { ...n, backend: { ...n.backend, hostForwards: n.backend.hostForwards.map((f) => (f.guestPort === 22 ? { ...f, hostPort: port } : f)) } }
      : n));
    return { ...st, sshPort: port, launch: { ...st.launch, nics } };
  }

  // --- building

  private async nicsFor(spec: GuestSpec, sshPort: number | null): Promise<NicSpec[]> {
    const tap = this.opts.tapName;
    if (tap) return spec.nics.map((n, i) => ({ id: `net${i}`, mac: n.mac, backend: { kind: 'tap' as const, ifname: tap(n.portId) } }));
    const meta = this.opts.metadataCommand?.(spec.instanceId) ?? null;
    return spec.nics.map((n, i) => ({
      id: `net${i}`,
      mac: n.mac,
      backend: i === 0
        ? {
          kind: 'user' as const, ...USER_NET, hostname: spec.hostname, restrict: this.opts.restrictNetwork ?? true,
          hostForwards: sshPort ? [{ hostAddr: '127.0.0.1', hostPort: sshPort, guestPort: 22 }] : [],
          guestForwards: meta ? [{ addr: '169.254.169.254', port: 80, command: meta }] : [],
        }
        : {
          kind: 'user' as const, net: `169.254.${169 + i}.0/24`, host: `169.254.${169 + i}.1`, dhcpStart: `169.254.${169 + i}.15`,
          restrict: this.opts.restrictNetwork ?? true, hostForwards: [], guestForwards: [],
        },
    }));
  }

  /** Disks, kernel and files of a guest; removes what it made when a step fails. */
  private async build(spec: GuestSpec, p: InstancePaths): Promise<InstanceState> {
    let props: Record<string, string>;
    let key: string | null = null;
    const disks: DiskSpec[] = [];
    if (spec.rootVolume) {
      // Boot from volume: the volume is the root disk, nothing local is made for it.
      props = spec.rootVolume.imageProperties;
      disks.push({ ...volumeDiskSpec(spec.rootVolume), boot: true });
    } else {
      const base = await this.cache.get(spec.imageId);
      props = base.image.properties;
      if (['aki', 'ari'].includes(base.image.diskFormat ?? '')) {
        throw new CloudError('BadRequest', `Image ${spec.imageId} is a kernel or ramdisk, not a bootable disk.`);
      }
      await createOverlay(p.root, base.path, base.format, rootDiskBytes(spec.rootGb, base.virtualSize));
      disks.push({ id: 'disk0', path: p.root, format: 'qcow2', serial: spec.instanceId.slice(0, 20), boot: true });
      key = base.path.slice(this.cache.dir.length + 1);
    }
    if ((spec.ephemeralGb ?? 0) > 0) {
      await createBlank(p.ephemeral, spec.ephemeralGb! * GiB);
      disks.push({ id: 'disk1', path: p.ephemeral, format: 'qcow2' });
    }
    if ((spec.swapMb ?? 0) > 0) {
      await createBlank(p.swap, spec.swapMb! * 1024 * 1024);
      disks.push({ id: 'disk2', path: p.swap, format: 'qcow2' });
    }
    if (spec.configDrive || (this.opts.tapName && this.opts.configDriveWithTaps && this.opts.configDrive)) {
      if (!this.opts.configDrive) throw new CloudError('BadRequest', 'Config drive is not available on this host.');
      await this.opts.configDrive(spec, p.configDrive);
      disks.push({ id: 'config', path: p.configDrive, format: 'raw', readOnly: true });
    }
    for (const v of spec.volumes ?? []) disks.push(volumeDiskSpec(v));
    // Nova's hw_disk_bus image property: `scsi` puts the guest's disks (not the read-only config drive) on a
    // virtio-scsi controller; anything else is virtio-blk, Nova's default for KVM/QEMU guests.
    if (props.hw_disk_bus === 'scsi') for (const d of disks) if (d.id !== 'config') d.bus = 'scsi';
    let kernel: LaunchSpec['kernel'];
    if (props.kernel_id) {
      const k = await this.cache.get(props.kernel_id);
      const r = props.ramdisk_id ? await this.cache.get(props.ramdisk_id) : null;
      kernel = { path: k.path, ...(r ? { initrd: r.path } : {}), append: props.os_command_line || 'root=/dev/vda console=ttyS0' };
    }
    const sshPort = spec.nics.length && !this.opts.tapName ? await freePort() : null;
    const launch: LaunchSpec = {
      binary: this.binary, name: spec.name, uuid: spec.instanceId, accel: (await this.accel()).accel, machine: this.opts.machine ?? 'pc',
      vcpus: spec.vcpus, memoryMb: spec.memoryMb, disks, nics: await this.nicsFor(spec, sshPort), ...(kernel ? { kernel } : {}),
      serialLog: p.console, qmpSocket: p.qmp, vncSocket: p.vnc, pidFile: p.pid, daemonize: true,
    };
    const guestAgent = ['yes', 'true', '1'].includes((props.hw_qemu_guest_agent ?? '').toLowerCase());
    if (guestAgent) launch.guestAgentSocket = p.qga;
    return { spec, launch, sshPort, guestAddress: spec.nics.length && !this.opts.tapName ? USER_NET.dhcpStart : null, baseKey: key, suspended: false, guestAgent };
  }

  async spawn(host: string, spec: GuestSpec): Promise<void> {
    this.checkHost(host);
    // A spawn interrupted by a restart left files behind: start over.
    if (existsSync(this.files.paths(spec.instanceId).dir)) await this.destroy(host, spec.instanceId);
    const p = await this.files.create(spec.instanceId);
    try {
      const st = await this.build(spec, p);
      await this.files.writeState(spec.instanceId, st);
      await this.launch(spec.instanceId, st);
      await this.monitor(spec.instanceId);
    } catch (e) {
      await this.destroy(host, spec.instanceId).catch(() => {});
      throw e;
    }
  }

  async destroy(host: string, id: string): Promise<void> {
    this.checkHost(host);
    await this.stopProcess(id, 0);
    // A process whose pidfile is gone is found by its command line.
    for (const [pid, owner] of qemuProcessesUnder(this.files.root)) {
      if (owner === id) await killHard(pid, this.files.paths(id).pid);
    }
    await this.files.remove(id);
  }

  private async state(host: string, id: string): Promise<InstanceState> {
    this.checkHost(host);
    const st = await this.files.readState(id);
    if (!st) throw notFound(id, host);
    return st;
  }

  async reboot(host: string, id: string, type: 'SOFT' | 'HARD'): Promise<void> {
    const st = await this.state(host, id);
    const m = await this.monitor(id);
    if (type === 'HARD' && m) {
      await m.systemReset();
      const s = await m.queryStatus();
      if (!s.running) await m.cont();
      return;
    }
    if (m) {
      // As Nova: ask the guest to shut down, wait, and fall back to a hard stop; then boot it again.
      await this.stopProcess(id, this.opts.softRebootTimeoutSec ?? 60);
    }
    await this.launch(id, st);
  }

  async pause(host: string, id: string): Promise<void> {
    await this.state(host, id);
    await (await this.mustMonitor(id, host)).stop();
  }

  async unpause(host: string, id: string): Promise<void> {
    await this.state(host, id);
    await (await this.mustMonitor(id, host)).cont();
  }

  /** Saves memory and device state to a file over a migration socket; the process ends and frees the host. */
  async suspend(host: string, id: string): Promise<void> {
    const st = await this.state(host, id);
    const p = this.files.paths(id);
    const m = await this.mustMonitor(id, host);
    await rm(p.migrateOut, { force: true });
    const tmp = `${p.suspendState}.part`;
    let server: Server | null = null;
    const received = new Promise<void>((resolve, reject) => {
      server = createServer((sock) => {
        const out = createWriteStream(tmp);
        sock.pipe(out);
        out.on('finish', () => resolve());
        out.on('error', reject);
        sock.on('error', reject);
      });
      server.on('error', reject);
      server.listen(p.migrateOut);
    });
    try {
      await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
      await m.run('migrate-set-parameters', { 'max-bandwidth': 8 * GiB });
      await m.migrate(`unix:${p.migrateOut}`);
      for (;;) {
        const q = await m.queryMigrate();
        if (q.status === 'completed') break;
        if (q.status === 'failed' || q.status === 'cancelled') throw new Error(`suspend failed: ${q['error-desc'] ?? q.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await received;
      await rename(tmp, p.suspendState);
      await this.files.writeState(id, { ...st, suspended: true });
      await this.stopProcess(id, 0);
    } catch (e) {
      await rm(tmp, { force: true });
      const mm = await this.monitor(id).catch(() => null);
      if (mm) await mm.cont().catch(() => {});
      throw e;
    } finally {
      (server as Server | null)?.close();
      await rm(p.migrateOut, { force: true });
    }
  }

  /** Starts QEMU waiting for incoming state and streams the saved file into it. */
  async resume(host: string, id: string): Promise<void> {
    const st = await this.state(host, id);
    const p = this.files.paths(id);
    if (!st.suspended || !existsSync(p.suspendState)) {
      if (await this.pidOf(id)) return;
      throw new CloudError('Conflict', `Instance ${id} has no saved state to resume from.`);
    }
    await this.launch(id, st, { incomingSocket: p.migrateIn });
    await new Promise<void>((resolve, reject) => {
      const sock = connect(p.migrateIn);
      sock.once('error', reject);
      sock.once('connect', () => {
        const src = createReadStream(p.suspendState);
        src.once('error', reject);
        src.pipe(sock);
        sock.once('close', () => resolve());
      });
    });
    const m = await this.mustMonitor(id, host);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await m.queryStatus();
      if (s.status === 'running') break;
      if (s.status === 'paused' || s.status === 'postmigrate') { await m.cont(); break; }
      if (Date.now() > deadline) throw new Error(`resume did not finish (status ${s.status})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await rm(p.suspendState, { force: true });
    await this.files.writeState(id, { ...st, suspended: false });
  }

  async powerOff(host: string, id: string, timeoutSec: number): Promise<void> {
    const st = await this.state(host, id);
    await this.stopProcess(id, timeoutSec);
    if (st.suspended) {
      await rm(this.files.paths(id).suspendState, { force: true });
      await this.files.writeState(id, { ...st, suspended: false });
    }
  }

  async powerOn(host: string, id: string): Promise<void> {
    const st = await this.state(host, id);
    if (await this.pidOf(id)) return;
    if (st.suspended) return this.resume(host, id);
    await this.launch(id, st);
  }

  /**
   * A consistent copy of the root disk: file systems frozen by the guest agent when one answers, else the guest
   * paused (which flushes its disks); the chain flattened into one qcow2 file in the instance folder; the guest back
   * as it was before `consume` streams the file out; the file removed whatever happens.
   */
  async snapshot(host: string, id: string, consume: (file: SnapshotFile) => Promise<void>): Promise<void> {
    const st = await this.state(host, id);
    const p = this.files.paths(id);
    // A snapshot interrupted by a restart left its file: nothing else can be using it (one task per instance).
    for (const f of readdirSafe(p.dir)) if (SNAPSHOT_FILE.test(f)) await rm(join(p.dir, f), { force: true });
    const m = await this.monitor(id);
    let resume: (() => Promise<void>) | null = null;
    if (m) {
      if (st.guestAgent && (await guestAgentFreeze(p.qga))) {
        resume = () => guestAgentThaw(p.qga);
      } else {
        const s = await m.queryStatus();
        if (s.running) {
          await m.stop();
          resume = () => m.cont();
        }
      }
    }
    const out = join(p.dir, `snapshot-${randomBytes(6).toString('hex')}.qcow2`);
    try {
      try {
        await flatten(p.root, out);
      } finally {
        if (resume) await resume();
      }
      await consume({ diskFormat: 'qcow2', path: out, size: (await stat(out)).size });
    } finally {
      await rm(out, { force: true });
    }
  }

  /** Boots the rescue image with the instance's own disk attached second. */
  async rescue(host: string, id: string, rescueImageId: string): Promise<void> {
    const st = await this.state(host, id);
    const p = this.files.paths(id);
    await this.stopProcess(id, 0);
    const base = await this.cache.get(rescueImageId);
    const rescueDisk = join(p.dir, 'disk.rescue');
    await rm(rescueDisk, { force: true });
    await createOverlay(rescueDisk, base.path, base.format, base.virtualSize);
    const own = st.launch.disks.map((d) => ({ ...d, boot: false }));
    const props = base.image.properties;
    let kernel: LaunchSpec['kernel'];
    if (props.kernel_id) {
      const k = await this.cache.get(props.kernel_id);
      const r = props.ramdisk_id ? await this.cache.get(props.ramdisk_id) : null;
      kernel = { path: k.path, ...(r ? { initrd: r.path } : {}), append: props.os_command_line || 'root=/dev/vda console=ttyS0' };
    }
    const launch: LaunchSpec = { ...st.launch, disks: [{ id: 'rescue', path: rescueDisk, format: 'qcow2', boot: true }, ...own] };
    if (kernel) launch.kernel = kernel;
    else delete launch.kernel;
    await this.launch(id, { ...st, launch });
    await this.files.writeState(id, { ...st, launch: { ...st.launch } });
    await writeFile(join(p.dir, 'rescued'), JSON.stringify(launch));
  }

  async unrescue(host: string, id: string): Promise<void> {
    const st = await this.state(host, id);
    const p = this.files.paths(id);
    await this.stopProcess(id, 0);
    await rm(join(p.dir, 'disk.rescue'), { force: true });
    await rm(join(p.dir, 'rescued'), { force: true });
    await this.launch(id, st);
  }

  /** Resize on this host: the guest stops, the root disk grows (never shrinks), it boots with the new sizes if it ran. */
  async migrate(host: string, id: string, destHost: string, spec: GuestSpec): Promise<void> {
    const st = await this.state(host, id);
    if (destHost !== host) throw new CloudError('BadRequest', `The qemu driver cannot move instances between hosts (${host} -> ${destHost}).`);
    const wasRunning = !!(await this.pidOf(id));
    await this.stopProcess(id, wasRunning ? spec.shutdownTimeoutSec ?? 60 : 0);
    const p = this.files.paths(id);
    if (spec.rootGb > 0 && !spec.rootVolume) await growDisk(p.root, spec.rootGb * GiB);
    const next: InstanceState = { ...st, spec: { ...spec, nics: st.spec.nics }, launch: { ...st.launch, vcpus: spec.vcpus, memoryMb: spec.memoryMb } };
    await this.files.writeState(id, next);
    if (wasRunning) await this.launch(id, next);
  }

  async getInfo(host: string, id: string): Promise<GuestInfo | null> {
    if (host !== this.capacity.host) return null;
    const st = await this.files.readState(id);
    if (!st) return null;
    const base = { maxMemKb: st.launch.memoryMb * 1024, memKb: st.launch.memoryMb * 1024, numCpu: st.launch.vcpus, cpuTimeNs: 0 };
    const pid = await this.pidOf(id);
    if (!pid) return { ...base, powerState: st.suspended ? PowerState.SUSPENDED : PowerState.SHUTDOWN };
    const cpuTimeNs = await readFile(`/proc/${pid}/stat`, 'utf8').then((t) => {
      const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) * 10_000_000;
    }).catch(() => 0);
    const m = await this.monitor(id).catch(() => null);
    const s = m ? await m.queryStatus().catch(() => null) : null;
    let powerState: GuestInfo['powerState'] = PowerState.RUNNING;
    if (!s) powerState = PowerState.NOSTATE;
    else if (s.running) powerState = PowerState.RUNNING;
    else if (['internal-error', 'io-error', 'guest-panicked'].includes(s.status)) powerState = PowerState.CRASHED;
    else if (s.status === 'shutdown') powerState = PowerState.SHUTDOWN;
    else if (s.status === 'suspended') powerState = PowerState.SUSPENDED;
    else powerState = PowerState.PAUSED;
    return { ...base, cpuTimeNs, powerState };
  }

  async consoleOutput(host: string, id: string): Promise<string> {
    await this.state(host, id);
    const path = this.files.paths(id).console;
    const max = this.opts.consoleMaxBytes ?? 1024 * 1024;
    const st = await stat(path).catch(() => null);
    if (!st) return '';
    const fh = await open(path, 'r');
    try {
      const len = Math.min(st.size, max);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, st.size - len);
      return buf.toString('utf8');
    } finally {
      await fh.close();
    }
  }

  /** Keeps each console log under its bound: the newest half is kept (QEMU appends, so truncation is safe). */
  async boundConsoles(): Promise<void> {
    const max = this.opts.consoleMaxBytes ?? 1024 * 1024;
    for (const id of readdirSafe(this.files.root)) {
      const path = this.files.paths(id).console;
      const st = await stat(path).catch(() => null);
      if (!st || st.size <= max) continue;
      const keep = Math.floor(max / 2);
      const fh = await open(path, 'r');
      const buf = Buffer.alloc(keep);
      try {
        await fh.read(buf, 0, keep, st.size - keep);
      } finally {
        await fh.close();
      }
      await truncate(path, 0);
      const w = await open(path, 'a');
      try {
        await w.write(buf);
      } finally {
        await w.close();
      }
    }
  }

  async attachInterface(host: string, id: string, nic: GuestSpec['nics'][number]): Promise<void> {
    const st = await this.state(host, id);
    const nics = [...st.spec.nics.filter((n) => n.portId !== nic.portId), nic];
    const spec = { ...st.spec, nics };
    const launchNics = await this.nicsFor(spec, st.sshPort);
    const added = launchNics[nics.length - 1]!;
    const m = await this.monitor(id);
    if (m) {
      const b = added.backend;
      if (b.kind === 'tap') await m.netdevAdd({ type: 'tap', id: added.id, ifname: b.ifname, script: 'no', downscript: 'no' });
      else await m.netdevAdd({ type: 'user', id: added.id, net: b.net, host: b.host, dhcpstart: b.dhcpStart, restrict: b.restrict });
      await m.deviceAdd({ driver: 'virtio-net-pci', netdev: added.id, id: `${added.id}-dev`, mac: added.mac });
    }
    await this.files.writeState(id, { ...st, spec, launch: { ...st.launch, nics: launchNics } });
  }

  async detachInterface(host: string, id: string, portId: string): Promise<void> {
    const st = await this.state(host, id);
    const idx = st.spec.nics.findIndex((n) => n.portId === portId);
    if (idx < 0) return;
    const m = await this.monitor(id);
    const dev = st.launch.nics[idx];
    if (m && dev) {
      await m.deviceDel(`${dev.id}-dev`).catch(() => {});
      await new Promise((r) => setTimeout(r, 500));
      await m.netdevDel(dev.id).catch(() => {});
    }
    const nics = st.spec.nics.filter((n) => n.portId !== portId);
    await this.files.writeState(id, { ...st, spec: { ...st.spec, nics }, launch: { ...st.launch, nics: st.launch.nics.filter((_, i) => i !== idx) } });
  }

  // --- volumes

  async attachVolume(host: string, id: string, disk: VolumeDisk): Promise<void> {
    const st = await this.state(host, id);
    const node = volumeNodeId(disk.volumeId);
    if ((st.spec.volumes ?? []).some((v) => v.volumeId === disk.volumeId)) return;
    const m = st.suspended ? null : await this.monitor(id);
    const scsi = st.launch.disks.some((d) => d.bus === 'scsi');
    if (m) {
      await m.run('blockdev-add', {
        driver: disk.format, 'node-name': node, 'read-only': !!disk.readOnly, discard: 'unmap',
        file: { driver: 'file', filename: disk.path, 'read-only': !!disk.readOnly },
      });
      try {
        // A volume joins the bus of the guest's own disks (hw_disk_bus at launch).
        await m.deviceAdd({
          ...(scsi ? { driver: 'scsi-hd', bus: `${SCSI_CONTROLLER}.0` } : { driver: 'virtio-blk-pci' }),
          drive: node, id: `${node}-dev`, serial: disk.volumeId.slice(0, 20),
        });
      } catch (e) {
        // Revert the half-made attachment: the block node goes, the guest never saw a device.
        await m.run('blockdev-del', { 'node-name': node }).catch(() => {});
        throw e;
      }
    }
    const spec = { ...st.spec, volumes: [...(st.spec.volumes ?? []), disk] };
    const launched: DiskSpec = { ...volumeDiskSpec(disk), ...(scsi ? { bus: 'scsi' as const } : {}) };
    await this.files.writeState(id, { ...st, spec, launch: { ...st.launch, disks: [...st.launch.disks, launched] } });
  }

  async detachVolume(host: string, id: string, volumeId: string, timeoutMs: number): Promise<void> {
    const st = await this.state(host, id);
    const node = volumeNodeId(volumeId);
    const m = st.suspended ? null : await this.monitor(id);
    if (m) {
      const present = await m.run<{ qdev?: string; id?: string }[]>('query-block').then(
        (blocks) => blocks.some((b) => b.qdev?.includes(`${node}-dev`) || b.id === `${node}-dev`), () => true);
      if (present) {
        // device_del only asks: the guest acknowledges through ACPI hot-plug, and QEMU then says DEVICE_DELETED.
        const gone = new Promise<boolean>((resolve) => {
          const t = setTimeout(() => { m.events.off('event', onEvent); resolve(false); }, timeoutMs);
          const onEvent = (e: { event: string; data?: Record<string, unknown> }) => {
            if (e.event === 'DEVICE_DELETED' && e.data?.device === `${node}-dev`) { clearTimeout(t); m.events.off('event', onEvent); resolve(true); }
          };
          m.events.on('event', onEvent);
        });
        await m.deviceDel(`${node}-dev`);
        if (!(await gone)) {
          throw new VolumeDetachTimeout(`The guest did not release volume ${volumeId} within ${Math.round(timeoutMs / 1000)} s; it stays attached.`);
        }
        // A hot-plugged node must be removed explicitly; a -drive from the command line went with its device.
        await m.run('blockdev-del', { 'node-name': node }).catch(() => {});
      }
    }
    const cur = (await this.files.readState(id)) ?? st;
    const spec = { ...cur.spec, volumes: (cur.spec.volumes ?? []).filter((v) => v.volumeId !== volumeId) };
    await this.files.writeState(id, { ...cur, spec, launch: { ...cur.launch, disks: cur.launch.disks.filter((d) => d.id !== node) } });
  }

  async extendVolume(host: string, id: string, volumeId: string, bytes: number): Promise<boolean> {
    const st = await this.state(host, id);
    if (!(st.spec.volumes ?? []).some((v) => v.volumeId === volumeId)) throw new Error(`volume ${volumeId} is not attached to ${id}`);
    const m = st.suspended ? null : await this.monitor(id);
    // Online: QEMU grows the image and the guest sees a capacity change; offline the backend has grown the file.
    if (!m) return false;
    await m.run('block_resize', { 'node-name': volumeNodeId(volumeId), size: bytes }).catch(async () => {
      await m.run('block_resize', { device: volumeNodeId(volumeId), size: bytes });
    });
    return true;
  }

  async attachedVolumes(host: string, id: string): Promise<VolumeDisk[]> {
    if (host !== this.capacity.host) return [];
    return (await this.files.readState(id))?.spec.volumes ?? [];
  }

  /** Instances with files on this host, plus any QEMU process of ours whose files are gone. */
  async listInstances(host: string): Promise<string[]> {
    if (host !== this.capacity.host) return [];
    const ids = new Set(readdirSafe(this.files.root).filter((n) => /^[0-9a-f-]{36}$/.test(n)));
    for (const id of qemuProcessesUnder(this.files.root).values()) ids.add(id);
    return [...ids];
  }

  /** The VNC socket of a running guest (QEMU listens on it from start; one client at a time is QEMU's own rule). */
  async consoleSocket(host: string, id: string): Promise<string | null> {
    if (host !== this.capacity.host) return null;
    if (!(await this.files.readState(id)) || !(await this.pidOf(id))) return null;
    const path = this.files.paths(id).vnc;
    return existsSync(path) ? path : null;
  }

  /** What the server's details show: SSH forward, guest address in user networking, guest agent facts. */
  async details(host: string, id: string): Promise<GuestDetails | null> {
    if (host !== this.capacity.host) return null;
    const st = await this.files.readState(id);
    if (!st) return null;
    const out: GuestDetails = {};
    if (st.sshPort) out.ssh = `127.0.0.1:${st.sshPort}`;
    if (st.guestAddress) {
      out.guest_network = `QEMU user networking ${USER_NET.net}: the guest holds ${st.guestAddress}, not its Neutron fixed IP`;
    }
    if (st.guestAgent && (await this.pidOf(id))) {
      const f = await guestAgentFacts(this.files.paths(id).qga, 500);
      if (f) {
        if (f.hostname) out.guest_hostname = f.hostname;
        if (f.os) out.guest_os = f.os;
        const ips = f.interfaces.flatMap((i) => i.ips);
        if (ips.length) out.guest_ips = ips.join(',');
      }
    }
    return out;
  }

  /** The cached bases no instance's overlay refers to. */
  async unusedBases(): Promise<string[]> {
    const used = new Set<string>();
    for (const id of readdirSafe(this.files.root)) {
      const st = await this.files.readState(id);
      if (st?.baseKey) used.add(st.baseKey);
    }
    return (await this.cache.list()).filter((k) => !used.has(k));
  }

  /** Stops the timers and closes monitors (QEMU processes keep running). */
  close(): void {
    if (this.consoleTimer) clearInterval(this.consoleTimer);
    for (const m of this.monitors.values()) m.close();
    this.monitors.clear();
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
