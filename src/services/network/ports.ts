import { randomBytes } from 'node:crypto';
import type { AuthContext } from '../auth-context.js';
import type { NetPortRow } from '../../store/network-tables.js';
import { bool, inTransaction } from '../../store/database.js';
import { uuid } from '../../util/ids.js';
import type { NetworkDeps, Db, Obj } from './common.js';
import { admin, adminOnly, badInput, boolOf, j, listOf, nerr, now, onlyKnown, ownerFor, owns, projectOf, standardView, str } from './common.js';
import type { Tags } from './tags.js';
import type { Quotas } from './quotas.js';
import type { Network, Networks } from './networks.js';
import { isAutoAddress, type Subnet } from './subnets.js';
import type { Ipam } from './ipam.js';
import type { SecurityGroups } from './security-groups.js';
import { contains, eui64, formatIp, normalizeMac, parseCidr, tryParseCidr, tryParseIp } from './ipaddr.js';

export type Port = NetPortRow;

const KNOWN = ['name', 'description', 'network_id', 'admin_state_up', 'mac_address', 'fixed_ips', 'device_id', 'device_owner',
  'security_groups', 'allowed_address_pairs', 'port_security_enabled', 'binding:host_id', 'binding:profile', 'binding:vnic_type',
  'extra_dhcp_opts', 'tenant_id', 'project_id', 'dns_name', 'qos_policy_id', 'propagate_uplink_status', 'tags', 'status'] as const;
const VNIC_TYPES = ['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'vdpa', 'remote-managed'];
/** Ports the service owns; they cannot be deleted through the port API. */
const SERVICE_OWNERS = ['network:router_interface', 'network:router_gateway', 'network:floatingip', 'network:router_interface_distributed', 'network:ha_router_replicated_interface'];

export const portNotFound = (id: string) => nerr('NotFound', 'PortNotFound', `Port ${id} could not be found.`);

/** A fixed IP request: a subnet, an address, or both. */
export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}

/** A port to insert, already authorized: used by the port API, routers, floating IPs and Nova. */
export interface PortSpec {
  project: string;
  network: Network;
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  mac?: string;
  /** undefined = automatic (one address per IPv4 / stateful IPv6 subnet, EUI-64 on SLAAC subnets); [] = none. */
  fixedIps?: FixedIpRequest[];
  deviceId?: string;
  deviceOwner?: string;
  /** undefined = the project's default group (for compute ports with port security on). */
  securityGroups?: string[];
  portSecurity?: boolean;
  allowedAddressPairs?: Obj[];
  extraDhcpOpts?: Obj[];
  bindingHostId?: string;
  bindingProfile?: Obj;
  vnicType?: string;
  dnsName?: string;
}

