// The `qemu` hypervisor driver: one QEMU process per instance, run directly and driven over QMP. This class is the
// HypervisorDriver surface and the per-instance state it keeps; the work is done along these seams:
// host-facts.ts (what the host offers), guest-processes.ts (process + monitor), guest-build.ts (disks, NICs, launch
// spec), save-restore.ts (suspend/resume, snapshot, rescue, resize), volume-hotplug.ts, consoles.ts, instance-stats.ts
// (counters for diagnostics and metrics).
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CloudError } from '../../errors.js';
import {
  PowerState,
  type GuestInfo,
  type GuestSpec,
  type HostCapacity,
  type HypervisorDriver,
  type HostUsage,
  type InstanceStats,
  type SnapshotFile,
  type VolumeDisk,
} from '../driver.js';
import { ImageCache } from '../../disk/image-cache.js';
import { accelCacheKey, bootsUnderKvm, cachedAccel, chooseAccel, kvmDeviceUsable, type AccelChoice } from './accel.js';
import { boundConsoleLogs, consoleTail, guestDetails, readdirSafe, type GuestDetails } from './consoles.js';
import { buildGuest, nicsFor, volumeDiskSpec, volumeNodeId } from './guest-build.js';
import { GuestProcesses } from './guest-processes.js';
import { hostCapacity, hostUsage } from './host-facts.js';
import { InstanceFiles, type InstanceState } from './instance-files.js';
import { readInstanceStats } from './instance-stats.js';
import type { DiskSpec } from './cmdline.js';
import type { QemuDriverOptions } from './options.js';
import { killHard, qemuProcessesUnder } from './process.js';
import type { QmpClient } from './qmp.js';
import {
  resizeGuest,
  rescueGuest,
  resumeGuest,
  snapshotGuest,
  suspendGuest,
  unrescueGuest,
  type GuestStore,
} from './save-restore.js';
import { plugVolume, resizeVolume, unplugVolume } from './volume-hotplug.js';

export type { QemuDriverOptions } from './options.js';
export type { GuestDetails } from './consoles.js';
export { USER_NET, volumeNodeId } from './guest-build.js';

const DEFAULT_CONSOLE_MAX = 1024 * 1024;

function notFound(id: string, host: string): CloudError {
  return new CloudError('NotFound', `Instance ${id} could not be found on ${host}.`, { code: 'InstanceNotFound' });
}

