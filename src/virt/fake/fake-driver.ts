import { CloudError } from '../../errors.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PowerState,
  type GuestInfo,
  type GuestSpec,
  type HostCapacity,
  type HypervisorDriver,
  type InstanceStats,
  type PowerStateValue,
  type SnapshotFile,
  type VolumeDisk,
} from '../driver.js';

/** Options of the fake driver: how many hosts and how big. */
export interface FakeDriverOptions {
  /** Number of simulated hosts (default 1). */
  hosts?: number;
  /** Name of the single host, or the prefix of numbered hosts ("fake-host" -> fake-host-0001). */
  hostName?: string;
  vcpus?: number;
  memoryMb?: number;
  localGb?: number;
  /** Milliseconds each operation takes (default 0). */
  delayMs?: number;
  /** Where snapshot files are written while they are uploaded (default: the system's temporary folder). */
  tmpDir?: string;
}

interface FakeGuest {
  spec: GuestSpec;
  power: PowerStateValue;
  rescued: boolean;
  console: string[];
  startedAt: number;
  /** How many times its counters were read (so two reads in the same millisecond still differ). */
  reads: number;
}

/** An in-memory hypervisor in the spirit of Nova's fake driver: instant, deterministic, many hosts. */
export class FakeDriver implements HypervisorDriver {
  readonly type = 'fake';
  readonly consoleProtocols: readonly string[] = [];
  private readonly capacity: HostCapacity[];
  private readonly guests = new Map<string, Map<string, FakeGuest>>();
  private readonly delayMs: number;
  private readonly tmpDir: string;

  constructor(opts: FakeDriverOptions = {}) {
    const n = Math.max(1, opts.hosts ?? 1);
    const base = opts.hostName ?? 'fake-host';
    this.delayMs = opts.delayMs ?? 0;
    this.tmpDir = opts.tmpDir ?? tmpdir();
    this.capacity = Array.from({ length: n }, (_, i) => {
      const host = n === 1 ? base : `${base}-${String(i + 1).padStart(4, '0')}`;
      return {
        host,
        hypervisorHostname: host,
        hypervisorType: 'fake',
        hypervisorVersion: 1000,
        hostIp: `192.0.2.${(i % 250) + 1}`,
        vcpus: opts.vcpus ?? 1000,
        memoryMb: opts.memoryMb ?? 800_000,
        localGb: opts.localGb ?? 600_000,
        cpuInfo: {
          arch: 'x86_64',
          model: 'fake',
          vendor: 'Gureum',
          topology: { sockets: 1, cores: 1, threads: 1 },
          features: [],
        },
      };
    });
    for (const c of this.capacity) this.guests.set(c.host, new Map());
  }

  hosts(): HostCapacity[] {
    return this.capacity;
  }

