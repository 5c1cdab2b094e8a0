// What this host offers the scheduler (CPUs, memory, disk, QEMU's version, its address) and a free loopback port;
// read once when the QEMU driver starts.
import { execFileSync } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, networkInterfaces, totalmem, uptime } from 'node:os';
import type { HostCapacity, HostUsage } from '../driver.js';

export const GiB = 1024 ** 3;

/** QEMU's version as one number (major * 1e6 + minor * 1e3 + micro), Nova's hypervisor_version; 0 when unknown. */
function qemuVersion(binary: string): number {
  try {
    const out = execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    const m = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
    return m ? Number(m[1]) * 1_000_000 + Number(m[2]) * 1000 + Number(m[3]) : 0;
  } catch {
    // No binary or it would not run: the host still registers, with an unknown version.
    return 0;
  }
}

/** The first non-internal IPv4 address (Nova's host_ip), else loopback. */
function hostIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Size of the file system holding the data dir, in whole GiB (0 when it cannot be read). */
function diskGb(dataDir: string): number {
  try {
    const s = statfsSync(existsSync(dataDir) ? dataDir : '/');
    return Math.floor((s.blocks * s.bsize) / GiB);
  } catch {
    // statfs refused (an unusual mount): report no local disk rather than fail the driver.
    return 0;
  }
}

/** This machine as one compute host named `host`. */
export function hostCapacity(host: string, binary: string, dataDir: string): HostCapacity {
  const c = cpus();
  return {
    host,
    hypervisorHostname: host,
    hypervisorType: 'QEMU',
    hypervisorVersion: qemuVersion(binary),
    hostIp: hostIp(),
    vcpus: c.length,
    memoryMb: Math.floor(totalmem() / 1024 / 1024),
    localGb: diskGb(dataDir),
    cpuInfo: {
      arch: 'x86_64',
      model: c[0]?.model ?? 'unknown',
      vendor: 'unknown',
      topology: { sockets: 1, cores: c.length, threads: 1 },
      features: [],
    },
  };
}

/** The host's uptime, load, free disk under the data dir and available memory, read now. */
export async function hostUsage(dataDir: string): Promise<HostUsage> {
  const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
  let diskFreeGb = 0;
  try {
    const s = statfsSync(existsSync(dataDir) ? dataDir : '/');
    diskFreeGb = Math.floor((s.bavail * s.bsize) / GiB);
  } catch {
    // As diskGb: an unreadable file system shows no free disk.
  }
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const avail = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
  return {
    uptimeSec: Math.floor(uptime()),
    loadAverage: [l1, l5, l15],
    diskFreeGb,
    memoryAvailableMb: avail ? Math.floor(Number(avail[1]) / 1024) : 0,
  };
}

/** A free loopback TCP port (QEMU binds it right after; a lost race is retried by the caller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
