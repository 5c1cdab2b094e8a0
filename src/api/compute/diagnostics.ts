// GET /servers/{id}/diagnostics: the guest's live counters (the driver's instanceStats) in Nova's two forms, the
// 2.48 fixed schema and the older free-form libvirt keys. A guest that does not run (or a host without a driver in
// this process) has no counters: the fields are null (2.48) or 0 (legacy), as Nova shows for a stopped guest.
import type { ComputeService } from '../../services/compute/index.js';
import type { InstanceRow } from '../../services/compute/model.js';
import type { Json } from './body.js';

type Stats = NonNullable<Awaited<ReturnType<ComputeService['serverActions']['guestStats']>>>;

/** Nova's power_state numbers to the 2.48 diagnostics state names. */
const DIAG_STATE: Record<number, string> = {
  0: 'pending',
  1: 'running',
  3: 'paused',
  4: 'shutdown',
  6: 'crashed',
  7: 'suspended',
};

const MiB = 1024 * 1024;

/** The guest's disk names as libvirt gives them (vda, vdb, ...), in the order the driver reports its disks. */
function diskName(i: number): string {
  return `vd${String.fromCharCode(97 + (i % 26))}`;
}

/** What the server looks like without counters: how many disks and NICs it has by its flavor and ports. */
export interface DiagnosticsShape {
  inst: InstanceRow;
  ports: { mac: string }[];
  /** Local disks the flavor and config drive give (root, ephemeral, config drive). */
  disks: number;
  hypervisor: string | null;
}

/** The 2.48 view. */
export function diagnostics248(shape: DiagnosticsShape, stats: Stats | null): Json {
  const { inst, ports } = shape;
  const launched = inst.launched_at
    ? Math.max(0, Math.floor((Date.now() - Date.parse(inst.launched_at)) / 1000))
    : null;
  const nicOf = (mac: string) => stats?.nics.find((n) => n.mac === mac) ?? null;
  const disks = stats ? stats.disks.length : shape.disks;
  return {
    // 'libvirt' is the closest of the driver names the 2.48 schema allows; `hypervisor` says which driver runs it.
    state: DIAG_STATE[inst.power_state] ?? 'pending',
    driver: 'libvirt',
    hypervisor: shape.hypervisor,
    hypervisor_os: 'linux',
    uptime: stats ? stats.uptimeSec : launched,
    config_drive: inst.config_drive === 1,
    num_cpus: inst.vcpus,
    num_nics: ports.length,
    num_disks: disks,
    memory_details: {
      maximum: inst.memory_mb,
      used: stats ? Math.round((stats.memoryBalloonBytes ?? stats.memoryRssBytes) / MiB) : null,
    },
    cpu_details: Array.from({ length: inst.vcpus }, (_x, i) => ({
      id: i,
      time: stats?.vcpuTimeNs[i] ?? null,
      utilisation: null,
    })),
    nic_details: ports.map((p) => {
      const n = nicOf(p.mac);
      return {
        mac_address: p.mac,
        rx_octets: n?.rxBytes ?? null,
        rx_errors: n?.rxErrors ?? null,
        rx_drop: n?.rxDrops ?? null,
        rx_packets: n?.rxPackets ?? null,
        rx_rate: null,
        tx_octets: n?.txBytes ?? null,
        tx_errors: n?.txErrors ?? null,
        tx_drop: n?.txDrops ?? null,
        tx_packets: n?.txPackets ?? null,
        tx_rate: null,
      };
    }),
    disk_details: stats
      ? stats.disks.map((d) => ({
          read_bytes: d.readBytes,
          read_requests: d.readOps,
          write_bytes: d.writeBytes,
          write_requests: d.writeOps,
          errors_count: d.errors,
        }))
      : Array.from({ length: disks }, () => ({
          read_bytes: null,
          read_requests: null,
          write_bytes: null,
          write_requests: null,
          errors_count: null,
        })),
  };
}

/** The pre-2.48 view: libvirt's flat keys (memory in KiB, cpuN_time in ns, vdX_*, <tap>_*). */
export function legacyDiagnostics(shape: DiagnosticsShape, stats: Stats | null): Json {
  const { inst, ports } = shape;
  const out: Json = {
    memory: inst.memory_mb * 1024,
    'memory-actual': stats?.memoryBalloonBytes ? Math.round(stats.memoryBalloonBytes / 1024) : inst.memory_mb * 1024,
  };
  if (stats) out['memory-rss'] = Math.round(stats.memoryRssBytes / 1024);
  for (let i = 0; i < inst.vcpus; i++) out[`cpu${i}_time`] = stats?.vcpuTimeNs[i] ?? 0;
  const disks = stats
    ? stats.disks
    : Array.from({ length: shape.disks }, () => ({ readBytes: 0, readOps: 0, writeBytes: 0, writeOps: 0, errors: -1 }));
  disks.forEach((d, i) => {
    const n = diskName(i);
    Object.assign(out, {
      [`${n}_read`]: d.readBytes,
      [`${n}_read_req`]: d.readOps,
      [`${n}_write`]: d.writeBytes,
      [`${n}_write_req`]: d.writeOps,
      [`${n}_errors`]: d.errors,
    });
  });
  ports.forEach((p, i) => {
    const n = stats?.nics.find((x) => x.mac === p.mac);
    const dev = n?.device ?? `tap${i}`;
    Object.assign(out, {
      [`${dev}_rx`]: n?.rxBytes ?? 0,
      [`${dev}_rx_drop`]: n?.rxDrops ?? 0,
      [`${dev}_rx_errors`]: n?.rxErrors ?? 0,
      [`${dev}_rx_packets`]: n?.rxPackets ?? 0,
      [`${dev}_tx`]: n?.txBytes ?? 0,
      [`${dev}_tx_drop`]: n?.txDrops ?? 0,
      [`${dev}_tx_errors`]: n?.txErrors ?? 0,
      [`${dev}_tx_packets`]: n?.txPackets ?? 0,
    });
  });
  return out;
}
