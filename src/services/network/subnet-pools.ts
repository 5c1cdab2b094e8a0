import type { AuthContext } from '../auth-context.js';
import type { NetSubnetPoolRow } from '../../store/network-tables.js';
import { bool, inTransaction } from '../../store/database.js';
import { uuid } from '../../util/ids.js';
import type { NetworkDeps, Db, Obj } from './common.js';
import {
  admin,
  adminOnly,
  badInput,
  boolOf,
  intOf,
  j,
  listOf,
  nerr,
  now,
  onlyKnown,
  ownerFor,
  owns,
  standardView,
  str,
} from './common.js';
import type { Tags } from './tags.js';
import {
  bits,
  firstIp,
  formatCidr,
  lastIp,
  overlaps,
  parseCidr,
  tryParseCidr,
  type Cidr,
  type IpVersion,
} from './ipaddr.js';

const KNOWN = [
  'name',
  'description',
  'prefixes',
  'default_prefixlen',
  'min_prefixlen',
  'max_prefixlen',
  'shared',
  'is_default',
  'default_quota',
  'address_scope_id',
  'tenant_id',
  'project_id',
  'tags',
] as const;

export type SubnetPool = NetSubnetPoolRow;

const poolNotFound = (id: string) => nerr('NotFound', 'SubnetPoolNotFound', `Subnet pool ${id} could not be found.`);

/** Merges overlapping and adjacent CIDRs into the smallest covering list (netaddr.cidr_merge in spirit). */
function merge(cidrs: Cidr[]): Cidr[] {
  const sorted = [...cidrs].sort((a, b) =>
    a.network < b.network ? -1 : a.network > b.network ? 1 : a.prefixlen - b.prefixlen,
  );
  const out: Cidr[] = [];
  for (const c of sorted) {
    if (out.some((o) => overlaps(o, c) && o.prefixlen <= c.prefixlen)) continue;
    out.push(c);
  }
  return out;
}

/** Subnet pools: prefixes subnets are carved from (Neutron's subnet_allocation). */
export class SubnetPools {
  constructor(
    private readonly d: NetworkDeps,
    private readonly tags: Tags,
  ) {}

  async get(a: AuthContext, id: string, db: Db = this.d.db): Promise<SubnetPool> {
    const p = await db.selectFrom('net_subnet_pools').selectAll().where('id', '=', id).executeTakeFirst();
    if (!p || !(owns(a, p.project_id) || p.shared)) throw poolNotFound(id);
    return p;
  }

  view(p: SubnetPool, tags: string[]): Obj {
    return {
      ...standardView(p, tags),
      ip_version: p.ip_version,
      prefixes: j(p.prefixes, []),
      default_prefixlen: p.default_prefixlen,
      min_prefixlen: p.min_prefixlen,
      max_prefixlen: p.max_prefixlen,
      shared: !!p.shared,
      is_default: !!p.is_default,
      default_quota: p.default_quota,
      address_scope_id: p.address_scope_id,
    };
  }

  async views(rows: SubnetPool[]): Promise<Obj[]> {
    const tags = await this.tags.forIds(rows.map((r) => r.id));
    return rows.map((r) => this.view(r, tags.get(r.id) ?? []));
  }

  async list(a: AuthContext): Promise<SubnetPool[]> {
    let q = this.d.db.selectFrom('net_subnet_pools').selectAll();
    if (!admin(a)) q = q.where((eb) => eb.or([eb('project_id', '=', a.projectId ?? ''), eb('shared', '=', 1)]));
    return q.orderBy('created_at').orderBy('id').execute();
  }

  async defaultFor(db: Db, version: IpVersion): Promise<SubnetPool | undefined> {
    return db
      .selectFrom('net_subnet_pools')
      .selectAll()
      .where('is_default', '=', 1)
      .where('ip_version', '=', version)
      .executeTakeFirst();
  }