  private async wait(): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
  }

  private hostGuests(host: string): Map<string, FakeGuest> {
    const g = this.guests.get(host);
    if (!g) throw new CloudError('Internal', `fake driver: unknown host ${host}`);
    return g;
  }

  private guest(host: string, id: string): FakeGuest {
    const g = this.hostGuests(host).get(id);
    if (!g)
      throw new CloudError('NotFound', `Instance ${id} could not be found on ${host}.`, { code: 'InstanceNotFound' });
    return g;
  }

  private log(g: FakeGuest, line: string): void {
    g.console.push(line);
    if (g.console.length > 500) g.console.splice(0, g.console.length - 500);
  }

  private bootLog(g: FakeGuest): void {
    const s = g.spec;
    this.log(g, `[    0.000000] Linux version 6.1.0-fake (gureum fake driver)`);
    this.log(g, `[    0.100000] Memory: ${s.memoryMb * 1024}K available, ${s.vcpus} CPU(s)`);
    for (const n of s.nics) this.log(g, `[    0.400000] eth${s.nics.indexOf(n)}: ${n.mac} ${n.ips.join(' ')}`);
    this.log(g, `Starting network: OK`);
    this.log(g, `${s.hostname} login: `);
  }

  async spawn(host: string, spec: GuestSpec): Promise<void> {
    await this.wait();
    const g: FakeGuest = {
      spec,
      power: PowerState.RUNNING,
      rescued: false,
      console: [],
      startedAt: Date.now(),
      reads: 0,
    };
    this.bootLog(g);
    this.hostGuests(host).set(spec.instanceId, g);
  }

  async destroy(host: string, id: string): Promise<void> {
    await this.wait();
    this.guests.get(host)?.delete(id);
  }

  async reboot(host: string, id: string, type: 'SOFT' | 'HARD'): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    this.log(g, type === 'SOFT' ? 'The system is going down NOW!' : '[hard reset]');
    g.power = PowerState.RUNNING;
    this.bootLog(g);
  }

  async pause(host: string, id: string): Promise<void> {
    await this.wait();
    this.guest(host, id).power = PowerState.PAUSED;
  }

  async unpause(host: string, id: string): Promise<void> {
    await this.wait();
    this.guest(host, id).power = PowerState.RUNNING;
  }

  async suspend(host: string, id: string): Promise<void> {
    await this.wait();
    this.guest(host, id).power = PowerState.SUSPENDED;
  }

  async resume(host: string, id: string): Promise<void> {
    await this.wait();
    this.guest(host, id).power = PowerState.RUNNING;
  }

  async powerOff(host: string, id: string, _timeoutSec: number): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    this.log(g, 'reboot: Power down');
    g.power = PowerState.SHUTDOWN;
  }

  async powerOn(host: string, id: string): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    g.power = PowerState.RUNNING;
    this.bootLog(g);
  }

  /** Writes a small raw "disk" to a temporary file, as a real driver would, and removes it after `consume`. */
  async snapshot(host: string, id: string, consume: (file: SnapshotFile) => Promise<void>): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    const dir = await mkdtemp(join(this.tmpDir, 'gureum-fake-snapshot-'));
    try {
      const path = join(dir, 'disk.raw');
      const data = Buffer.from(`fake disk of ${g.spec.instanceId}\n`);
      await writeFile(path, data);
      await consume({ diskFormat: 'raw', path, size: data.length });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The fake guests have no graphical console. */
  async consoleSocket(_host: string, _id: string): Promise<string | null> {
    return null;
  }

  async rescue(host: string, id: string, _rescueImageId: string): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    g.rescued = true;
    g.power = PowerState.RUNNING;
    this.log(g, 'rescue boot');
  }

  async unrescue(host: string, id: string): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    g.rescued = false;
    g.power = PowerState.RUNNING;
    this.bootLog(g);
  }

  async migrate(host: string, id: string, destHost: string, spec: GuestSpec): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    this.hostGuests(destHost).set(id, { ...g, spec });
    if (destHost !== host) this.hostGuests(host).delete(id);
  }

  async getInfo(host: string, id: string): Promise<GuestInfo | null> {
    const g = this.guests.get(host)?.get(id);
    if (!g) return null;
    return {
      powerState: g.power,
      maxMemKb: g.spec.memoryMb * 1024,
      memKb: g.spec.memoryMb * 1024,
      numCpu: g.spec.vcpus,
      cpuTimeNs: (Date.now() - g.startedAt) * 1_000_000,
    };
  }

  /**
   * Counters that grow with the guest's age at fixed rates (a quarter of each vCPU, 100 KB/s read and 50 KB/s
   * written per disk, 20 KB/s received and 10 KB/s sent per NIC) plus one unit per read: deterministic for API tests,
   * cheap for benchmarks. Only a running guest has them.
   */
  async instanceStats(host: string, id: string): Promise<InstanceStats | null> {
    const g = this.guests.get(host)?.get(id);
    if (!g || g.power !== PowerState.RUNNING) return null;
    g.reads++;
    const now = Date.now();
    const ms = now - g.startedAt + g.reads;
    const s = g.spec;
    const disks = ['disk0', ...((s.ephemeralGb ?? 0) > 0 ? ['disk1'] : []), ...(s.configDrive ? ['config'] : [])];
    return {
      at: now,
      uptimeSec: Math.floor(ms / 1000),
      cpuTimeNs: ms * 250_000 * s.vcpus,
      vcpuTimeNs: Array.from({ length: s.vcpus }, () => ms * 250_000),
      memoryMaxBytes: s.memoryMb * 1024 * 1024,
      memoryRssBytes: Math.min(s.memoryMb, 64) * 1024 * 1024,
      memoryBalloonBytes: null,
      disks: disks.map((d) => ({
        id: d,
        readBytes: ms * 100,
        writeBytes: ms * 50,
        readOps: Math.floor(ms / 40),
        writeOps: Math.floor(ms / 80),
        errors: 0,
      })),
      nics: s.nics.map((n, i) => ({
        mac: n.mac,
        portId: n.portId,
        device: `tap${i}`,
        rxBytes: ms * 20,
        rxPackets: Math.floor(ms / 50),
        rxDrops: 0,
        rxErrors: 0,
        txBytes: ms * 10,
        txPackets: Math.floor(ms / 100),
        txDrops: 0,
        txErrors: 0,
      })),
    };
  }

  async consoleOutput(host: string, id: string): Promise<string> {
    return `${this.guest(host, id).console.join('\n')}\n`;
  }

  async attachInterface(host: string, id: string, nic: GuestSpec['nics'][number]): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    g.spec = { ...g.spec, nics: [...g.spec.nics.filter((n) => n.portId !== nic.portId), nic] };
  }

  async detachInterface(host: string, id: string, portId: string): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    g.spec = { ...g.spec, nics: g.spec.nics.filter((n) => n.portId !== portId) };
  }

  async attachVolume(host: string, id: string, disk: VolumeDisk): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    g.spec = { ...g.spec, volumes: [...(g.spec.volumes ?? []).filter((v) => v.volumeId !== disk.volumeId), disk] };
    // The limits a real driver would give QEMU, so tests can see what reached the hypervisor.
    const limits = Object.entries(disk.ioLimits ?? {}).map(([k, v]) => ` ${k}=${v}`);
    this.log(g, `[   10.000000] virtio_blk: ${disk.device} attached (${disk.volumeId})${limits.join('')}`);
  }

  async detachVolume(host: string, id: string, volumeId: string): Promise<void> {
    await this.wait();
    const g = this.guest(host, id);
    g.spec = { ...g.spec, volumes: (g.spec.volumes ?? []).filter((v) => v.volumeId !== volumeId) };
  }

  async extendVolume(host: string, id: string, volumeId: string): Promise<boolean> {
    await this.wait();
    const g = this.guest(host, id);
    if (!(g.spec.volumes ?? []).some((v) => v.volumeId === volumeId))
      throw new Error(`volume ${volumeId} is not attached to ${id}`);
    // The fake has no file to grow: the backend grows it.
    return false;
  }

  async attachedVolumes(host: string, id: string): Promise<VolumeDisk[]> {
    return this.guests.get(host)?.get(id)?.spec.volumes ?? [];
  }

  async listInstances(host: string): Promise<string[]> {
    return [...(this.guests.get(host)?.keys() ?? [])];
  }
}
