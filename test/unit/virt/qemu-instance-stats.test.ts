// The QEMU driver's counters: CPU and memory from a /proc tree, disk I/O from QMP, NIC counters from a tap's /sys
// statistics (turned round to the guest's view), against the fake QMP peer and a temporary kernel tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient } from '../../../src/virt/qemu/qmp.js';
import { readInstanceStats } from '../../../src/virt/qemu/instance-stats.js';
import type { LaunchSpec } from '../../../src/virt/qemu/cmdline.js';
import type { GuestSpec } from '../../../src/virt/driver.js';
import { fakeQemu } from '../../helpers/fake-qmp.js';

/** A /proc/<pid>/stat line whose utime, stime and starttime are the given tick counts. */
function statLine(pid: number, utime: number, stime: number, start = 0): string {
  const f = Array.from({ length: 50 }, () => '0');
  f[11] = String(utime);
  f[12] = String(stime);
  f[19] = String(start);
  return `${pid} (qemu-system-x86) S ${f.slice(1).join(' ')}\n`;
}

function kernelTree(): { root: string; proc: string; sys: string } {
  const root = mkdtempSync(join(tmpdir(), 'stats-test-'));
  const proc = join(root, 'proc');
  const sys = join(root, 'sys');
  const pidDir = join(proc, '4242');
  mkdirSync(join(pidDir, 'task', '4250'), { recursive: true });
  mkdirSync(join(pidDir, 'task', '4251'), { recursive: true });
  writeFileSync(join(proc, 'uptime'), '1000.50 900.00\n');
  writeFileSync(join(pidDir, 'stat'), statLine(4242, 300, 200, 90_000));
  writeFileSync(join(pidDir, 'task', '4250', 'stat'), statLine(4250, 120, 30));
  writeFileSync(join(pidDir, 'task', '4251', 'stat'), statLine(4251, 60, 10));
  writeFileSync(join(pidDir, 'status'), 'Name:\tqemu\nVmRSS:\t  123456 kB\n');
  const tap = join(sys, 'class', 'net', 'tap-abc', 'statistics');
  mkdirSync(tap, { recursive: true });
  const counters: Record<string, number> = {
    rx_bytes: 1000,
    rx_packets: 10,
    rx_dropped: 1,
    rx_errors: 0,
    tx_bytes: 5000,
    tx_packets: 50,
    tx_dropped: 2,
    tx_errors: 3,
  };
  for (const [k, v] of Object.entries(counters)) writeFileSync(join(tap, k), `${v}\n`);
  return { root, proc, sys };
}

const spec = {
  instanceId: 'i-1',
  nics: [
    { portId: 'port-a', mac: 'fa:16:3e:00:00:01', ips: [] },
    { portId: 'port-b', mac: 'fa:16:3e:00:00:02', ips: [] },
  ],
} as unknown as GuestSpec;

const launch = {
  memoryMb: 128,
  nics: [
    { id: 'net0', mac: 'fa:16:3e:00:00:01', backend: { kind: 'tap', ifname: 'tap-abc' } },
    {
      id: 'net1',
      mac: 'fa:16:3e:00:00:02',
      backend: { kind: 'user', net: '10.0.2.0/24', host: '10.0.2.2', dhcpStart: '10.0.2.15', restrict: true },
    },
  ],
} as unknown as LaunchSpec;

test('reads CPU, vCPU threads, memory, block stats and tap counters of a running guest', async () => {
  const tree = kernelTree();
  const peer = await fakeQemu((cmd) => {
    if (cmd.execute === 'query-cpus-fast')
      return {
        return: [
          { 'cpu-index': 1, 'thread-id': 4251 },
          { 'cpu-index': 0, 'thread-id': 4250 },
        ],
      };
    if (cmd.execute === 'query-blockstats')
      return {
        return: [
          {
            device: 'disk0',
            stats: { rd_bytes: 4096, wr_bytes: 512, rd_operations: 8, wr_operations: 1, failed_rd_operations: 1 },
          },
          { device: '', 'node-name': 'vol-x', stats: { rd_bytes: 1, wr_bytes: 2, rd_operations: 3, wr_operations: 4 } },
        ],
      };
    if (cmd.execute === 'query-balloon') return { error: { class: 'DeviceNotActive', desc: 'No balloon device' } };
    if (cmd.execute === 'query-status') return { return: { running: true, status: 'running' } };
    return { error: { class: 'CommandNotFound', desc: cmd.execute } };
  });
  const m = await QmpClient.connect(peer.path);
  try {
    const s = await readInstanceStats(4242, m, launch, spec, { proc: tree.proc, sys: tree.sys });
    assert.equal(s.cpuTimeNs, 500 * 10_000_000);
    assert.deepEqual(s.vcpuTimeNs, [150 * 10_000_000, 70 * 10_000_000]);
    assert.equal(s.uptimeSec, 100);
    assert.equal(s.memoryRssBytes, 123456 * 1024);
    assert.equal(s.memoryMaxBytes, 128 * 1024 * 1024);
    assert.equal(s.memoryBalloonBytes, null, 'no balloon device: null, and the rest still read');
    assert.deepEqual(s.disks, [
      { id: 'disk0', readBytes: 4096, writeBytes: 512, readOps: 8, writeOps: 1, errors: 1 },
      { id: 'vol-x', readBytes: 1, writeBytes: 2, readOps: 3, writeOps: 4, errors: 0 },
    ]);
    assert.deepEqual(s.nics[0], {
      mac: 'fa:16:3e:00:00:01',
      portId: 'port-a',
      device: 'tap-abc',
      // What the tap transmitted is what the guest received.
      rxBytes: 5000,
      rxPackets: 50,
      rxDrops: 2,
      rxErrors: 3,
      txBytes: 1000,
      txPackets: 10,
      txDrops: 1,
      txErrors: 0,
    });
    assert.equal(s.nics[1]?.device, null, 'user networking keeps no counters');
    assert.equal(s.nics[1]?.rxBytes, null);
  } finally {
    m.close();
    peer.close();
    rmSync(tree.root, { recursive: true, force: true });
  }
});

test('without a monitor the /proc figures still come, with no disks', async () => {
  const tree = kernelTree();
  try {
    const s = await readInstanceStats(4242, null, launch, spec, { proc: tree.proc, sys: tree.sys });
    assert.equal(s.cpuTimeNs, 5_000_000_000);
    assert.deepEqual(s.vcpuTimeNs, []);
    assert.deepEqual(s.disks, []);
  } finally {
    rmSync(tree.root, { recursive: true, force: true });
  }
});
