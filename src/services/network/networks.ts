import type { AuthContext } from '../auth-context.js';
import type { NetNetworkRow } from '../../store/network-tables.js';
import { bool, inTransaction, isUniqueViolation } from '../../store/database.js';
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
  projectOf,
  standardView,
  str,
} from './common.js';
import type { Tags } from './tags.js';
import type { Quotas } from './quotas.js';

const KNOWN = [
  'name',
  'description',
  'admin_state_up',
  'shared',
  'router:external',
  'mtu',
  'port_security_enabled',
  'availability_zone_hints',
  'provider:network_type',
  'provider:physical_network',
  'provider:segmentation_id',
  'tenant_id',
  'project_id',
  'is_default',
  'dns_domain',
  'qos_policy_id',
  'tags',
] as const;
const PROVIDER = ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id'];

/** A network row as the service hands it around. */
export type Network = NetNetworkRow;

export const networkNotFound = (id: string) => nerr('NotFound', 'NetworkNotFound', `Network ${id} could not be found.`);

/**
 * Networks with their provider segment (flat / vlan / vxlan) and the visibility rules of shared and external networks.
 */
export class Networks {
  constructor(
    private readonly d: NetworkDeps,
    private readonly tags: Tags,
    private readonly quotas: Quotas,
  ) {}

  /** True when the caller may see the network: owner, admin, shared, or external. */
  visible(a: AuthContext, n: Network): boolean {
    return owns(a, n.project_id) || !!n.shared || !!n.router_external;
  }

