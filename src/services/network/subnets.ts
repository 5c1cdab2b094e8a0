import type { AuthContext } from '../auth-context.js';
import type { NetSubnetRow } from '../../store/network-tables.js';
import { bool, inTransaction } from '../../store/database.js';
import { uuid } from '../../util/ids.js';
import type { NetworkDeps, Db, Obj } from './common.js';
import {
  admin,
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
import type { Quotas } from './quotas.js';
import type { Networks } from './networks.js';
import type { SubnetPools } from './subnet-pools.js';
import { type Ipam, poolsOf } from './ipam.js';
import {
  contains,
  defaultPools,
  firstIp,
  formatCidr,
  formatIp,
  lastIp,
  overlaps,
  parseCidr,
  tryParseCidr,
  tryParseIp,
  type Cidr,
  type IpVersion,
  type Range,
} from './ipaddr.js';

const KNOWN = [
  'name',
  'description',
  'network_id',
  'ip_version',
  'cidr',
  'gateway_ip',
  'enable_dhcp',
  'allocation_pools',
  'dns_nameservers',
  'host_routes',
  'ipv6_ra_mode',
  'ipv6_address_mode',
  'subnetpool_id',
  'prefixlen',
  'use_default_subnetpool',
  'tenant_id',
  'project_id',
  'service_types',
  'segment_id',
  'dns_publish_fixed_ip',
  'tags',
] as const;
const V6_MODES = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'];

export type Subnet = NetSubnetRow;

export const subnetNotFound = (id: string) => nerr('NotFound', 'SubnetNotFound', `Subnet ${id} could not be found.`);

/** True when ports get EUI-64 addresses on this subnet instead of pool addresses. */
export const isAutoAddress = (s: Subnet): boolean =>
  s.ip_version === 6 && (s.ipv6_address_mode === 'slaac' || s.ipv6_address_mode === 'dhcpv6-stateless');

const rangeText = (v: IpVersion, r: Range) => `${formatIp(v, r.first)}-${formatIp(v, r.last)}`;

/** Subnets: CIDR, gateway, pools, DNS servers, host routes, IPv6 modes, and prefixes from subnet pools. */
export class Subnets {
  constructor(
    private readonly d: NetworkDeps,
    private readonly tags: Tags,
    private readonly quotas: Quotas,
    private readonly networks: Networks,
    private readonly pools: SubnetPools,
    private readonly ipam: Ipam,
  ) {}

  async find(id: string, db: Db = this.d.db): Promise<Subnet | undefined> {
    return db.selectFrom('net_subnets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(a: AuthContext, id: string, db: Db = this.d.db): Promise<Subnet> {
    const s = await this.find(id, db);
    if (!s) throw subnetNotFound(id);
    if (!owns(a, s.project_id)) {
      // Subnets of an external network that is not shared stay hidden from other projects, as in Neutron.
      const n = await this.networks.find(s.network_id, db);
      if (!n || !(owns(a, n.project_id) || n.shared)) throw subnetNotFound(id);
    }
    return s;
  }

  view(s: Subnet, tags: string[]): Obj {
    return {
      ...standardView(s, tags),
      network_id: s.network_id,
      ip_version: s.ip_version,
      cidr: s.cidr,
      gateway_ip: s.gateway_ip,
      enable_dhcp: !!s.enable_dhcp,
      ipv6_ra_mode: s.ipv6_ra_mode,
      ipv6_address_mode: s.ipv6_address_mode,
      subnetpool_id: s.subnetpool_id,
      dns_nameservers: j(s.dns_nameservers, []),
      host_routes: j(s.host_routes, []),
      allocation_pools: j(s.allocation_pools, []),
      service_types: j(s.service_types, []),
      segment_id: null,
      dns_publish_fixed_ip: !!s.dns_publish_fixed_ip,
    };
  }

  async views(rows: Subnet[]): Promise<Obj[]> {
    const tags = await this.tags.forIds(rows.map((r) => r.id));
    return rows.map((r) => this.view(r, tags.get(r.id) ?? []));
  }

  async list(a: AuthContext, filter: { networkId?: string; ids?: string[] } = {}): Promise<Subnet[]> {
    let q = this.d.db.selectFrom('net_subnets').selectAll('net_subnets');
    if (filter.networkId) q = q.where('net_subnets.network_id', '=', filter.networkId);
    if (filter.ids) q = q.where('net_subnets.id', 'in', filter.ids.length ? filter.ids : ['']);
    if (!admin(a)) {
      const p = a.projectId ?? '';
      q = q
        .innerJoin('net_networks', 'net_networks.id', 'net_subnets.network_id')
        .where((eb) =>
          eb.or([
            eb('net_subnets.project_id', '=', p),
            eb('net_networks.shared', '=', 1),
            eb('net_networks.project_id', '=', p),
          ]),
        );
    }
    return q.orderBy('net_subnets.created_at').orderBy('net_subnets.id').execute();
  }

  /** Validates gateway, pools, DNS and routes against a CIDR; returns the normalized values. */
  private shape(
    c: Cidr,
    body: Obj,
    current?: Subnet,
  ): { gateway: string | null; pools: Range[]; dns: string[]; routes: Obj[] } {
    const v = c.version;
    let gateway: string | null;
    if (body.gateway_ip === undefined) {
      gateway = current ? current.gateway_ip : formatIp(v, firstIp(c) + (c.prefixlen < bitsOf(v) ? 1n : 0n));
    } else if (body.gateway_ip === null) {
      gateway = null;
    } else {
      const g = tryParseIp(body.gateway_ip);
      if (!g || g.version !== v)
        throw badInput(`'${String(body.gateway_ip)}' is not a valid IP address for gateway_ip.`);
      const linkLocal = v === 6 && g.value >> 118n === 0x3fan;
      if (!linkLocal && !contains(c, g.value))
        throw badInput(`Gateway is not valid on subnet: ${formatIp(v, g.value)} is outside ${formatCidr(c)}.`);
      if (v === 4 && c.prefixlen < 31 && (g.value === firstIp(c) || g.value === lastIp(c))) {
        throw badInput(`Gateway IP ${formatIp(v, g.value)} is the network or broadcast address of ${formatCidr(c)}.`);
      }
      gateway = formatIp(v, g.value);
    }
    const gw = gateway === null ? null : tryParseIp(gateway)!.value;

    let pools: Range[];
    const asked = listOf(body, 'allocation_pools');
    if (asked === undefined) {
      pools = current && body.gateway_ip === undefined ? poolsOf(current) : defaultPools(c, gw);
    } else {
      pools = asked
        .map((p) => {
          const o = (p ?? {}) as Obj;
          const s = tryParseIp(o.start);
          const e = tryParseIp(o.end);
          if (typeof p !== 'object' || !s || !e || Object.keys(o).some((k) => k !== 'start' && k !== 'end')) {
            throw badInput(`'${JSON.stringify(p)}' is not a valid allocation pool ({"start": IP, "end": IP}).`);
          }
          if (s.version !== v || e.version !== v)
            throw badInput(`Allocation pool ${String(o.start)}-${String(o.end)} is not IPv${v}.`);
          if (s.value > e.value)
            throw nerr(
              'BadRequest',
              'InvalidAllocationPool',
              `The allocation pool ${String(o.start)}-${String(o.end)} is not valid.`,
            );
          const r = { first: s.value, last: e.value };
          const usableFirst = v === 4 && c.prefixlen < 31 ? firstIp(c) + 1n : firstIp(c);
          const usableLast = v === 4 && c.prefixlen < 31 ? lastIp(c) - 1n : lastIp(c);
          if (r.first < usableFirst || r.last > usableLast) {
            throw nerr(
              'BadRequest',
              'OutOfBoundsAllocationPool',
              `The allocation pool ${rangeText(v, r)} spans beyond the subnet cidr ${formatCidr(c)}.`,
            );
          }
          return r;
        })
        .sort((x, y) => (x.first < y.first ? -1 : 1));
      for (let i = 1; i < pools.length; i++) {
        if (pools[i]!.first <= pools[i - 1]!.last) {
          throw nerr(
            'BadRequest',
            'OverlappingAllocationPools',
            `Found overlapping allocation pools: ${rangeText(v, pools[i - 1]!)} and ${rangeText(v, pools[i]!)} for ` +
              `subnet ${formatCidr(c)}.`,
          );
        }
      }
    }
    if (gw !== null) {
      const hit = pools.find((p) => gw >= p.first && gw <= p.last);
      if (hit)
        throw nerr(
          'Conflict',
          'GatewayConflictWithAllocationPools',
          `Gateway ip ${gateway} conflicts with allocation pool ${rangeText(v, hit)}`,
        );
    }

    const dnsIn = listOf(body, 'dns_nameservers');
    const dns =
      dnsIn === undefined
        ? current
          ? j<string[]>(current.dns_nameservers, [])
          : []
        : dnsIn.map((x) => {
            const ip = tryParseIp(x);
            if (!ip) throw badInput(`'${String(x)}' is not a valid nameserver.`);
            return formatIp(ip.version, ip.value);
          });
    if (new Set(dns).size !== dns.length) throw badInput(`Duplicate nameserver in ${JSON.stringify(dnsIn)}.`);
    if (dns.length > 5)
      throw nerr(
        'BadRequest',
        'DNSNameServersExhausted',
        `Unable to complete operation for ${formatCidr(c)}. The number of DNS nameservers exceeds the limit 5.`,
      );

    const routesIn = listOf(body, 'host_routes');
    const routes =
      routesIn === undefined
        ? current
          ? j<Obj[]>(current.host_routes, [])
          : []
        : routesIn.map((r) => {
            const o = (r ?? {}) as Obj;
            const dest = tryParseCidr(o.destination);
            const hop = tryParseIp(o.nexthop);
            if (typeof r !== 'object' || !dest || !hop || dest.hostBitsSet)
              throw badInput(
                `'${JSON.stringify(r)}' is not a valid host route ({"destination": CIDR, "nexthop": IP}).`,
              );
            if (dest.version !== v || hop.version !== v)
              throw badInput(`Host route ${JSON.stringify(r)} does not match IPv${v}.`);
            return { destination: formatCidr(dest), nexthop: formatIp(hop.version, hop.value) };
          });
    if (new Set(routes.map((r) => JSON.stringify(r))).size !== routes.length) throw badInput('Duplicate host route.');
    if (routes.length > 20)
      throw nerr(
        'BadRequest',
        'HostRoutesExhausted',
        `Unable to complete operation for ${formatCidr(c)}. The number of host routes exceeds the limit 20.`,
      );
    return { gateway, pools, dns, routes };
  }

  async create(a: AuthContext, body: Obj): Promise<Subnet> {
    onlyKnown(body, KNOWN, 'subnet');
    if (typeof body.network_id !== 'string') throw badInput("'network_id' is required.");
    const network = await this.networks.get(a, body.network_id);
    if (!owns(a, network.project_id))
      throw nerr(
        'Forbidden',
        'PolicyNotAuthorized',
        '(rule:create_subnet and rule:admin_or_network_owner) is disallowed by policy',
      );
    const project = ownerFor(a, body);
    const ipVersion = intOf(body, 'ip_version', 0, 100);
    if (ipVersion !== 4 && ipVersion !== 6)
      throw badInput(`'${String(body.ip_version)}' is not in [4, 6] for ip_version.`);
    const version = ipVersion as IpVersion;
    const raMode = body.ipv6_ra_mode ?? null;
    const addrMode = body.ipv6_address_mode ?? null;
    for (const [k, m] of [
      ['ipv6_ra_mode', raMode],
      ['ipv6_address_mode', addrMode],
    ] as const) {
      if (m !== null && !V6_MODES.includes(String(m)))
        throw badInput(`'${String(m)}' is not in ${JSON.stringify(V6_MODES)} for ${k}.`);
      if (m !== null && version === 4) throw badInput(`${k} is not valid when ip_version is 4`);
    }
    if (raMode && addrMode && raMode !== addrMode) {
      throw badInput(
        `ipv6_ra_mode set to '${String(raMode)}' with ipv6_address_mode set to '${String(addrMode)}' is not valid. ` +
          `If both attributes are set, they must be the same value`,
      );
    }
    const enableDhcp = boolOf(body, 'enable_dhcp') ?? true;
    const t = now();
    const created = await inTransaction(this.d.db, async (trx) => {
      await this.quotas.check(trx, project, 'subnet');
      let cidr: Cidr;
      let subnetpoolId: string | null = null;
      if (body.cidr !== undefined && body.cidr !== null) {
        const c = tryParseCidr(body.cidr);
        if (!c || typeof body.cidr !== 'string' || !body.cidr.includes('/'))
          throw badInput(`'${String(body.cidr)}' is not a valid IP subnet.`);
        if (c.hostBitsSet) throw badInput(`'${body.cidr}' isn't a recommended CIDR, '${formatCidr(c)}' is recommended`);
        if (c.version !== version) throw badInput(`Cidr ${body.cidr} does not match ip_version ${version}`);
        if (c.prefixlen === 0) throw badInput(`${body.cidr} is not allowed: the whole address space.`);
        cidr = c;
        if (body.subnetpool_id) {
          const pool = await this.pools.get(a, String(body.subnetpool_id), trx);
          subnetpoolId = pool.id;
          await this.pools.claim(trx, pool, version, cidr);
        }
      } else {
        let poolId = body.subnetpool_id as string | undefined;
        if (!poolId && boolOf(body, 'use_default_subnetpool')) poolId = (await this.pools.defaultFor(trx, version))?.id;
        if (!poolId)
          throw nerr(
            'BadRequest',
            'BadRequest',
            'Bad subnets request: a cidr must be specified in the absence of a subnet pool.',
          );
        const pool = await this.pools.get(a, poolId, trx);
        const prefixlen = intOf(body, 'prefixlen', 0, 128);
        cidr = await this.pools.allocatePrefix(trx, pool, version, prefixlen);
        subnetpoolId = pool.id;
      }
      if (
        (addrMode === 'slaac' ||
          addrMode === 'dhcpv6-stateless' ||
          raMode === 'slaac' ||
          raMode === 'dhcpv6-stateless') &&
        cidr.prefixlen !== 64
      ) {
        throw badInput(
          `Invalid CIDR ${formatCidr(cidr)} for IPv6 address mode. OpenStack uses the EUI-64 address format, which ` +
            `requires the prefix to be /64`,
        );
      }
      const siblings = await trx
        .selectFrom('net_subnets')
        .select(['id', 'cidr'])
        .where('network_id', '=', network.id)
        .execute();
      for (const s of siblings) {
        if (overlaps(parseCidr(s.cidr), cidr)) {
          throw badInput(
            `Requested subnet with cidr: ${formatCidr(cidr)} for network: ${network.id} overlaps with another subnet`,
          );
        }
      }
      const shaped = this.shape(cidr, body);
      const row: Subnet = {
        id: uuid(),
        project_id: project,
        name: str(body, 'name') ?? '',
        description: str(body, 'description') ?? '',
        created_at: t,
        updated_at: t,
        revision_number: 0,
        network_id: network.id,
        ip_version: version,
        cidr: formatCidr(cidr),
        gateway_ip: shaped.gateway,
        enable_dhcp: bool(enableDhcp),
        ipv6_ra_mode: raMode as string | null,
        ipv6_address_mode: addrMode as string | null,
        subnetpool_id: subnetpoolId,
        dns_nameservers: JSON.stringify(shaped.dns),
        host_routes: JSON.stringify(shaped.routes),
        allocation_pools: JSON.stringify(
          shaped.pools.map((p) => ({ start: formatIp(version, p.first), end: formatIp(version, p.last) })),
        ),
        service_types: JSON.stringify(listOf(body, 'service_types') ?? []),
        dns_publish_fixed_ip: bool(boolOf(body, 'dns_publish_fixed_ip')),
      };
      await trx.insertInto('net_subnets').values(row).execute();
      await trx
        .updateTable('net_networks')
        .set({ revision_number: network.revision_number + 1, updated_at: t })
        .where('id', '=', network.id)
        .execute();
      return row;
    });
    return created;
  }

  async update(a: AuthContext, id: string, body: Obj): Promise<Subnet> {
    const s = await this.get(a, id);
    if (!owns(a, s.project_id))
      throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:update_subnet is disallowed by policy');
    onlyKnown(body, KNOWN, 'subnet');
    for (const k of [
      'cidr',
      'ip_version',
      'network_id',
      'ipv6_ra_mode',
      'ipv6_address_mode',
      'subnetpool_id',
      'prefixlen',
      'tenant_id',
      'project_id',
    ]) {
      if (body[k] !== undefined && body[k] !== (s as unknown as Obj)[k])
        throw badInput(`Cannot update read-only attribute ${k}`);
    }
    const shaped = this.shape(parseCidr(s.cidr), body, s);
    if (body.gateway_ip !== undefined && shaped.gateway && shaped.gateway !== s.gateway_ip) {
      const g = tryParseIp(shaped.gateway)!;
      if (await this.ipam.inUse(this.d.db, s.id, g.version, g.value)) {
        throw nerr(
          'Conflict',
          'GatewayIpInUse',
          `Current gateway ip ${shaped.gateway} already in use by a port on subnet ${id}.`,
        );
      }
    }
    const set: Partial<Subnet> = {
      gateway_ip: shaped.gateway,
      dns_nameservers: JSON.stringify(shaped.dns),
      host_routes: JSON.stringify(shaped.routes),
      allocation_pools: JSON.stringify(
        shaped.pools.map((p) => ({
          start: formatIp(s.ip_version as IpVersion, p.first),
          end: formatIp(s.ip_version as IpVersion, p.last),
        })),
      ),
    };
    const name = str(body, 'name');
    if (name !== undefined) set.name = name;
    const desc = str(body, 'description');
    if (desc !== undefined) set.description = desc;
    const dhcp = boolOf(body, 'enable_dhcp');
    if (dhcp !== undefined) set.enable_dhcp = bool(dhcp);
    const st = listOf(body, 'service_types');
    if (st !== undefined) set.service_types = JSON.stringify(st);
    await this.d.db
      .updateTable('net_subnets')
      .set({ ...set, updated_at: now(), revision_number: s.revision_number + 1 })
      .where('id', '=', id)
      .execute();
    this.ipam.reset(id);
    return (await this.find(id))!;
  }

  /** Deletes a subnet; an IP held by any port but a DHCP port makes it 409 SubnetInUse. */
  async delete(a: AuthContext, id: string): Promise<Subnet> {
    const s = await this.get(a, id);
    if (!owns(a, s.project_id))
      throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:delete_subnet is disallowed by policy');
    await inTransaction(this.d.db, async (trx) => {
      // EUI-64 addresses on SLAAC / stateless subnets are derived, not held: only router ports keep such a subnet.
      let q = trx
        .selectFrom('net_ip_allocations')
        .innerJoin('net_ports', 'net_ports.id', 'net_ip_allocations.port_id')
        .select(['net_ports.id'])
        .where('net_ip_allocations.subnet_id', '=', id)
        .where('net_ports.device_owner', '!=', 'network:dhcp');
      if (isAutoAddress(s)) q = q.where('net_ports.device_owner', 'like', 'network:router%');
      const held = await q.executeTakeFirst();
      if (held)
        throw nerr(
          'Conflict',
          'SubnetInUse',
          `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`,
        );
      await trx.deleteFrom('net_ip_allocations').where('subnet_id', '=', id).execute();
      await this.tags.removeAll(id, trx);
      await trx.deleteFrom('net_subnets').where('id', '=', id).execute();
    });
    this.ipam.reset(id);
    return s;
  }
}

const bitsOf = (v: IpVersion) => (v === 4 ? 32 : 128);
