// Neutron ports: the rows and their life (create, update, delete, views), MAC generation, security-group links.
// What a request body means is parsed in port-spec.ts; which addresses a port gets is decided in port-ips.ts.
import { randomBytes } from 'node:crypto';
import type { AuthContext } from '../auth-context.js';
import type { NetPortRow } from '../../store/network-tables.js';
import { bool, inTransaction } from '../../store/database.js';
import { uuid } from '../../util/ids.js';
import type { NetworkDeps, Db, Obj } from './common.js';
import {
  admin,
  adminOnly,
  badInput,
  j,
  nerr,
  now,
  onlyKnown,
  ownerFor,
  owns,
  projectOf,
  standardView,
} from './common.js';
import type { Tags } from './tags.js';
import type { Quotas } from './quotas.js';
import type { Networks } from './networks.js';
import type { Ipam } from './ipam.js';
import type { SecurityGroups } from './security-groups.js';
import { formatIp, tryParseIp } from './ipaddr.js';
import { PORT_KEYS, mergeDhcpOpts, parsePortAttributes, type FixedIpRequest, type PortSpec } from './port-spec.js';
import { allocatePortIps } from './port-ips.js';

export type { FixedIpRequest, PortSpec } from './port-spec.js';

export type Port = NetPortRow;

/** Ports the service owns; they cannot be deleted through the port API. */
const SERVICE_OWNERS = [
  'network:router_interface',
  'network:router_gateway',
  'network:floatingip',
  'network:router_interface_distributed',
  'network:ha_router_replicated_interface',
];

export const portNotFound = (id: string) => nerr('NotFound', 'PortNotFound', `Port ${id} could not be found.`);

/** Ports: MAC, fixed IPs (through IPAM), security groups, address pairs, DHCP options and host binding. */
export class Ports {
  constructor(
    private readonly d: NetworkDeps,
    private readonly tags: Tags,
    private readonly quotas: Quotas,
    private readonly networks: Networks,
    private readonly ipam: Ipam,
    private readonly groups: SecurityGroups,
  ) {}

  async find(id: string, db: Db = this.d.db): Promise<Port | undefined> {
    return db.selectFrom('net_ports').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The port if the caller may see it: its project, or the network's owner, or admin. */
  async get(a: AuthContext, id: string, db: Db = this.d.db): Promise<Port> {
    const p = await this.find(id, db);
    if (!p) throw portNotFound(id);
    if (!owns(a, p.project_id)) {
      const n = await this.networks.find(p.network_id, db);
      if (!n || !owns(a, n.project_id)) throw portNotFound(id);
    }
    return p;
  }

  async views(a: AuthContext, rows: Port[], db: Db = this.d.db): Promise<Obj[]> {
    const ids = rows.map((r) => r.id);
    const tags = await this.tags.forIds(ids, db);
    const ips = new Map<string, { subnet_id: string; ip_address: string; ip_key: string }[]>();
    const sgs = new Map<string, string[]>();
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      for (const r of await db
        .selectFrom('net_ip_allocations')
        .select(['port_id', 'subnet_id', 'ip_address', 'ip_key'])
        .where('port_id', 'in', part)
        .execute()) {
        ips.set(r.port_id, [...(ips.get(r.port_id) ?? []), r]);
      }
      for (const r of await db
        .selectFrom('net_port_security_groups')
        .selectAll()
        .where('port_id', 'in', part)
        .execute()) {
        sgs.set(r.port_id, [...(sgs.get(r.port_id) ?? []), r.security_group_id]);
      }
    }
    return rows.map((p) => {
      const fixed = (ips.get(p.id) ?? [])
        .sort((x, y) => (x.subnet_id === y.subnet_id ? (x.ip_key < y.ip_key ? -1 : 1) : 0))
        .map((r) => ({ subnet_id: r.subnet_id, ip_address: r.ip_address }));
      const v: Obj = {
        ...standardView(p, tags.get(p.id) ?? []),
        network_id: p.network_id,
        mac_address: p.mac_address,
        admin_state_up: !!p.admin_state_up,
        status: p.status,
        device_id: p.device_id,
        device_owner: p.device_owner,
        fixed_ips: fixed,
        allowed_address_pairs: j(p.allowed_address_pairs, []),
        extra_dhcp_opts: j(p.extra_dhcp_opts, []),
        security_groups: (sgs.get(p.id) ?? []).sort(),
        port_security_enabled: !!p.port_security_enabled,
        'binding:vnic_type': p.binding_vnic_type,
        dns_name: p.dns_name,
        ip_allocation: 'immediate',
        propagate_uplink_status: !!p.propagate_uplink_status,
        qos_policy_id: null,
        qos_network_policy_id: null,
        resource_request: null,
      };
      if (admin(a)) {
        v['binding:host_id'] = p.binding_host_id;
        v['binding:profile'] = j(p.binding_profile, {});
        v['binding:vif_type'] = p.binding_vif_type;
        v['binding:vif_details'] = j(p.binding_vif_details, {});
      }
      return v;
    });
  }

