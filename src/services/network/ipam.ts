// IP address management. The primary key (subnet_id, ip_key) of net_ip_allocations is what guarantees that one
// address is never handed out twice, across transactions, processes and databases; everything else here is about
// finding a free candidate cheaply. Each subnet has an in-memory cursor (the next address to try), seeded from the
// highest allocated address, so on a filling subnet the first candidate is almost always free: O(1) per allocation.
// When a candidate is taken (by another controller, or after wrap-around) a sorted window of allocated keys past
// it is read to find the next gap; only a nearly full subnet ever scans much.
import type { NetSubnetRow } from '../../store/network-tables.js';
import type { Db } from './common.js';
import { j, nerr } from './common.js';
import { formatIp, ipKey, keyToIp, tryParseIp, type IpVersion, type Range } from './ipaddr.js';

const WINDOW = 256;

/** A subnet's pools as sorted BigInt ranges. */
export function poolsOf(s: Pick<NetSubnetRow, 'allocation_pools' | 'ip_version'>): Range[] {
  return j<{ start: string; end: string }[]>(s.allocation_pools, [])
    .map((p) => ({ first: tryParseIp(p.start)!.value, last: tryParseIp(p.end)!.value }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
}

/** Total addresses in the pools. */
export function poolSize(pools: Range[]): bigint {
  return pools.reduce((n, p) => n + (p.last - p.first + 1n), 0n);
}

/** The smallest pool address >= v, or null past the last pool. */
function normalize(pools: Range[], v: bigint): bigint | null {
  for (const p of pools) {
    if (v <= p.last) return v < p.first ? p.first : v;
  }
  return null;
}

export const exhausted = (networkId: string) =>
  nerr('Conflict', 'IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);

export class Ipam {
  private readonly cursors = new Map<string, bigint>();

  /** Forgets a subnet's cursor (after its pools changed or it was deleted). */
  reset(subnetId: string): void {
    this.cursors.delete(subnetId);
  }

  private async startFor(db: Db, s: NetSubnetRow, pools: Range[]): Promise<bigint> {
    const c = this.cursors.get(s.id);
    if (c !== undefined) return c;
    const top = await db
      .selectFrom('net_ip_allocations')
      .select('ip_key')
      .where('subnet_id', '=', s.id)
      .orderBy('ip_key', 'desc')
      .limit(1)
      .executeTakeFirst();
    const start = top ? keyToIp(top.ip_key) + 1n : pools[0]!.first;
    return start;
  }

  /** Tries to take exactly this address; false when someone holds it. */
  private async take(db: Db, s: NetSubnetRow, v: bigint, portId: string): Promise<boolean> {
    const version = s.ip_version as IpVersion;
    const rows = await db
      .insertInto('net_ip_allocations')
      .values({
        subnet_id: s.id,
        ip_key: ipKey(version, v),
        ip_address: formatIp(version, v),
        port_id: portId,
        network_id: s.network_id,
      })
      .onConflict((oc) => oc.columns(['subnet_id', 'ip_key']).doNothing())
      .returning('ip_key')
      .execute();
    return rows.length === 1;
  }

  /** The first address >= from that is in a pool and not allocated, or null (reads windows of allocated keys). */
  private async nextGap(
    db: Db,
    s: NetSubnetRow,
    pools: Range[],
    from: bigint,
    until: bigint | null,
  ): Promise<bigint | null> {
    const version = s.ip_version as IpVersion;
    let c = normalize(pools, from);
    while (c !== null && (until === null || c < until)) {
      const taken = await db
        .selectFrom('net_ip_allocations')
        .select('ip_key')
        .where('subnet_id', '=', s.id)
        .where('ip_key', '>=', ipKey(version, c))
        .orderBy('ip_key')
        .limit(WINDOW)
        .execute();
      let i = 0;
      for (; i < taken.length; i++) {
        const t = keyToIp(taken[i]!.ip_key);
        if (t > c) break;
        if (t === c) {
          c = normalize(pools, c + 1n);
          if (c === null) return null;
        }
      }
      if (i < taken.length || taken.length < WINDOW) return until === null || c < until ? c : null;
    }
    return null;
  }

  /**
   * Allocates one free address from the subnet's pools to the port. Throws 409 IpAddressGenerationFailure when the
   * pools are full.
   */
  async allocate(db: Db, s: NetSubnetRow, portId: string): Promise<string> {
    const pools = poolsOf(s);
    if (pools.length === 0) throw exhausted(s.network_id);
    const start = await this.startFor(db, s, pools);
    let candidate = normalize(pools, start);
    let wrapped = false;
    for (let attempts = 0; attempts < 10_000; attempts++) {
      if (candidate === null) {
        if (wrapped) break;
        wrapped = true;
        candidate = pools[0]!.first;
      }
      // Claim the candidate for this process before the first await, so concurrent callers try different ones.
      this.cursors.set(s.id, candidate + 1n);
      if (await this.take(db, s, candidate, portId)) return formatIp(s.ip_version as IpVersion, candidate);
      const gap = await this.nextGap(db, s, pools, candidate + 1n, wrapped ? start : null);
      if (gap === null && wrapped) break;
      candidate = gap;
    }
    throw exhausted(s.network_id);
  }

  /** Allocates a requested address; 409 IpAddressAlreadyAllocated when taken. */
  async allocateSpecific(db: Db, s: NetSubnetRow, ip: string, portId: string): Promise<string> {
    const parsed = tryParseIp(ip)!;
    if (!(await this.take(db, s, parsed.value, portId))) {
      throw nerr(
        'Conflict',
        'IpAddressAlreadyAllocated',
        `IP address ${formatIp(parsed.version, parsed.value)} already allocated in subnet ${s.id}`,
      );
    }
    return formatIp(parsed.version, parsed.value);
  }

  /** True when the address is held by some port. */
  async inUse(db: Db, subnetId: string, version: IpVersion, v: bigint): Promise<boolean> {
    return !!(await db
      .selectFrom('net_ip_allocations')
      .select('port_id')
      .where('subnet_id', '=', subnetId)
      .where('ip_key', '=', ipKey(version, v))
      .executeTakeFirst());
  }

  /** Used addresses of a subnet. */
  async used(db: Db, subnetId: string): Promise<number> {
    const r = await db
      .selectFrom('net_ip_allocations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('subnet_id', '=', subnetId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async releasePort(db: Db, portId: string): Promise<void> {
    await db.deleteFrom('net_ip_allocations').where('port_id', '=', portId).execute();
  }
}
