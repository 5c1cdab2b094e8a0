// I/O limits of one guest disk (a volume whose type has front-end QoS specs), named as Cinder's QoS keys, and their
// two QEMU spellings: the -drive `throttling.*` options at launch and the block_set_io_throttle arguments on a
// hot-plug. Both set the same throttling of the disk's BlockBackend, so query-block shows them either way.

/** Cinder's front-end QoS keys: bytes or operations per second, `_max` the burst, size_iops_sec the I/O size unit. */
export interface IoLimits {
  total_bytes_sec?: number;
  read_bytes_sec?: number;
  write_bytes_sec?: number;
  total_iops_sec?: number;
  read_iops_sec?: number;
  write_iops_sec?: number;
  total_bytes_sec_max?: number;
  read_bytes_sec_max?: number;
  write_bytes_sec_max?: number;
  total_iops_sec_max?: number;
  read_iops_sec_max?: number;
  write_iops_sec_max?: number;
  size_iops_sec?: number;
}

/** Cinder key → [-drive throttling option, block_set_io_throttle argument]. */
const NAMES: Record<keyof IoLimits, [string, string]> = {
  total_bytes_sec: ['bps-total', 'bps'],
  read_bytes_sec: ['bps-read', 'bps_rd'],
  write_bytes_sec: ['bps-write', 'bps_wr'],
  total_iops_sec: ['iops-total', 'iops'],
  read_iops_sec: ['iops-read', 'iops_rd'],
  write_iops_sec: ['iops-write', 'iops_wr'],
  total_bytes_sec_max: ['bps-total-max', 'bps_max'],
  read_bytes_sec_max: ['bps-read-max', 'bps_rd_max'],
  write_bytes_sec_max: ['bps-write-max', 'bps_wr_max'],
  total_iops_sec_max: ['iops-total-max', 'iops_max'],
  read_iops_sec_max: ['iops-read-max', 'iops_rd_max'],
  write_iops_sec_max: ['iops-write-max', 'iops_wr_max'],
  size_iops_sec: ['iops-size', 'iops_size'],
};

const set = (l: IoLimits) =>
  (Object.keys(NAMES) as (keyof IoLimits)[]).filter((k) => Number.isInteger(l[k]) && (l[k] as number) > 0);

/** True when at least one limit is set. */
export function hasIoLimits(l: IoLimits | undefined): l is IoLimits {
  return !!l && set(l).length > 0;
}

/** `,throttling.bps-total=N,...` for a -drive option string ('' without limits). */
export function driveThrottleOptions(l: IoLimits | undefined): string {
  if (!l) return '';
  return set(l)
    .map((k) => `,throttling.${NAMES[k][0]}=${l[k]}`)
    .join('');
}

/** The arguments of QMP block_set_io_throttle for device `id` (the six base limits are required: 0 is none). */
export function qmpThrottleArgs(id: string, l: IoLimits): Record<string, unknown> {
  const out: Record<string, unknown> = { id, bps: 0, bps_rd: 0, bps_wr: 0, iops: 0, iops_rd: 0, iops_wr: 0 };
  for (const k of set(l)) out[NAMES[k][1]] = l[k];
  return out;
}