  private parsePrefixes(list: unknown[]): Cidr[] {
    if (list.length === 0) throw badInput('prefixes must not be empty.');
    const cidrs = list.map((x) => {
      const c = tryParseCidr(x);
      if (!c || typeof x !== 'string' || !x.includes('/')) throw badInput(`'${String(x)}' is not a valid IP subnet.`);
      return { version: c.version, network: c.network, prefixlen: c.prefixlen };
    });
    if (new Set(cidrs.map((c) => c.version)).size > 1)
      throw badInput('Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
    return merge(cidrs);
  }

  async create(a: AuthContext, body: Obj): Promise<SubnetPool> {
    onlyKnown(body, KNOWN, 'subnetpool');
    adminOnly(a, body, ['shared', 'is_default'], 'create_subnetpool');
    if (typeof body.name !== 'string') throw badInput("'name' is required.");
    const prefixes = this.parsePrefixes(listOf(body, 'prefixes') ?? []);
    const version = prefixes[0]!.version;
    const maxBits = bits(version);
    const minLen = intOf(body, 'min_prefixlen', 0, maxBits) ?? Math.min(...prefixes.map((p) => p.prefixlen));
    const maxLen = intOf(body, 'max_prefixlen', 0, maxBits) ?? maxBits;
    const defLen = intOf(body, 'default_prefixlen', 0, maxBits) ?? minLen;
    if (!(minLen <= defLen && defLen <= maxLen))
      throw badInput(
        `Illegal prefix bounds: min_prefixlen=${minLen}, default_prefixlen=${defLen}, max_prefixlen=${maxLen}.`,
      );
    const t = now();
    const row: SubnetPool = {
      id: uuid(),
      project_id: ownerFor(a, body),
      name: str(body, 'name') ?? '',
      description: str(body, 'description') ?? '',
      created_at: t,
      updated_at: t,
      revision_number: 0,
      ip_version: version,
      prefixes: JSON.stringify(prefixes.map(formatCidr)),
      default_prefixlen: defLen,
      min_prefixlen: minLen,
      max_prefixlen: maxLen,
      shared: bool(boolOf(body, 'shared')),
      is_default: bool(boolOf(body, 'is_default')),
      default_quota: intOf(body, 'default_quota', 0, 2 ** 31) ?? null,
      address_scope_id: (body.address_scope_id as string | undefined) ?? null,
    };
    await this.d.db.insertInto('net_subnet_pools').values(row).execute();
    return row;
  }

  async update(a: AuthContext, id: string, body: Obj): Promise<SubnetPool> {
    const p = await this.get(a, id);
    if (!owns(a, p.project_id))
      throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:update_subnetpool is disallowed by policy');
    onlyKnown(body, KNOWN, 'subnetpool');
    adminOnly(a, body, ['is_default'], 'update_subnetpool');
    if (body.shared !== undefined) throw badInput('shared cannot be updated.');
    const set: Partial<SubnetPool> = {};
    const name = str(body, 'name');
    if (name !== undefined) set.name = name;
    const desc = str(body, 'description');
    if (desc !== undefined) set.description = desc;
    if (body.prefixes !== undefined) {
      const next = this.parsePrefixes(listOf(body, 'prefixes') ?? []);
      const old = j<string[]>(p.prefixes, []).map((c) => parseCidr(c));
      // Prefixes may only grow: every old prefix must stay covered.
      for (const o of old) {
        if (!next.some((n) => n.version === o.version && firstIp(n) <= firstIp(o) && lastIp(n) >= lastIp(o))) {
          throw badInput(`Existing prefix ${formatCidr(o)} must be a subset of the new prefixes.`);
        }
      }
      set.prefixes = JSON.stringify(merge(next).map(formatCidr));
    }
    const maxBits = bits(p.ip_version as IpVersion);
    const minLen = intOf(body, 'min_prefixlen', 0, maxBits) ?? p.min_prefixlen;
    const maxLen = intOf(body, 'max_prefixlen', 0, maxBits) ?? p.max_prefixlen;
    const defLen = intOf(body, 'default_prefixlen', 0, maxBits) ?? p.default_prefixlen;
    if (!(minLen <= defLen && defLen <= maxLen)) throw badInput('Illegal prefix bounds.');
    Object.assign(set, { min_prefixlen: minLen, max_prefixlen: maxLen, default_prefixlen: defLen });
    const isDef = boolOf(body, 'is_default');
    if (isDef !== undefined) set.is_default = bool(isDef);
    await this.d.db
      .updateTable('net_subnet_pools')
      .set({ ...set, updated_at: now(), revision_number: p.revision_number + 1 })
      .where('id', '=', id)
      .execute();
    return await this.d.db.selectFrom('net_subnet_pools').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  async delete(a: AuthContext, id: string): Promise<void> {
    const p = await this.get(a, id);
    if (!owns(a, p.project_id))
      throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:delete_subnetpool is disallowed by policy');
    await inTransaction(this.d.db, async (trx) => {
      const used = await trx.selectFrom('net_subnets').select('id').where('subnetpool_id', '=', id).executeTakeFirst();
      if (used) throw nerr('Conflict', 'SubnetPoolInUse', `Subnet pool ${id} cannot be deleted as it is still in use.`);
      await this.tags.removeAll(id, trx);
      await trx.deleteFrom('net_subnet_pools').where('id', '=', id).execute();
    });
  }

  private async usedBy(db: Db, poolId: string): Promise<Cidr[]> {
    return (await db.selectFrom('net_subnets').select('cidr').where('subnetpool_id', '=', poolId).execute()).map((s) =>
      parseCidr(s.cidr),
    );
  }

  /** Checks that a requested CIDR lies in the pool and is free in it. */
  async claim(db: Db, pool: SubnetPool, version: IpVersion, c: Cidr): Promise<void> {
    if (pool.ip_version !== version)
      throw badInput(`Subnet pool ${pool.id} is IPv${pool.ip_version}, the subnet is IPv${version}.`);
    const prefixes = j<string[]>(pool.prefixes, []).map((x) => parseCidr(x));
    if (!prefixes.some((p) => firstIp(p) <= firstIp(c) && lastIp(p) >= lastIp(c))) {
      throw nerr(
        'BadRequest',
        'SubnetAllocationError',
        `Cidr ${formatCidr(c)} is not within the prefixes of subnet pool ${pool.id}.`,
      );
    }
    if (c.prefixlen < pool.min_prefixlen || c.prefixlen > pool.max_prefixlen) {
      throw nerr(
        'BadRequest',
        'SubnetAllocationError',
        `Prefix length ${c.prefixlen} is outside ${pool.min_prefixlen}..${pool.max_prefixlen}.`,
      );
    }
    if ((await this.usedBy(db, pool.id)).some((u) => overlaps(u, c))) {
      throw nerr(
        'BadRequest',
        'SubnetAllocationError',
        `Cidr ${formatCidr(c)} overlaps a subnet already allocated from pool ${pool.id}.`,
      );
    }
  }

  /** Carves the first free block of the prefix length out of the pool. */
  async allocatePrefix(db: Db, pool: SubnetPool, version: IpVersion, prefixlen?: number): Promise<Cidr> {
    if (pool.ip_version !== version)
      throw badInput(`Subnet pool ${pool.id} is IPv${pool.ip_version}, the subnet is IPv${version}.`);
    const len = prefixlen ?? pool.default_prefixlen;
    if (len < pool.min_prefixlen || len > pool.max_prefixlen) {
      throw nerr(
        'BadRequest',
        'SubnetAllocationError',
        `Unable to allocate subnet with prefix length ${len}, allowed ${pool.min_prefixlen}..${pool.max_prefixlen}.`,
      );
    }
    const used = await this.usedBy(db, pool.id);
    const step = 1n << BigInt(bits(version) - len);
    for (const p of j<string[]>(pool.prefixes, []).map((x) => parseCidr(x))) {
      if (p.prefixlen > len) continue;
      let c = firstIp(p);
      while (c + step - 1n <= lastIp(p)) {
        const cand: Cidr = { version, network: c, prefixlen: len };
        const clash = used.find((u) => overlaps(u, cand));
        if (!clash) return cand;
        const after = lastIp(clash) + 1n;
        c = ((after + step - 1n) / step) * step;
      }
    }
    throw nerr(
      'Conflict',
      'SubnetAllocationError',
      `Failed to allocate subnet: insufficient prefix space to allocate a /${len} from subnet pool ${pool.id}.`,
    );
  }
}
