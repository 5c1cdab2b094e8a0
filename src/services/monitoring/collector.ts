// Turns successive counter readings of one instance into the per-minute rates the ring store keeps: CPU % of the
// guest's vCPUs, RSS, disk and NIC bytes/ops/packets per second. A counter that went backwards (the guest's process
// restarted) gives no rate for that sample rather than a negative one.
import type { InstanceStats } from '../../virt/index.js';
import type { Field } from './ring-store.js';

/** The sums one reading contributes (all disks, all NICs with counters). */
export interface CounterTotals {
  at: number;
  cpuNs: number;
  rdBytes: number;
  wrBytes: number;
  rdOps: number;
  wrOps: number;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  drops: number;
}

export function totals(s: InstanceStats): CounterTotals {
  const sum = <T>(xs: T[], f: (x: T) => number | null) => xs.reduce((a, x) => a + (f(x) ?? 0), 0);
  return {
    at: s.at,
    cpuNs: s.cpuTimeNs,
    rdBytes: sum(s.disks, (d) => d.readBytes),
    wrBytes: sum(s.disks, (d) => d.writeBytes),
    rdOps: sum(s.disks, (d) => d.readOps),
    wrOps: sum(s.disks, (d) => d.writeOps),
    rxBytes: sum(s.nics, (n) => n.rxBytes),
    txBytes: sum(s.nics, (n) => n.txBytes),
    rxPackets: sum(s.nics, (n) => n.rxPackets),
    txPackets: sum(s.nics, (n) => n.txPackets),
    drops: sum(s.nics, (n) => (n.rxDrops ?? 0) + (n.txDrops ?? 0)),
  };
}

/** The rates between two readings; levels (RSS) from the newer one. */
export function rates(
  prev: CounterTotals | undefined,
  cur: CounterTotals,
  vcpus: number,
  rssBytes: number,
): Partial<Record<Field, number | null>> {
  const out: Partial<Record<Field, number | null>> = { memory_rss_bytes: rssBytes };
  if (!prev || cur.at <= prev.at) return out;
  const dt = (cur.at - prev.at) / 1000;
  const per = (a: number, b: number) => (b >= a ? (b - a) / dt : null);
  const cpu = per(prev.cpuNs, cur.cpuNs);
  out.cpu_percent = cpu === null ? null : (cpu / 1e9 / Math.max(1, vcpus)) * 100;
  out.disk_read_bytes_per_sec = per(prev.rdBytes, cur.rdBytes);
  out.disk_write_bytes_per_sec = per(prev.wrBytes, cur.wrBytes);
  out.disk_read_ops_per_sec = per(prev.rdOps, cur.rdOps);
  out.disk_write_ops_per_sec = per(prev.wrOps, cur.wrOps);
  out.net_rx_bytes_per_sec = per(prev.rxBytes, cur.rxBytes);
  out.net_tx_bytes_per_sec = per(prev.txBytes, cur.txBytes);
  out.net_rx_packets_per_sec = per(prev.rxPackets, cur.rxPackets);
  out.net_tx_packets_per_sec = per(prev.txPackets, cur.txPackets);
  out.net_drops_per_sec = per(prev.drops, cur.drops);
  return out;
}