/** Ports: MAC, fixed IPs (through IPAM), security groups, address pairs, DHCP options and host binding. */
export class Ports {
  constructor(
    private readonly d: NetworkDeps, private readonly tags: Tags, private readonly quotas: Quotas, private readonly networks: Networks,
    private readonly ipam: Ipam, private readonly groups: SecurityGroups,
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
      for (const r of await db.selectFrom('net_ip_allocations').select(['port_id', 'subnet_id', 'ip_address', 'ip_key']).where('port_id', 'in', part).execute()) {
        ips.set(r.port_id, [...(ips.get(r.port_id) ?? []), r]);
      }
      for (const r of await db.selectFrom('net_port_security_groups').selectAll().where('port_id', 'in', part).execute()) {
        sgs.set(r.port_id, [...(sgs.get(r.port_id) ?? []), r.security_group_id]);
      }
    }
    return rows.map((p) => {
      const fixed = (ips.get(p.id) ?? []).sort((x, y) => (x.subnet_id === y.subnet_id ? (x.ip_key < y.ip_key ? -1 : 1) : 0))
        .map((r) => ({ subnet_id: r.subnet_id, ip_address: r.ip_address }));
      const v: Obj = {
        ...standardView(p, tags.get(p.id) ?? []), network_id: p.network_id, mac_address: p.mac_address,
        admin_state_up: !!p.admin_state_up, status: p.status, device_id: p.device_id, device_owner: p.device_owner, fixed_ips: fixed,
        allowed_address_pairs: j(p.allowed_address_pairs, []), extra_dhcp_opts: j(p.extra_dhcp_opts, []),
        security_groups: (sgs.get(p.id) ?? []).sort(), port_security_enabled: !!p.port_security_enabled,
        'binding:vnic_type': p.binding_vnic_type, dns_name: p.dns_name, ip_allocation: 'immediate',
        propagate_uplink_status: !!p.propagate_uplink_status, qos_policy_id: null, qos_network_policy_id: null, resource_request: null,
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

  async list(a: AuthContext, filter: { networkId?: string; deviceId?: string; deviceOwner?: string; ids?: string[] } = {}): Promise<Port[]> {
    let q = this.d.db.selectFrom('net_ports').selectAll('net_ports');
    if (filter.networkId) q = q.where('net_ports.network_id', '=', filter.networkId);
    if (filter.deviceId !== undefined) q = q.where('net_ports.device_id', '=', filter.deviceId);
    if (filter.deviceOwner !== undefined) q = q.where('net_ports.device_owner', '=', filter.deviceOwner);
    if (filter.ids) q = q.where('net_ports.id', 'in', filter.ids.length ? filter.ids : ['']);
    if (!admin(a)) {
      const p = projectOf(a);
      q = q.innerJoin('net_networks', 'net_networks.id', 'net_ports.network_id')
        .where((eb) => eb.or([eb('net_ports.project_id', '=', p), eb('net_networks.project_id', '=', p)]));
    }
    return q.orderBy('net_ports.created_at').orderBy('net_ports.id').execute();
  }

  /** A random MAC on the configured base (the base's non-zero bytes after the OUI are kept). */
  private randomMac(): string {
    const base = this.d.options.baseMac.split(':').map((x) => parseInt(x, 16));
    const rnd = randomBytes(6);
    return base.map((b, i) => (i < 3 || b !== 0 ? b : rnd[i]!)).map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  private async subnetsOf(db: Db, networkId: string): Promise<Subnet[]> {
    return db.selectFrom('net_subnets').selectAll().where('network_id', '=', networkId).orderBy('created_at').orderBy('id').execute();
  }

  /** Resolves and allocates the fixed IPs of a port inside the transaction. */
  private async allocateIps(db: Db, spec: PortSpec, portId: string, mac: string): Promise<void> {
    const subnets = await this.subnetsOf(db, spec.network.id);
    const isRouter = (spec.deviceOwner ?? '').startsWith('network:router');
    if (spec.fixedIps === undefined) {
      for (const version of [4, 6]) {
        const stateful = subnets.filter((s) => s.ip_version === version && !isAutoAddress(s));
        let last: unknown;
        for (const s of stateful) {
          try {
            await this.ipam.allocate(db, s, portId);
            last = null;
            break;
          } catch (e) {
            last = e;
          }
        }
        if (last) throw last;
      }
      if (!isRouter) {
        for (const s of subnets.filter(isAutoAddress)) {
          await this.ipam.allocateSpecific(db, s, formatIp(6, eui64(parseCidr(s.cidr), mac)), portId);
        }
      }
      return;
    }
    for (const req of spec.fixedIps) {
      let subnet: Subnet | undefined;
      if (req.subnet_id !== undefined) {
        subnet = subnets.find((s) => s.id === req.subnet_id);
        if (!subnet) {
          const exists = await db.selectFrom('net_subnets').select('id').where('id', '=', req.subnet_id).executeTakeFirst();
          if (!exists) throw nerr('NotFound', 'SubnetNotFound', `Subnet ${req.subnet_id} could not be found.`);
          throw badInput(`Failed to create port on network ${spec.network.id}, because fixed_ips included invalid subnet ${req.subnet_id}.`);
        }
      }
      if (req.ip_address !== undefined) {
        const ip = tryParseIp(req.ip_address);
        if (!ip) throw badInput(`'${req.ip_address}' is not a valid IP address.`);
        if (subnet) {
          if (!contains(parseCidr(subnet.cidr), ip.value) || ip.version !== subnet.ip_version) {
            throw nerr('BadRequest', 'InvalidIpForSubnet', `IP address ${req.ip_address} is not a valid IP for the specified subnet.`);
          }
        } else {
          subnet = subnets.find((s) => s.ip_version === ip.version && contains(parseCidr(s.cidr), ip.value));
          if (!subnet) throw nerr('BadRequest', 'InvalidIpForNetwork', `IP address ${req.ip_address} is not a valid IP for any of the subnets on the specified network.`);
        }
        if (isAutoAddress(subnet) && !isRouter) {
          throw badInput(`IPv6 address ${req.ip_address} cannot be directly assigned to a port on subnet ${subnet.id} since the subnet is configured for automatic addresses`);
        }
        await this.ipam.allocateSpecific(db, subnet, req.ip_address, portId);
      } else if (subnet) {
        if (isAutoAddress(subnet) && !isRouter) await this.ipam.allocateSpecific(db, subnet, formatIp(6, eui64(parseCidr(subnet.cidr), mac)), portId);
        else await this.ipam.allocate(db, subnet, portId);
      } else {
        throw badInput('Each fixed_ips entry needs a subnet_id or an ip_address.');
      }
    }
  }

  private async setGroups(db: Db, portId: string, groups: string[]): Promise<void> {
    await db.deleteFrom('net_port_security_groups').where('port_id', '=', portId).execute();
    if (groups.length) await db.insertInto('net_port_security_groups').values(groups.map((g) => ({ port_id: portId, security_group_id: g }))).execute();
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
      throw nerr('Conflict', 'AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
    }
    const host = spec.bindingHostId ?? '';
    const row: Port = {
      id, project_id: spec.project, name: spec.name ?? '', description: spec.description ?? '', created_at: t, updated_at: t,
      revision_number: 1, network_id: spec.network.id, mac_address: spec.mac ?? this.randomMac(),
      admin_state_up: bool(spec.adminStateUp ?? true), status: (host && !this.d.driverSetsPortStatus) || owner.startsWith('network:') ? 'ACTIVE' : 'DOWN',
      device_id: spec.deviceId ?? '', device_owner: owner, port_security_enabled: bool(portSecurity), binding_host_id: host,
      binding_vif_type: host ? 'bridge' : 'unbound', binding_vnic_type: spec.vnicType ?? 'normal',
      binding_profile: JSON.stringify(spec.bindingProfile ?? {}), binding_vif_details: JSON.stringify(host ? { port_filter: true, connectivity: 'l2' } : {}),
      allowed_address_pairs: JSON.stringify(spec.allowedAddressPairs ?? []), extra_dhcp_opts: JSON.stringify(spec.extraDhcpOpts ?? []),
      dns_name: spec.dnsName ?? '', propagate_uplink_status: 0,
    };
    for (let attempt = 0; ; attempt++) {
      const inserted = await db.insertInto('net_ports').values(row)
        .onConflict((oc) => oc.columns(['network_id', 'mac_address']).doNothing()).returning('id').execute();
      if (inserted.length) break;
      if (spec.mac) throw nerr('Conflict', 'MacAddressInUse', `Unable to complete operation for network ${spec.network.id}. The mac address ${spec.mac} is in use.`);
      if (attempt > 16) throw nerr('ServiceUnavailable', 'MacAddressGenerationFailure', `Unable to generate unique mac on network ${spec.network.id}.`);
      row.mac_address = this.randomMac();
    }
    await this.allocateIps(db, spec, id, row.mac_address);
    await this.setGroups(db, id, groups);
    return row;
  }

  /** Parses the user-settable attributes shared by create and update. */
  private async parseCommon(a: AuthContext, body: Obj, network: Network, project: string, db: Db): Promise<Partial<PortSpec>> {
    const out: Partial<PortSpec> = {};
    if (body.mac_address !== undefined) {
      const mac = normalizeMac(body.mac_address);
      if (!mac) throw badInput(`'${String(body.mac_address)}' is not a valid MAC address.`);
      out.mac = mac;
    }
    if (body.fixed_ips !== undefined) {
      out.fixedIps = (listOf(body, 'fixed_ips') ?? []).map((f) => {
        if (!f || typeof f !== 'object' || Array.isArray(f)) throw badInput(`Invalid data format for fixed IP: '${JSON.stringify(f)}'.`);
        const o = f as Obj;
        for (const k of Object.keys(o)) if (k !== 'subnet_id' && k !== 'ip_address') throw badInput(`Unrecognized fixed IP key '${k}'.`);
        if (o.ip_address !== undefined && !tryParseIp(o.ip_address)) throw badInput(`'${String(o.ip_address)}' is not a valid IP address.`);
        if (o.ip_address !== undefined && !owns(a, network.project_id)) {
          throw nerr('Forbidden', 'PolicyNotAuthorized', '(rule:create_port and rule:create_port:fixed_ips:ip_address) is disallowed by policy');
        }
        return { ...(o.subnet_id !== undefined ? { subnet_id: String(o.subnet_id) } : {}), ...(o.ip_address !== undefined ? { ip_address: String(o.ip_address) } : {}) };
      });
    }
    if (body.security_groups !== undefined) {
      const ids = [...new Set((listOf(body, 'security_groups') ?? []).map(String))];
      for (const g of ids) {
        const row = await db.selectFrom('net_security_groups').select(['id', 'project_id']).where('id', '=', g).executeTakeFirst();
        if (!row || (row.project_id !== project && !admin(a))) throw nerr('NotFound', 'SecurityGroupNotFound', `Security group ${g} does not exist`);
      }
      out.securityGroups = ids;
    }
    if (body.allowed_address_pairs !== undefined) {
      const pairs = (listOf(body, 'allowed_address_pairs') ?? []).map((p) => {
        const o = (p ?? {}) as Obj;
        if (typeof p !== 'object' || Object.keys(o).some((k) => k !== 'ip_address' && k !== 'mac_address')) throw badInput(`'${JSON.stringify(p)}' is not a valid address pair.`);
        const c = tryParseCidr(o.ip_address);
        if (!c) throw badInput(`'${String(o.ip_address)}' is not a valid IP address or CIDR for allowed_address_pairs.`);
        const mac = o.mac_address === undefined ? undefined : normalizeMac(o.mac_address);
        if (mac === null) throw badInput(`'${String(o.mac_address)}' is not a valid MAC address.`);
        return { ip_address: String(o.ip_address), mac_address: mac };
      });
      const keys = pairs.map((p) => `${p.ip_address}|${p.mac_address ?? ''}`);
      if (new Set(keys).size !== keys.length) throw nerr('BadRequest', 'DuplicateAddressPairInRequest', 'Request contains duplicate address pair.');
      if (pairs.length > 10) throw nerr('BadRequest', 'AllowedAddressPairExhausted', 'The number of allowed address pair exceeds the maximum 10.');
      out.allowedAddressPairs = pairs;
    }
    if (body.extra_dhcp_opts !== undefined) {
      out.extraDhcpOpts = (listOf(body, 'extra_dhcp_opts') ?? []).map((o) => {
        const x = (o ?? {}) as Obj;
        if (typeof o !== 'object' || typeof x.opt_name !== 'string' || x.opt_name === '') throw badInput(`'${JSON.stringify(o)}' is not a valid DHCP option.`);
        const ipv = x.ip_version === undefined ? 4 : Number(x.ip_version);
        if (ipv !== 4 && ipv !== 6) throw badInput(`'${String(x.ip_version)}' is not in [4, 6] for ip_version.`);
        return { opt_name: x.opt_name, opt_value: x.opt_value === null || x.opt_value === undefined ? null : String(x.opt_value), ip_version: ipv };
      });
    }
    const ps = boolOf(body, 'port_security_enabled'); if (ps !== undefined) out.portSecurity = ps;
    const name = str(body, 'name'); if (name !== undefined) out.name = name;
    const desc = str(body, 'description'); if (desc !== undefined) out.description = desc;
    const up = boolOf(body, 'admin_state_up'); if (up !== undefined) out.adminStateUp = up;
    const dev = str(body, 'device_id'); if (dev !== undefined) out.deviceId = dev;
    const owner = str(body, 'device_owner'); if (owner !== undefined) out.deviceOwner = owner;
    const host = str(body, 'binding:host_id'); if (host !== undefined) out.bindingHostId = host;
    if (body['binding:profile'] !== undefined) {
      const prof = body['binding:profile'];
      if (prof !== null && (typeof prof !== 'object' || Array.isArray(prof))) throw badInput("'binding:profile' must be a dictionary.");
      out.bindingProfile = (prof ?? {}) as Obj;
    }
    if (body['binding:vnic_type'] !== undefined) {
      if (!VNIC_TYPES.includes(String(body['binding:vnic_type']))) throw badInput(`'${String(body['binding:vnic_type'])}' is not in ${JSON.stringify(VNIC_TYPES)} for binding:vnic_type.`);
      out.vnicType = String(body['binding:vnic_type']);
    }
    const dns = str(body, 'dns_name'); if (dns !== undefined) out.dnsName = dns;
    return out;
  }

  async create(a: AuthContext, body: Obj): Promise<Port> {
    onlyKnown(body, KNOWN, 'port');
    adminOnly(a, body, ['binding:host_id', 'binding:profile', 'status'], 'create_port');
    if (typeof body.network_id !== 'string') throw badInput("'network_id' is required.");
    const network = await this.networks.get(a, body.network_id);
    if (!owns(a, network.project_id) && !network.shared) throw nerr('NotFound', 'NetworkNotFound', `Network ${network.id} could not be found.`);
    const project = ownerFor(a, body);
    if (body.mac_address !== undefined && !owns(a, network.project_id)) {
      throw nerr('Forbidden', 'PolicyNotAuthorized', '(rule:create_port and rule:create_port:mac_address) is disallowed by policy');
    }
    if (body.security_groups === undefined) await this.groups.ensureDefault(project);
    return inTransaction(this.d.db, async (trx) => {
      await this.quotas.check(trx, project, 'port');
      const parsed = await this.parseCommon(a, body, network, project, trx);
      return this.insert(trx, { project, network, ...parsed });
    });
  }

  async update(a: AuthContext, id: string, body: Obj): Promise<{ port: Port; bound: boolean }> {
    const p = await this.get(a, id);
    onlyKnown(body, KNOWN, 'port');
    adminOnly(a, body, ['binding:host_id', 'binding:profile', 'status'], 'update_port');
    if (body.network_id !== undefined && body.network_id !== p.network_id) throw badInput('Cannot update read-only attribute network_id');
    if ((body.project_id ?? body.tenant_id) !== undefined && (body.project_id ?? body.tenant_id) !== p.project_id) throw badInput('Cannot update read-only attribute project_id');
    const network = (await this.networks.find(p.network_id))!;
    if (body.mac_address !== undefined && !admin(a)) throw nerr('Forbidden', 'PolicyNotAuthorized', '(rule:update_port and rule:update_port:mac_address) is disallowed by policy');
    let bound = false;
    const port = await inTransaction(this.d.db, async (trx) => {
      const parsed = await this.parseCommon(a, body, network, p.project_id, trx);
      const set: Partial<Port> = {};
      if (parsed.name !== undefined) set.name = parsed.name;
      if (parsed.description !== undefined) set.description = parsed.description;
      if (parsed.adminStateUp !== undefined) set.admin_state_up = bool(parsed.adminStateUp);
      if (parsed.deviceId !== undefined) set.device_id = parsed.deviceId;
      if (parsed.deviceOwner !== undefined) set.device_owner = parsed.deviceOwner;
      if (parsed.dnsName !== undefined) set.dns_name = parsed.dnsName;
      if (parsed.vnicType !== undefined) set.binding_vnic_type = parsed.vnicType;
      if (parsed.bindingProfile !== undefined) set.binding_profile = JSON.stringify(parsed.bindingProfile);
      if (parsed.extraDhcpOpts !== undefined) set.extra_dhcp_opts = JSON.stringify(mergeDhcpOpts(j(p.extra_dhcp_opts, []), parsed.extraDhcpOpts));
      if (parsed.bindingHostId !== undefined) {
        set.binding_host_id = parsed.bindingHostId;
        set.binding_vif_type = parsed.bindingHostId ? 'bridge' : 'unbound';
        set.binding_vif_details = JSON.stringify(parsed.bindingHostId ? { port_filter: true, connectivity: 'l2' } : {});
        // With a real data plane the port goes ACTIVE when the driver has wired it, not when it is bound.
        set.status = parsed.bindingHostId && !this.d.driverSetsPortStatus ? 'ACTIVE' : 'DOWN';
        bound = !!parsed.bindingHostId && parsed.bindingHostId !== p.binding_host_id;
      }
      if (parsed.mac !== undefined && parsed.mac !== p.mac_address) {
        if (p.binding_host_id && p.device_owner.startsWith('compute:')) throw nerr('Conflict', 'PortBound', `Unable to complete operation on port ${id}, port is already bound.`);
        const clash = await trx.selectFrom('net_ports').select('id').where('network_id', '=', p.network_id).where('mac_address', '=', parsed.mac).executeTakeFirst();
        if (clash) throw nerr('Conflict', 'MacAddressInUse', `Unable to complete operation for network ${p.network_id}. The mac address ${parsed.mac} is in use.`);
        set.mac_address = parsed.mac;
      }
      const portSecurity = parsed.portSecurity ?? !!p.port_security_enabled;
      set.port_security_enabled = bool(portSecurity);
      const currentGroups = (await trx.selectFrom('net_port_security_groups').select('security_group_id').where('port_id', '=', id).execute()).map((r) => r.security_group_id);
      const groups = parsed.securityGroups ?? currentGroups;
      const pairs = parsed.allowedAddressPairs ?? j<Obj[]>(p.allowed_address_pairs, []);
      if (!portSecurity && groups.length) {
        throw nerr('Conflict', 'PortSecurityPortHasSecurityGroup', 'Port has security group associated. Cannot disable port security or ip address until security group is removed');
      }
      if (!portSecurity && pairs.length) throw nerr('Conflict', 'AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
      if (parsed.allowedAddressPairs !== undefined) set.allowed_address_pairs = JSON.stringify(pairs);
      if (parsed.securityGroups !== undefined) await this.setGroups(trx, id, groups);
      if (parsed.fixedIps !== undefined) {
        // Keep the addresses asked for again, release the rest, allocate the new ones.
        const current = await trx.selectFrom('net_ip_allocations').selectAll().where('port_id', '=', id).execute();
        const keep = new Set<string>();
        const fresh: FixedIpRequest[] = [];
        for (const f of parsed.fixedIps) {
          const hit = f.ip_address !== undefined
            ? current.find((c) => c.ip_address === formatIp(tryParseIp(f.ip_address)!.version, tryParseIp(f.ip_address)!.value) && (!f.subnet_id || c.subnet_id === f.subnet_id))
            : undefined;
          if (hit) keep.add(`${hit.subnet_id}|${hit.ip_key}`);
          else fresh.push(f);
        }
        for (const c of current) {
          if (!keep.has(`${c.subnet_id}|${c.ip_key}`)) {
            await trx.deleteFrom('net_ip_allocations').where('subnet_id', '=', c.subnet_id).where('ip_key', '=', c.ip_key).execute();
          }
        }
        await this.allocateIps(trx, { project: p.project_id, network, fixedIps: fresh, deviceOwner: set.device_owner ?? p.device_owner }, id, set.mac_address ?? p.mac_address);
      }
      await trx.updateTable('net_ports').set({ ...set, updated_at: now(), revision_number: p.revision_number + 1 }).where('id', '=', id).execute();
      return (await this.find(id, trx))!;
    });
    return { port, bound };
  }

  /** Deletes a port (not a router's or floating IP's: 409); floating IPs on it are disassociated. */
  async delete(a: AuthContext, id: string, opts: { force?: boolean } = {}): Promise<Port> {
    const p = await this.get(a, id);
    if (!opts.force && SERVICE_OWNERS.includes(p.device_owner)) {
      throw nerr('Conflict', 'ServicePortInUse', `Port ${id} cannot be deleted directly via the port API: has device owner ${p.device_owner}.`);
    }
    await inTransaction(this.d.db, (trx) => this.remove(trx, id));
    return p;
  }

  /** Removes a port and everything hanging off it, in the caller's transaction. */
  async remove(db: Db, id: string): Promise<void> {
    await db.updateTable('net_floating_ips').set({ port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', updated_at: now() }).where('port_id', '=', id).execute();
    await db.deleteFrom('net_port_forwardings').where('internal_port_id', '=', id).execute();
    await this.ipam.releasePort(db, id);
    await db.deleteFrom('net_port_security_groups').where('port_id', '=', id).execute();
    await this.tags.removeAll(id, db);
    await db.deleteFrom('net_ports').where('id', '=', id).execute();
  }

  /** The port's fixed IPs. */
  async fixedIps(db: Db, portId: string): Promise<{ subnet_id: string; ip_address: string }[]> {
    return db.selectFrom('net_ip_allocations').select(['subnet_id', 'ip_address']).where('port_id', '=', portId).orderBy('ip_key').execute();
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

/** Neutron merges DHCP option updates by name; a null value removes the option. */
function mergeDhcpOpts(current: Obj[], changes: Obj[]): Obj[] {
  const out = [...current];
  for (const c of changes) {
    const i = out.findIndex((o) => o.opt_name === c.opt_name && (o.ip_version ?? 4) === (c.ip_version ?? 4));
    if (c.opt_value === null) { if (i >= 0) out.splice(i, 1); continue; }
    if (i >= 0) out[i] = c; else out.push(c);
  }
  return out;
}