  async list(
    a: AuthContext,
    filter: { networkId?: string; deviceId?: string; deviceOwner?: string; ids?: string[] } = {},
  ): Promise<Port[]> {
    let q = this.d.db.selectFrom('net_ports').selectAll('net_ports');
    if (filter.networkId) q = q.where('net_ports.network_id', '=', filter.networkId);
    if (filter.deviceId !== undefined) q = q.where('net_ports.device_id', '=', filter.deviceId);
    if (filter.deviceOwner !== undefined) q = q.where('net_ports.device_owner', '=', filter.deviceOwner);
    if (filter.ids) q = q.where('net_ports.id', 'in', filter.ids.length ? filter.ids : ['']);
    if (!admin(a)) {
      const p = projectOf(a);
      q = q
        .innerJoin('net_networks', 'net_networks.id', 'net_ports.network_id')
        .where((eb) => eb.or([eb('net_ports.project_id', '=', p), eb('net_networks.project_id', '=', p)]));
    }
    return q.orderBy('net_ports.created_at').orderBy('net_ports.id').execute();
  }

  /** A random MAC on the configured base (the base's non-zero bytes after the OUI are kept). */
  private randomMac(): string {
    const base = this.d.options.baseMac.split(':').map((x) => parseInt(x, 16));
    const rnd = randomBytes(6);
    return base
      .map((b, i) => (i < 3 || b !== 0 ? b : rnd[i]!))
      .map((b) => b.toString(16).padStart(2, '0'))
      .join(':');
  }

  private async setGroups(db: Db, portId: string, groups: string[]): Promise<void> {
    await db.deleteFrom('net_port_security_groups').where('port_id', '=', portId).execute();
    if (groups.length)
      await db
        .insertInto('net_port_security_groups')
        .values(groups.map((g) => ({ port_id: portId, security_group_id: g })))
        .execute();
  }

  /** Inserts a fully authorized port with its IPs and groups in the caller's transaction. */
  async insert(db: Db, spec: PortSpec): Promise<Port> {
    const id = uuid();
    const t = now();
    const portSecurity = spec.portSecurity ?? !!spec.network.port_security_enabled;
    const owner = spec.deviceOwner ?? '';
    let groups = spec.securityGroups;
    if (groups === undefined && portSecurity && !owner.startsWith('network:') && spec.project) {
      // The caller made sure the default group exists before opening the transaction (see create()).
      const def = await this.groups.defaultId(spec.project, db);
      groups = def ? [def] : [];
    }
    groups ??= [];
    if (groups.length && !portSecurity) {
      throw badInput('Port security must be enabled and port must have an IP address in order to use security groups.');
    }
    if ((spec.allowedAddressPairs ?? []).length && !portSecurity) {
      throw nerr(
        'Conflict',
        'AddressPairAndPortSecurityRequired',
        'Port Security must be enabled in order to have allowed address pairs on a port.',
      );
    }
    const host = spec.bindingHostId ?? '';
    const row: Port = {
      id,
      project_id: spec.project,
      name: spec.name ?? '',
      description: spec.description ?? '',
      created_at: t,
      updated_at: t,
      revision_number: 1,
      network_id: spec.network.id,
      mac_address: spec.mac ?? this.randomMac(),
      admin_state_up: bool(spec.adminStateUp ?? true),
      status: (host && !this.d.driverSetsPortStatus) || owner.startsWith('network:') ? 'ACTIVE' : 'DOWN',
      device_id: spec.deviceId ?? '',
      device_owner: owner,
      port_security_enabled: bool(portSecurity),
      binding_host_id: host,
      binding_vif_type: host ? 'bridge' : 'unbound',
      binding_vnic_type: spec.vnicType ?? 'normal',
      binding_profile: JSON.stringify(spec.bindingProfile ?? {}),
      binding_vif_details: JSON.stringify(host ? { port_filter: true, connectivity: 'l2' } : {}),
      allowed_address_pairs: JSON.stringify(spec.allowedAddressPairs ?? []),
      extra_dhcp_opts: JSON.stringify(spec.extraDhcpOpts ?? []),
      dns_name: spec.dnsName ?? '',
      propagate_uplink_status: 0,
    };
    for (let attempt = 0; ; attempt++) {
      const inserted = await db
        .insertInto('net_ports')
        .values(row)
        .onConflict((oc) => oc.columns(['network_id', 'mac_address']).doNothing())
        .returning('id')
        .execute();
      if (inserted.length) break;
      if (spec.mac)
        throw nerr(
          'Conflict',
          'MacAddressInUse',
          `Unable to complete operation for network ${spec.network.id}. The mac address ${spec.mac} is in use.`,
        );
      if (attempt > 16)
        throw nerr(
          'ServiceUnavailable',
          'MacAddressGenerationFailure',
          `Unable to generate unique mac on network ${spec.network.id}.`,
        );
      row.mac_address = this.randomMac();
    }
    await allocatePortIps(this.ipam, db, spec, id, row.mac_address);
    await this.setGroups(db, id, groups);
    return row;
  }