/** The QEMU driver. Files per instance under DATA_DIR/instances/<uuid>, bases under DATA_DIR/cache/images. */
export class QemuDriver implements HypervisorDriver {
  readonly type = 'qemu';
  readonly consoleProtocols = ['vnc'] as const;
  readonly binary: string;
  readonly files: InstanceFiles;
  readonly cache: ImageCache;
  private readonly capacity: HostCapacity;
  private readonly procs: GuestProcesses;
  private readonly guests: GuestStore;
  private accelChoice: Promise<AccelChoice> | null = null;
  private consoleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: QemuDriverOptions) {
    this.binary = opts.binary ?? 'qemu-system-x86_64';
    this.files = new InstanceFiles(opts.dataDir);
    this.cache = new ImageCache(join(opts.dataDir, 'cache', 'images'), opts.images);
    this.capacity = hostCapacity(opts.hostName ?? hostname(), this.binary, opts.dataDir);
    this.procs = new GuestProcesses(this.files, this.binary, () => this.accel());
    this.guests = { files: this.files, procs: this.procs, cache: this.cache };
    // A bound that fails this round (a log rotated away under it) is tried again in ten seconds.
    this.consoleTimer = setInterval(() => {
      this.boundConsoles().catch(() => {});
    }, 10_000);
    this.consoleTimer.unref();
  }

  hosts(): HostCapacity[] {
    return [this.capacity];
  }

  /** The accelerator in use (decided once, remembered in DATA_DIR/cache/accel.json). */
  accel(): Promise<AccelChoice> {
    this.accelChoice ??= (async () => {
      const mode = this.opts.accel ?? 'auto';
      return cachedAccel(join(this.opts.dataDir, 'cache', 'accel.json'), accelCacheKey(this.binary, mode), () =>
        chooseAccel(mode, {
          kvmDevice: kvmDeviceUsable,
          probeKernel: () => this.opts.probeKernel?.() ?? null,
          bootsUnderKvm: (k, t) => bootsUnderKvm(this.binary, k, t),
        }),
      );
    })();
    return this.accelChoice;
  }

  private checkHost(host: string): void {
    if (host !== this.capacity.host)
      throw new CloudError('Internal', `qemu driver: host ${host} is not this host (${this.capacity.host})`);
  }

  private async state(host: string, id: string): Promise<InstanceState> {
    this.checkHost(host);
    const st = await this.files.readState(id);
    if (!st) throw notFound(id, host);
    return st;
  }

  /** The monitor of a running instance (re-attached over its socket when needed); null when no process runs. */
  monitor(id: string): Promise<QmpClient | null> {
    return this.procs.monitor(id);
  }

  // --- lifecycle

  async spawn(host: string, spec: GuestSpec): Promise<void> {
    this.checkHost(host);
    // A spawn interrupted by a restart left files behind: start over.
    if (existsSync(this.files.paths(spec.instanceId).dir)) await this.destroy(host, spec.instanceId);
    const p = await this.files.create(spec.instanceId);
    try {
      const st = await buildGuest(
        { cache: this.cache, binary: this.binary, accel: () => this.accel(), opts: this.opts },
        spec,
        p,
      );
      await this.files.writeState(spec.instanceId, st);
      await this.procs.launch(spec.instanceId, st);
      await this.procs.monitor(spec.instanceId);
    } catch (e) {
      // Removes what the build made; the build's error is the one the caller sees.
      await this.destroy(host, spec.instanceId).catch(() => {});
      throw e;
    }
  }

  async destroy(host: string, id: string): Promise<void> {
    this.checkHost(host);
    await this.procs.stop(id, 0);
    // A process whose pidfile is gone is found by its command line.
    for (const [pid, owner] of qemuProcessesUnder(this.files.root)) {
      if (owner === id) await killHard(pid, this.files.paths(id).pid);
    }
    await this.files.remove(id);
  }

  async reboot(host: string, id: string, type: 'SOFT' | 'HARD'): Promise<void> {
    const st = await this.state(host, id);
    const m = await this.procs.monitor(id);
    if (type === 'HARD' && m) {
      await m.systemReset();
      const s = await m.queryStatus();
      if (!s.running) await m.cont();
      return;
    }
    if (m) {
      // As Nova: ask the guest to shut down, wait, and fall back to a hard stop; then boot it again.
      await this.procs.stop(id, this.opts.softRebootTimeoutSec ?? 60);
    }
    await this.procs.launch(id, st);
  }

  async pause(host: string, id: string): Promise<void> {
    await this.state(host, id);
    await (await this.procs.mustMonitor(id, host)).stop();
  }

  async unpause(host: string, id: string): Promise<void> {
    await this.state(host, id);
    await (await this.procs.mustMonitor(id, host)).cont();
  }

  async suspend(host: string, id: string): Promise<void> {
    await suspendGuest(this.guests, host, id, await this.state(host, id));
  }

  async resume(host: string, id: string): Promise<void> {
    await resumeGuest(this.guests, host, id, await this.state(host, id));
  }

  async powerOff(host: string, id: string, timeoutSec: number): Promise<void> {
    const st = await this.state(host, id);
    await this.procs.stop(id, timeoutSec);
    if (st.suspended) {
      await rm(this.files.paths(id).suspendState, { force: true });
      await this.files.writeState(id, { ...st, suspended: false });
    }
  }

  async powerOn(host: string, id: string): Promise<void> {
    const st = await this.state(host, id);
    if (await this.procs.pidOf(id)) return;
    if (st.suspended) return this.resume(host, id);
    await this.procs.launch(id, st);
  }

  async snapshot(host: string, id: string, consume: (file: SnapshotFile) => Promise<void>): Promise<void> {
    await snapshotGuest(this.guests, id, await this.state(host, id), consume);
  }

  async rescue(host: string, id: string, rescueImageId: string): Promise<void> {
    await rescueGuest(this.guests, id, await this.state(host, id), rescueImageId);
  }

  async unrescue(host: string, id: string): Promise<void> {
    await unrescueGuest(this.guests, id, await this.state(host, id));
  }

  /** Resize on this host only: the qemu driver does not move guests between hosts. */
  async migrate(host: string, id: string, destHost: string, spec: GuestSpec): Promise<void> {
    const st = await this.state(host, id);
    if (destHost !== host)
      throw new CloudError(
        'BadRequest',
        `The qemu driver cannot move instances between hosts (${host} -> ${destHost}).`,
      );
    await resizeGuest(this.guests, id, st, spec);
  }

  async getInfo(host: string, id: string): Promise<GuestInfo | null> {
    if (host !== this.capacity.host) return null;
    const st = await this.files.readState(id);
    if (!st) return null;
    const base = {
      maxMemKb: st.launch.memoryMb * 1024,
      memKb: st.launch.memoryMb * 1024,
      numCpu: st.launch.vcpus,
      cpuTimeNs: 0,
    };
    const pid = await this.procs.pidOf(id);
    if (!pid) return { ...base, powerState: st.suspended ? PowerState.SUSPENDED : PowerState.SHUTDOWN };
    // utime + stime in clock ticks (100 Hz); a process gone between the two reads shows 0.
    const cpuTimeNs = await readFile(`/proc/${pid}/stat`, 'utf8')
      .then((t) => {
        const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
        return (Number(f[11]) + Number(f[12])) * 10_000_000;
      })
      .catch(() => 0);
    const m = await this.procs.monitor(id).catch(() => null);
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

  /** Uptime, load, free disk and memory of this host, read now. */
  async hostUsage(host: string): Promise<HostUsage | null> {
    return host === this.capacity.host ? hostUsage(this.opts.dataDir) : null;
  }

  /** Counters of a running guest (instance-stats.ts); null when it does not run. */
  async instanceStats(host: string, id: string): Promise<InstanceStats | null> {
    if (host !== this.capacity.host) return null;
    const st = await this.files.readState(id);
    const pid = st ? await this.procs.pidOf(id) : null;
    if (!st || !pid) return null;
    const m = await this.procs.monitor(id).catch(() => null);
    return readInstanceStats(pid, m, st.launch, st.spec);
  }

  // --- consoles

  async consoleOutput(host: string, id: string): Promise<string> {
    await this.state(host, id);
    return consoleTail(this.files.paths(id).console, this.opts.consoleMaxBytes ?? DEFAULT_CONSOLE_MAX);
  }

  /** Keeps each console log under its bound (run every ten seconds). */
  boundConsoles(): Promise<void> {
    return boundConsoleLogs(this.files, this.opts.consoleMaxBytes ?? DEFAULT_CONSOLE_MAX);
  }

  /** The VNC socket of a running guest (QEMU listens on it from start; one client at a time is QEMU's own rule). */
  async consoleSocket(host: string, id: string): Promise<string | null> {
    if (host !== this.capacity.host) return null;
    if (!(await this.files.readState(id)) || !(await this.procs.pidOf(id))) return null;
    const path = this.files.paths(id).vnc;
    return existsSync(path) ? path : null;
  }

  /** What the server's details show: SSH forward, guest address in user networking, guest agent facts. */
  async details(host: string, id: string): Promise<GuestDetails | null> {
    if (host !== this.capacity.host) return null;
    const st = await this.files.readState(id);
    if (!st) return null;
    const running = st.guestAgent ? !!(await this.procs.pidOf(id)) : false;
    return guestDetails(st, this.files.paths(id).qga, running);
  }

  // --- interfaces

  async attachInterface(host: string, id: string, nic: GuestSpec['nics'][number]): Promise<void> {
    const st = await this.state(host, id);
    const nics = [...st.spec.nics.filter((n) => n.portId !== nic.portId), nic];
    const spec = { ...st.spec, nics };
    const launchNics = nicsFor(this.opts, spec, st.sshPort);
    const added = launchNics[nics.length - 1]!;
    const m = await this.procs.monitor(id);
    if (m) {
      const b = added.backend;
      if (b.kind === 'tap')
        await m.netdevAdd({ type: 'tap', id: added.id, ifname: b.ifname, script: 'no', downscript: 'no' });
      else
        await m.netdevAdd({
          type: 'user',
          id: added.id,
          net: b.net,
          host: b.host,
          dhcpstart: b.dhcpStart,
          restrict: b.restrict,
        });
      await m.deviceAdd({ driver: 'virtio-net-pci', netdev: added.id, id: `${added.id}-dev`, mac: added.mac });
    }
    await this.files.writeState(id, { ...st, spec, launch: { ...st.launch, nics: launchNics } });
  }

  async detachInterface(host: string, id: string, portId: string): Promise<void> {
    const st = await this.state(host, id);
    const idx = st.spec.nics.findIndex((n) => n.portId === portId);
    if (idx < 0) return;
    const m = await this.procs.monitor(id);
    const dev = st.launch.nics[idx];
    if (m && dev) {
      // Best effort on a running guest: the saved state below drops the NIC either way, so a relaunch lacks it.
      await m.deviceDel(`${dev.id}-dev`).catch(() => {});
      await new Promise((r) => setTimeout(r, 500));
      await m.netdevDel(dev.id).catch(() => {});
    }
    const nics = st.spec.nics.filter((n) => n.portId !== portId);
    await this.files.writeState(id, {
      ...st,
      spec: { ...st.spec, nics },
      launch: { ...st.launch, nics: st.launch.nics.filter((_, i) => i !== idx) },
    });
  }

  // --- volumes

  async attachVolume(host: string, id: string, disk: VolumeDisk): Promise<void> {
    const st = await this.state(host, id);
    if ((st.spec.volumes ?? []).some((v) => v.volumeId === disk.volumeId)) return;
    const m = st.suspended ? null : await this.procs.monitor(id);
    // A volume joins the bus of the guest's own disks (hw_disk_bus at launch).
    const scsi = st.launch.disks.some((d) => d.bus === 'scsi');
    if (m) await plugVolume(m, disk, scsi);
    const spec = { ...st.spec, volumes: [...(st.spec.volumes ?? []), disk] };
    const launched: DiskSpec = { ...volumeDiskSpec(disk), ...(scsi ? { bus: 'scsi' as const } : {}) };
    await this.files.writeState(id, { ...st, spec, launch: { ...st.launch, disks: [...st.launch.disks, launched] } });
  }

  async detachVolume(host: string, id: string, volumeId: string, timeoutMs: number): Promise<void> {
    const st = await this.state(host, id);
    const m = st.suspended ? null : await this.procs.monitor(id);
    if (m) await unplugVolume(m, volumeId, timeoutMs);
    const node = volumeNodeId(volumeId);
    const cur = (await this.files.readState(id)) ?? st;
    const spec = { ...cur.spec, volumes: (cur.spec.volumes ?? []).filter((v) => v.volumeId !== volumeId) };
    await this.files.writeState(id, {
      ...cur,
      spec,
      launch: { ...cur.launch, disks: cur.launch.disks.filter((d) => d.id !== node) },
    });
  }

  async extendVolume(host: string, id: string, volumeId: string, bytes: number): Promise<boolean> {
    const st = await this.state(host, id);
    if (!(st.spec.volumes ?? []).some((v) => v.volumeId === volumeId))
      throw new Error(`volume ${volumeId} is not attached to ${id}`);
    const m = st.suspended ? null : await this.procs.monitor(id);
    // Online: QEMU grows the image and the guest sees a capacity change; offline the backend has grown the file.
    if (!m) return false;
    await resizeVolume(m, volumeId, bytes);
    return true;
  }

  async attachedVolumes(host: string, id: string): Promise<VolumeDisk[]> {
    if (host !== this.capacity.host) return [];
    return (await this.files.readState(id))?.spec.volumes ?? [];
  }

  // --- what is on this host

  /** Instances with files on this host, plus any QEMU process of ours whose files are gone. */
  async listInstances(host: string): Promise<string[]> {
    if (host !== this.capacity.host) return [];
    const ids = new Set(readdirSafe(this.files.root).filter((n) => /^[0-9a-f-]{36}$/.test(n)));
    for (const id of qemuProcessesUnder(this.files.root).values()) ids.add(id);
    return [...ids];
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
    this.procs.closeMonitors();
  }
}
