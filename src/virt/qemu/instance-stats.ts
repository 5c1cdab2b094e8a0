// A running guest's counters: CPU and memory from /proc (the QEMU process and its vCPU threads), disk I/O from QMP
// `query-blockstats`, NIC counters from the tap's /sys/class/net statistics. User networking (slirp) keeps no
// counters QEMU exposes (`query-rx-filter` has none, `info network` neither), so those NICs report nulls.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GuestSpec, InstanceStats, NicCounters } from '../driver.js';
import type { LaunchSpec } from './cmdline.js';
import type { QmpClient } from './qmp.js';

/** Where the kernel's files are read from (tests point these at a temporary tree). */
export interface StatsRoots {
  proc: string;
  sys: string;
}

export const HOST_ROOTS: StatsRoots = { proc: '/proc', sys: '/sys' };

/** USER_HZ: the unit of /proc/<pid>/stat times, 100 on every Linux architecture QEMU runs on here. */
const TICK_NS = 10_000_000;

/** Fields of /proc/<pid>/stat after the command name: field N of proc(5) is index N - 3. */
async function statFields(path: string): Promise<string[] | null> {
  const t = await readFile(path, 'utf8').catch(() => null);
  if (!t) return null;
  return t.slice(t.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process or thread, in nanoseconds; 0 when it is gone. */
async function cpuNs(path: string): Promise<number> {
  const f = await statFields(path);
  return f ? (Number(f[11]) + Number(f[12])) * TICK_NS : 0;
}

async function rssBytes(roots: StatsRoots, pid: number): Promise<number> {
  const t = await readFile(join(roots.proc, String(pid), 'status'), 'utf8').catch(() => '');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(t);
  return m ? Number(m[1]) * 1024 : 0;
}

async function uptimeSec(roots: StatsRoots, pid: number): Promise<number> {
  const f = await statFields(join(roots.proc, String(pid), 'stat'));
  const up = await readFile(join(roots.proc, 'uptime'), 'utf8').catch(() => null);
  if (!f || !up) return 0;
  const startedSec = Number(f[19]) / 100;
  return Math.max(0, Math.floor(Number(up.split(' ')[0]) - startedSec));
}

async function counter(dir: string, name: string): Promise<number | null> {
  const t = await readFile(join(dir, name), 'utf8').catch(() => null);
  return t === null ? null : Number(t.trim());
}

/** A tap's counters turned round to the guest's view: what the tap transmits, the guest receives. */
async function tapCounters(roots: StatsRoots, ifname: string): Promise<Omit<NicCounters, 'mac' | 'portId'>> {
  const dir = join(roots.sys, 'class', 'net', ifname, 'statistics');
  const [tb, tp, td, te, rb, rp, rd, re] = await Promise.all(
    ['tx_bytes', 'tx_packets', 'tx_dropped', 'tx_errors', 'rx_bytes', 'rx_packets', 'rx_dropped', 'rx_errors'].map(
      (n) => counter(dir, n),
    ),
  );
  return {
    device: ifname,
    rxBytes: tb ?? null,
    rxPackets: tp ?? null,
    rxDrops: td ?? null,
    rxErrors: te ?? null,
    txBytes: rb ?? null,
    txPackets: rp ?? null,
    txDrops: rd ?? null,
    txErrors: re ?? null,
  };
}

const NO_COUNTERS = {
  rxBytes: null,
  rxPackets: null,
  rxDrops: null,
  rxErrors: null,
  txBytes: null,
  txPackets: null,
  txDrops: null,
  txErrors: null,
};

/** Reads the counters of the guest whose QEMU runs as `pid`, over its monitor `m` (null: disk figures are left out). */
export async function readInstanceStats(
  pid: number,
  m: QmpClient | null,
  launch: LaunchSpec,
  spec: GuestSpec,
  roots: StatsRoots = HOST_ROOTS,
): Promise<InstanceStats> {
  const procDir = join(roots.proc, String(pid));
  // Each QMP figure is best effort: a guest without a balloon, or a monitor busy elsewhere, still gives the rest.
  const [cpus, blocks, balloon] = m
    ? await Promise.all([
        m.queryCpusFast().catch(() => []),
        m.queryBlockstats().catch(() => []),
        m.queryBalloon().catch(() => null),
      ])
    : [[], [], null];
  const vcpuTimeNs = await Promise.all(
    [...cpus]
      .sort((a, b) => a['cpu-index'] - b['cpu-index'])
      .map((c) => cpuNs(join(procDir, 'task', String(c['thread-id']), 'stat'))),
  );
  const nics = await Promise.all(
    launch.nics.map(async (n, i): Promise<NicCounters> => {
      const ids = { mac: n.mac, portId: spec.nics[i]?.portId ?? '' };
      if (n.backend.kind === 'tap') return { ...ids, ...(await tapCounters(roots, n.backend.ifname)) };
      return { ...ids, device: null, ...NO_COUNTERS };
    }),
  );
  return {
    at: Date.now(),
    uptimeSec: await uptimeSec(roots, pid),
    cpuTimeNs: await cpuNs(join(procDir, 'stat')),
    vcpuTimeNs,
    memoryMaxBytes: launch.memoryMb * 1024 * 1024,
    memoryRssBytes: await rssBytes(roots, pid),
    memoryBalloonBytes: balloon,
    disks: blocks.map((b) => ({
      id: b.device || b['node-name'] || b.qdev || '',
      readBytes: b.stats.rd_bytes,
      writeBytes: b.stats.wr_bytes,
      readOps: b.stats.rd_operations,
      writeOps: b.stats.wr_operations,
      errors: (b.stats.failed_rd_operations ?? 0) + (b.stats.failed_wr_operations ?? 0),
    })),
    nics,
  };
}