  async create(a: AuthContext, body: Obj): Promise<Port> {
    onlyKnown(body, PORT_KEYS, 'port');
    adminOnly(a, body, ['binding:host_id', 'binding:profile', 'status'], 'create_port');
    if (typeof body.network_id !== 'string') throw badInput("'network_id' is required.");
    const network = await this.networks.get(a, body.network_id);
    if (!owns(a, network.project_id) && !network.shared)
      throw nerr('NotFound', 'NetworkNotFound', `Network ${network.id} could not be found.`);
    const project = ownerFor(a, body);
    if (body.mac_address !== undefined && !owns(a, network.project_id)) {
      throw nerr(
        'Forbidden',
        'PolicyNotAuthorized',
        '(rule:create_port and rule:create_port:mac_address) is disallowed by policy',
      );
    }
    if (body.security_groups === undefined) await this.groups.ensureDefault(project);
    return inTransaction(this.d.db, async (trx) => {
      await this.quotas.check(trx, project, 'port');
      const parsed = await parsePortAttributes(a, body, network, project, trx);
      return this.insert(trx, { project, network, ...parsed });
    });
  }

  async update(a: AuthContext, id: string, body: Obj): Promise<{ port: Port; bound: boolean }> {
    const p = await this.get(a, id);
    onlyKnown(body, PORT_KEYS, 'port');
    adminOnly(a, body, ['binding:host_id', 'binding:profile', 'status'], 'update_port');
    if (body.network_id !== undefined && body.network_id !== p.network_id)
      throw badInput('Cannot update read-only attribute network_id');
    if ((body.project_id ?? body.tenant_id) !== undefined && (body.project_id ?? body.tenant_id) !== p.project_id)
      throw badInput('Cannot update read-only attribute project_id');
    const network = (await this.networks.find(p.network_id))!;
    if (body.mac_address !== undefined && !admin(a))
      throw nerr(
        'Forbidden',
        'PolicyNotAuthorized',
        '(rule:update_port and rule:update_port:mac_address) is disallowed by policy',
      );
    let bound = false;
    const port = await inTransaction(this.d.db, async (trx) => {
      const parsed = await parsePortAttributes(a, body, network, p.project_id, trx);
      const set: Partial<Port> = {};
      if (parsed.name !== undefined) set.name = parsed.name;
      if (parsed.description !== undefined) set.description = parsed.description;
      if (parsed.adminStateUp !== undefined) set.admin_state_up = bool(parsed.adminStateUp);
      if (parsed.deviceId !== undefined) set.device_id = parsed.deviceId;
      if (parsed.deviceOwner !== undefined) set.device_owner = parsed.deviceOwner;
      if (parsed.dnsName !== undefined) set.dns_name = parsed.dnsName;
      if (parsed.vnicType !== undefined) set.binding_vnic_type = parsed.vnicType;
      if (parsed.bindingProfile !== undefined) set.binding_profile = JSON.stringify(parsed.bindingProfile);
      if (parsed.extraDhcpOpts !== undefined)
        set.extra_dhcp_opts = JSON.stringify(mergeDhcpOpts(j(p.extra_dhcp_opts, []), parsed.extraDhcpOpts));
      if (parsed.bindingHostId !== undefined) {
        set.binding_host_id = parsed.bindingHostId;
        set.binding_vif_type = parsed.bindingHostId ? 'bridge' : 'unbound';
        set.binding_vif_details = JSON.stringify(parsed.bindingHostId ? { port_filter: true, connectivity: 'l2' } : {});
        // With a real data plane the port goes ACTIVE when the driver has wired it, not when it is bound.
        set.status = parsed.bindingHostId && !this.d.driverSetsPortStatus ? 'ACTIVE' : 'DOWN';
        bound = !!parsed.bindingHostId && parsed.bindingHostId !== p.binding_host_id;
      }
      if (parsed.mac !== undefined && parsed.mac !== p.mac_address) {
        if (p.binding_host_id && p.device_owner.startsWith('compute:'))
          throw nerr('Conflict', 'PortBound', `Unable to complete operation on port ${id}, port is already bound.`);
        const clash = await trx
          .selectFrom('net_ports')
          .select('id')
          .where('network_id', '=', p.network_id)
          .where('mac_address', '=', parsed.mac)
          .executeTakeFirst();
        if (clash)
          throw nerr(
            'Conflict',
            'MacAddressInUse',
            `Unable to complete operation for network ${p.network_id}. The mac address ${parsed.mac} is in use.`,
          );
        set.mac_address = parsed.mac;
      }
      const portSecurity = parsed.portSecurity ?? !!p.port_security_enabled;
      set.port_security_enabled = bool(portSecurity);
      const currentGroups = (
        await trx.selectFrom('net_port_security_groups').select('security_group_id').where('port_id', '=', id).execute()
      ).map((r) => r.security_group_id);
      const groups = parsed.securityGroups ?? currentGroups;
      const pairs = parsed.allowedAddressPairs ?? j<Obj[]>(p.allowed_address_pairs, []);
      if (!portSecurity && groups.length) {
        throw nerr(
          'Conflict',
          'PortSecurityPortHasSecurityGroup',
          'Port has security group associated. Cannot disable port security or ip address until security group is ' +
            'removed',
        );
      }
      if (!portSecurity && pairs.length)
        throw nerr(
          'Conflict',
          'AddressPairAndPortSecurityRequired',
          'Port Security must be enabled in order to have allowed address pairs on a port.',
        );
      if (parsed.allowedAddressPairs !== undefined) set.allowed_address_pairs = JSON.stringify(pairs);
      if (parsed.securityGroups !== undefined) await this.setGroups(trx, id, groups);
      if (parsed.fixedIps !== undefined) {
        // Keep the addresses asked for again, release the rest, allocate the new ones.
        const current = await trx.selectFrom('net_ip_allocations').selectAll().where('port_id', '=', id).execute();
        const keep = new Set<string>();
        const fresh: FixedIpRequest[] = [];
        for (const f of parsed.fixedIps) {
          const hit =
            f.ip_address !== undefined
              ? current.find(
                  (c) =>
                    c.ip_address === formatIp(tryParseIp(f.ip_address)!.version, tryParseIp(f.ip_address)!.value) &&
                    (!f.subnet_id || c.subnet_id === f.subnet_id),
                )
              : undefined;
          if (hit) keep.add(`${hit.subnet_id}|${hit.ip_key}`);
          else fresh.push(f);
        }
        for (const c of current) {
          if (!keep.has(`${c.subnet_id}|${c.ip_key}`)) {
            await trx
              .deleteFrom('net_ip_allocations')
              .where('subnet_id', '=', c.subnet_id)
              .where('ip_key', '=', c.ip_key)
              .execute();
          }
        }
        await allocatePortIps(
          this.ipam,
          trx,
          { project: p.project_id, network, fixedIps: fresh, deviceOwner: set.device_owner ?? p.device_owner },
          id,
          set.mac_address ?? p.mac_address,
        );
      }
      await trx
        .updateTable('net_ports')
        .set({ ...set, updated_at: now(), revision_number: p.revision_number + 1 })
        .where('id', '=', id)
        .execute();
      return (await this.find(id, trx))!;
    });
    return { port, bound };
  }