  async find(id: string, db: Db = this.d.db): Promise<Network | undefined> {
    return db.selectFrom('net_networks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The network if the caller may see it, else 404. */
  async get(a: AuthContext, id: string, db: Db = this.d.db): Promise<Network> {
    const n = await this.find(id, db);
    if (!n || !this.visible(a, n)) throw networkNotFound(id);
    return n;
  }

  async view(a: AuthContext, n: Network, tags?: string[], subnets?: string[]): Promise<Obj> {
    const v: Obj = {
      ...standardView(n, tags ?? (await this.tags.of(n.id))),
      admin_state_up: !!n.admin_state_up,
      status: n.status,
      shared: !!n.shared,
      'router:external': !!n.router_external,
      mtu: n.mtu,
      port_security_enabled: !!n.port_security_enabled,
      availability_zone_hints: j<string[]>(n.availability_zone_hints, []),
      availability_zones: this.d.options.availabilityZones.slice(0, 1),
      subnets:
        subnets ??
        (await this.d.db.selectFrom('net_subnets').select('id').where('network_id', '=', n.id).execute()).map(
          (s) => s.id,
        ),
      ipv4_address_scope: null,
      ipv6_address_scope: null,
      is_default: !!n.is_default,
      l2_adjacency: true,
      dns_domain: n.dns_domain,
      qos_policy_id: null,
    };
    if (admin(a)) {
      v['provider:network_type'] = n.network_type;
      v['provider:physical_network'] = n.physical_network || null;
      v['provider:segmentation_id'] = n.network_type === 'flat' ? null : n.segmentation_id;
    }
    return v;
  }

  async views(a: AuthContext, rows: Network[]): Promise<Obj[]> {
    const ids = rows.map((r) => r.id);
    const tags = await this.tags.forIds(ids);
    const subnets = new Map<string, string[]>();
    for (let i = 0; i < ids.length; i += 500) {
      const part = await this.d.db
        .selectFrom('net_subnets')
        .select(['id', 'network_id'])
        .where('network_id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const s of part) subnets.set(s.network_id, [...(subnets.get(s.network_id) ?? []), s.id]);
    }
    return Promise.all(rows.map((r) => this.view(a, r, tags.get(r.id) ?? [], subnets.get(r.id) ?? [])));
  }

  async list(a: AuthContext, filter: { ids?: string[]; name?: string } = {}): Promise<Network[]> {
    let q = this.d.db.selectFrom('net_networks').selectAll();
    if (filter.ids) q = q.where('id', 'in', filter.ids.length ? filter.ids : ['']);
    if (filter.name !== undefined) q = q.where('name', '=', filter.name);
    if (!admin(a)) {
      const p = projectOf(a);
      q = q.where((eb) => eb.or([eb('project_id', '=', p), eb('shared', '=', 1), eb('router_external', '=', 1)]));
    }
    return q.orderBy('created_at').orderBy('id').execute();
  }

  /** Picks a free segmentation id in the configured ranges (lowest free). */
  private async allocateSegment(db: Db, type: string, physnet: string): Promise<number> {
    const ranges = type === 'vxlan' ? this.d.options.vniRanges : (this.d.options.vlanRanges[physnet] ?? []);
    const used = new Set(
      (
        await db
          .selectFrom('net_networks')
          .select('segmentation_id')
          .where('network_type', '=', type)
          .where('physical_network', '=', physnet)
          .execute()
      ).map((r) => r.segmentation_id),
    );
    for (const [lo, hi] of ranges) {
      for (let id = lo; id <= hi; id++) if (!used.has(id)) return id;
    }
    throw nerr(
      'ServiceUnavailable',
      'NoNetworkAvailable',
      'Unable to create the network. No tenant network is available for allocation.',
    );
  }

  /** Validates the provider attributes and returns the segment (allocating an id when none was asked for). */
  private async segment(db: Db, body: Obj): Promise<{ type: string; physnet: string; segId: number }> {
    const asked = PROVIDER.some((k) => body[k] !== undefined && body[k] !== null);
    if (!asked) {
      const type = this.d.options.tenantNetworkType;
      const physnet =
        type === 'vlan'
          ? (Object.keys(this.d.options.vlanRanges).find((p) => this.d.options.vlanRanges[p]!.length) ?? '')
          : '';
      return { type, physnet, segId: await this.allocateSegment(db, type, physnet) };
    }
    const type = body['provider:network_type'];
    const physnet = body['provider:physical_network'] ?? null;
    const segId = intOf(body, 'provider:segmentation_id', 0, 16777215);
    if (physnet !== null && (typeof physnet !== 'string' || physnet.length === 0 || physnet.length > 64))
      badInputThrow('provider:physical_network must be a non-empty string.');
    switch (type) {
      case 'flat':
        if (!physnet) throw badInput('physical_network required for flat provider network');
        if (segId !== undefined) throw badInput('segmentation_id specified for flat provider network');
        if (!this.d.options.flatNetworks.includes('*') && !this.d.options.flatNetworks.includes(physnet as string)) {
          throw badInput(`physical_network '${String(physnet)}' unknown for flat provider network`);
        }
        return { type, physnet: physnet as string, segId: 0 };
      case 'vlan': {
        if (!physnet) throw badInput('physical_network required for VLAN provider network');
        if (!((physnet as string) in this.d.options.vlanRanges))
          throw badInput(`physical_network '${String(physnet)}' unknown for VLAN provider network`);
        if (segId === undefined)
          return { type, physnet: physnet as string, segId: await this.allocateSegment(db, 'vlan', physnet as string) };
        if (segId < 1 || segId > 4094) throw badInput(`segmentation_id out of range (1 through 4094)`);
        return { type, physnet: physnet as string, segId };
      }
      case 'vxlan':
        if (physnet) throw badInput('provider:physical_network specified for vxlan network');
        if (segId === undefined) return { type, physnet: '', segId: await this.allocateSegment(db, 'vxlan', '') };
        if (segId < 1) throw badInput('segmentation_id out of range (1 through 16777215)');
        return { type, physnet: '', segId };
      default:
        throw badInput(`network_type value '${String(type)}' not supported (flat, vlan, vxlan)`);
    }
  }

  private mtuFor(type: string): number {
    return type === 'vxlan' ? this.d.options.physicalMtu - 50 : this.d.options.physicalMtu;
  }

  async create(a: AuthContext, body: Obj): Promise<Network> {
    onlyKnown(body, KNOWN, 'network');
    adminOnly(a, body, ['router:external', 'shared', 'is_default', ...PROVIDER], 'create_network');
    const project = ownerFor(a, body);
    const azHints = listOf(body, 'availability_zone_hints') ?? [];
    for (const z of azHints)
      if (!this.d.options.availabilityZones.includes(String(z)))
        throw nerr('NotFound', 'AvailabilityZoneNotFound', `AvailabilityZone ${String(z)} could not be found.`);
    const t = now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await inTransaction(this.d.db, async (trx) => {
          await this.quotas.check(trx, project, 'network');
          const seg = await this.segment(trx, body);
          const mtuMax = this.mtuFor(seg.type);
          const mtu = intOf(body, 'mtu', 68, 65535) ?? mtuMax;
          if (mtu > mtuMax) throw badInput(`Requested MTU is too big, maximum is ${mtuMax}`);
          const row: Network = {
            id: uuid(),
            project_id: project,
            name: str(body, 'name') ?? '',
            description: str(body, 'description') ?? '',
            created_at: t,
            updated_at: t,
            revision_number: 1,
            admin_state_up: bool(boolOf(body, 'admin_state_up') ?? true),
            status: 'ACTIVE',
            shared: bool(boolOf(body, 'shared')),
            router_external: bool(boolOf(body, 'router:external')),
            is_default: bool(boolOf(body, 'is_default')),
            mtu,
            port_security_enabled: bool(boolOf(body, 'port_security_enabled') ?? true),
            network_type: seg.type,
            physical_network: seg.physnet,
            segmentation_id: seg.segId,
            availability_zone_hints: JSON.stringify(azHints.map(String)),
            dns_domain: str(body, 'dns_domain') ?? '',
          };
          await trx.insertInto('net_networks').values(row).execute();
          return row;
        });
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        const explicit = body['provider:segmentation_id'] !== undefined || body['provider:network_type'] === 'flat';
        if (explicit) {
          const physnet = String(body['provider:physical_network'] ?? '');
          throw body['provider:network_type'] === 'flat'
            ? nerr(
                'Conflict',
                'FlatNetworkInUse',
                `Unable to create the flat network. Physical network ${physnet} is in use.`,
              )
            : nerr(
                'Conflict',
                'SegmentationIdInUse',
                `Unable to create the network. The segmentation ID ${String(body['provider:segmentation_id'])} on ` +
                  `physical network ${physnet} is in use.`,
              );
        }
        if (attempt > 5) throw e; // lost the race for an auto-allocated id too often
      }
    }
  }

  async update(a: AuthContext, id: string, body: Obj): Promise<Network> {
    const n = await this.get(a, id);
    if (!owns(a, n.project_id))
      throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:update_network is disallowed by policy');
    onlyKnown(body, KNOWN, 'network');
    adminOnly(a, body, ['router:external', 'shared', 'is_default', ...PROVIDER], 'update_network');
    if (PROVIDER.some((k) => body[k] !== undefined))
      throw nerr(
        'BadRequest',
        'InvalidInput',
        'Invalid input for operation: Plugin does not support updating provider attributes.',
      );
    if (body.tenant_id !== undefined || body.project_id !== undefined) {
      if ((body.project_id ?? body.tenant_id) !== n.project_id)
        throw badInput('Cannot update read-only attribute project_id');
    }
    const set: Partial<Network> = {};
    const name = str(body, 'name');
    if (name !== undefined) set.name = name;
    const desc = str(body, 'description');
    if (desc !== undefined) set.description = desc;
    const up = boolOf(body, 'admin_state_up');
    if (up !== undefined) set.admin_state_up = bool(up);
    const shared = boolOf(body, 'shared');
    if (shared !== undefined) {
      if (!shared && n.shared) {
        const foreign = await this.d.db
          .selectFrom('net_ports')
          .select('id')
          .where('network_id', '=', id)
          .where('project_id', '!=', n.project_id)
          .where('device_owner', 'not like', 'network:%')
          .executeTakeFirst();
        if (foreign)
          throw nerr(
            'Conflict',
            'InvalidSharedSetting',
            `Unable to reconfigure sharing settings for network ${id}. Multiple tenants are using it.`,
          );
      }
      set.shared = bool(shared);
    }
    const ext = boolOf(body, 'router:external');
    if (ext !== undefined) {
      if (!ext && n.router_external) {
        const gw = await this.d.db
          .selectFrom('net_ports')
          .select('id')
          .where('network_id', '=', id)
          .where('device_owner', 'in', ['network:router_gateway', 'network:floatingip'])
          .executeTakeFirst();
        if (gw)
          throw nerr(
            'Conflict',
            'ExternalNetworkInUse',
            `External network ${id} cannot be updated to be made non-external, since it has existing gateway ports.`,
          );
      }
      set.router_external = bool(ext);
    }
    const def = boolOf(body, 'is_default');
    if (def !== undefined) set.is_default = bool(def);
    const ps = boolOf(body, 'port_security_enabled');
    if (ps !== undefined) set.port_security_enabled = bool(ps);
    const mtu = intOf(body, 'mtu', 68, 65535);
    if (mtu !== undefined) {
      if (mtu > this.mtuFor(n.network_type))
        throw badInput(`Requested MTU is too big, maximum is ${this.mtuFor(n.network_type)}`);
      set.mtu = mtu;
    }
    const dns = str(body, 'dns_domain');
    if (dns !== undefined) set.dns_domain = dns;
    if (body.availability_zone_hints !== undefined) throw badInput('availability_zone_hints cannot be updated.');
    await this.d.db
      .updateTable('net_networks')
      .set({ ...set, updated_at: now(), revision_number: n.revision_number + 1 })
      .where('id', '=', id)
      .execute();
    return (await this.find(id))!;
  }

  /** Deletes a network and its subnets; any port except DHCP ports makes it 409 NetworkInUse. */
  async delete(
    a: AuthContext,
    id: string,
    onDeleted: (db: Db, subnetIds: string[]) => Promise<void>,
  ): Promise<Network> {
    const n = await this.get(a, id);
    if (!owns(a, n.project_id))
      throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:delete_network is disallowed by policy');
    return inTransaction(this.d.db, async (trx) => {
      // Unassociated floating IPs go with their external network; associated ones (and everything else) keep it.
      const fips = await trx
        .selectFrom('net_floating_ips')
        .select(['id', 'floating_port_id', 'port_id'])
        .where('floating_network_id', '=', id)
        .execute();
      const freeFips = fips.filter((f) => f.port_id === null && !f.port_id);
      const pf = freeFips.length
        ? await trx
            .selectFrom('net_port_forwardings')
            .select('floatingip_id')
            .where(
              'floatingip_id',
              'in',
              freeFips.map((f) => f.id),
            )
            .execute()
        : [];
      const removable = freeFips.filter((f) => !pf.some((x) => x.floatingip_id === f.id));
      const inUse = await trx
        .selectFrom('net_ports')
        .select('id')
        .where('network_id', '=', id)
        .where('device_owner', '!=', 'network:dhcp')
        .where('id', 'not in', removable.length ? removable.map((f) => f.floating_port_id) : [''])
        .executeTakeFirst();
      if (!inUse && removable.length) {
        await trx
          .deleteFrom('net_floating_ips')
          .where(
            'id',
            'in',
            removable.map((f) => f.id),
          )
          .execute();
        await trx
          .deleteFrom('net_tags')
          .where(
            'resource_id',
            'in',
            removable.map((f) => f.id),
          )
          .execute();
        await trx
          .deleteFrom('net_ip_allocations')
          .where(
            'port_id',
            'in',
            removable.map((f) => f.floating_port_id),
          )
          .execute();
        await trx
          .deleteFrom('net_ports')
          .where(
            'id',
            'in',
            removable.map((f) => f.floating_port_id),
          )
          .execute();
      }
      if (inUse)
        throw nerr(
          'Conflict',
          'NetworkInUse',
          `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`,
        );
      const subnets = (await trx.selectFrom('net_subnets').select('id').where('network_id', '=', id).execute()).map(
        (s) => s.id,
      );
      const dhcp = (await trx.selectFrom('net_ports').select('id').where('network_id', '=', id).execute()).map(
        (p) => p.id,
      );
      if (dhcp.length) {
        await trx.deleteFrom('net_ip_allocations').where('port_id', 'in', dhcp).execute();
        await trx.deleteFrom('net_ports').where('id', 'in', dhcp).execute();
      }
      await onDeleted(trx, subnets);
      await trx.deleteFrom('net_subnets').where('network_id', '=', id).execute();
      await this.tags.removeAll(id, trx);
      await trx.deleteFrom('net_networks').where('id', '=', id).execute();
      return n;
    });
  }
}

function badInputThrow(message: string): never {
  throw badInput(message);
}