  /** Deletes a port (not a router's or floating IP's: 409); floating IPs on it are disassociated. */
  async delete(a: AuthContext, id: string, opts: { force?: boolean } = {}): Promise<Port> {
    const p = await this.get(a, id);
    if (!opts.force && SERVICE_OWNERS.includes(p.device_owner)) {
      throw nerr(
        'Conflict',
        'ServicePortInUse',
        `Port ${id} cannot be deleted directly via the port API: has device owner ${p.device_owner}.`,
      );
    }
    await inTransaction(this.d.db, (trx) => this.remove(trx, id));
    return p;
  }

  /** Removes a port and everything hanging off it, in the caller's transaction. */
  async remove(db: Db, id: string): Promise<void> {
    await db
      .updateTable('net_floating_ips')
      .set({ port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', updated_at: now() })
      .where('port_id', '=', id)
      .execute();
    await db.deleteFrom('net_port_forwardings').where('internal_port_id', '=', id).execute();
    await this.ipam.releasePort(db, id);
    await db.deleteFrom('net_port_security_groups').where('port_id', '=', id).execute();
    await this.tags.removeAll(id, db);
    await db.deleteFrom('net_ports').where('id', '=', id).execute();
  }

  /** The port's fixed IPs. */
  async fixedIps(db: Db, portId: string): Promise<{ subnet_id: string; ip_address: string }[]> {
    return db
      .selectFrom('net_ip_allocations')
      .select(['subnet_id', 'ip_address'])
      .where('port_id', '=', portId)
      .orderBy('ip_key')
      .execute();
  }

  /** Admin or owner check for writes on a port (readers of a shared network cannot change others' ports). */
  canWrite(a: AuthContext, p: Port): boolean {
    return owns(a, p.project_id);
  }

  /** The project a port created by `a` with `body` would belong to. */
  ownerOf(a: AuthContext, body: Obj): string {
    return ownerFor(a, body);
  }
}
