// A port request turned into a PortSpec: the attributes users may set on create and update, parsed and checked
// (MAC, fixed IPs, security groups the caller may use, address pairs, DHCP options, binding). Ports (ports.ts) owns
// the rows; this module only reads (security groups) to validate.
import type { AuthContext } from '../auth-context.js';
import type { Db, Obj } from './common.js';
import { admin, badInput, boolOf, listOf, nerr, owns, str } from './common.js';
import type { Network } from './networks.js';
import { normalizeMac, tryParseCidr, tryParseIp } from './ipaddr.js';

/** The attributes a port body may carry (anything else is refused). */
export const PORT_KEYS = [
  'name',
  'description',
  'network_id',
  'admin_state_up',
  'mac_address',
  'fixed_ips',
  'device_id',
  'device_owner',
  'security_groups',
  'allowed_address_pairs',
  'port_security_enabled',
  'binding:host_id',
  'binding:profile',
  'binding:vnic_type',
  'extra_dhcp_opts',
  'tenant_id',
  'project_id',
  'dns_name',
  'qos_policy_id',
  'propagate_uplink_status',
  'tags',
  'status',
] as const;
const VNIC_TYPES = [
  'normal',
  'direct',
  'macvtap',
  'baremetal',
  'direct-physical',
  'virtio-forwarder',
  'smart-nic',
  'vdpa',
  'remote-managed',
];

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

/** Parses the user-settable attributes shared by create and update (the caller checked which keys may appear). */
export async function parsePortAttributes(
  a: AuthContext,
  body: Obj,
  network: Network,
  project: string,
  db: Db,
): Promise<Partial<PortSpec>> {
  const out: Partial<PortSpec> = {};
  if (body.mac_address !== undefined) {
    const mac = normalizeMac(body.mac_address);
    if (!mac) throw badInput(`'${String(body.mac_address)}' is not a valid MAC address.`);
    out.mac = mac;
  }
  if (body.fixed_ips !== undefined) {
    out.fixedIps = (listOf(body, 'fixed_ips') ?? []).map((f) => {
      if (!f || typeof f !== 'object' || Array.isArray(f))
        throw badInput(`Invalid data format for fixed IP: '${JSON.stringify(f)}'.`);
      const o = f as Obj;
      for (const k of Object.keys(o))
        if (k !== 'subnet_id' && k !== 'ip_address') throw badInput(`Unrecognized fixed IP key '${k}'.`);
      if (o.ip_address !== undefined && !tryParseIp(o.ip_address))
        throw badInput(`'${String(o.ip_address)}' is not a valid IP address.`);
      if (o.ip_address !== undefined && !owns(a, network.project_id)) {
        throw nerr(
          'Forbidden',
          'PolicyNotAuthorized',
          '(rule:create_port and rule:create_port:fixed_ips:ip_address) is disallowed by policy',
        );
      }
      return {
        ...(o.subnet_id !== undefined ? { subnet_id: String(o.subnet_id) } : {}),
        ...(o.ip_address !== undefined ? { ip_address: String(o.ip_address) } : {}),
      };
    });
  }
  if (body.security_groups !== undefined) {
    const ids = [...new Set((listOf(body, 'security_groups') ?? []).map(String))];
    for (const g of ids) {
      const row = await db
        .selectFrom('net_security_groups')
        .select(['id', 'project_id'])
        .where('id', '=', g)
        .executeTakeFirst();
      if (!row || (row.project_id !== project && !admin(a)))
        throw nerr('NotFound', 'SecurityGroupNotFound', `Security group ${g} does not exist`);
    }
    out.securityGroups = ids;
  }
  if (body.allowed_address_pairs !== undefined) {
    const pairs = (listOf(body, 'allowed_address_pairs') ?? []).map((p) => {
      const o = (p ?? {}) as Obj;
      if (typeof p !== 'object' || Object.keys(o).some((k) => k !== 'ip_address' && k !== 'mac_address'))
        throw badInput(`'${JSON.stringify(p)}' is not a valid address pair.`);
      const c = tryParseCidr(o.ip_address);
      if (!c) throw badInput(`'${String(o.ip_address)}' is not a valid IP address or CIDR for allowed_address_pairs.`);
      const mac = o.mac_address === undefined ? undefined : normalizeMac(o.mac_address);
      if (mac === null) throw badInput(`'${String(o.mac_address)}' is not a valid MAC address.`);
      return { ip_address: String(o.ip_address), mac_address: mac };
    });
    const keys = pairs.map((p) => `${p.ip_address}|${p.mac_address ?? ''}`);
    if (new Set(keys).size !== keys.length)
      throw nerr('BadRequest', 'DuplicateAddressPairInRequest', 'Request contains duplicate address pair.');
    if (pairs.length > 10)
      throw nerr(
        'BadRequest',
        'AllowedAddressPairExhausted',
        'The number of allowed address pair exceeds the maximum 10.',
      );
    out.allowedAddressPairs = pairs;
  }
  if (body.extra_dhcp_opts !== undefined) {
    out.extraDhcpOpts = (listOf(body, 'extra_dhcp_opts') ?? []).map((o) => {
      const x = (o ?? {}) as Obj;
      if (typeof o !== 'object' || typeof x.opt_name !== 'string' || x.opt_name === '')
        throw badInput(`'${JSON.stringify(o)}' is not a valid DHCP option.`);
      const ipv = x.ip_version === undefined ? 4 : Number(x.ip_version);
      if (ipv !== 4 && ipv !== 6) throw badInput(`'${String(x.ip_version)}' is not in [4, 6] for ip_version.`);
      return {
        opt_name: x.opt_name,
        opt_value: x.opt_value === null || x.opt_value === undefined ? null : String(x.opt_value),
        ip_version: ipv,
      };
    });
  }
  const ps = boolOf(body, 'port_security_enabled');
  if (ps !== undefined) out.portSecurity = ps;
  const name = str(body, 'name');
  if (name !== undefined) out.name = name;
  const desc = str(body, 'description');
  if (desc !== undefined) out.description = desc;
  const up = boolOf(body, 'admin_state_up');
  if (up !== undefined) out.adminStateUp = up;
  const dev = str(body, 'device_id');
  if (dev !== undefined) out.deviceId = dev;
  const owner = str(body, 'device_owner');
  if (owner !== undefined) out.deviceOwner = owner;
  const host = str(body, 'binding:host_id');
  if (host !== undefined) out.bindingHostId = host;
  if (body['binding:profile'] !== undefined) {
    const prof = body['binding:profile'];
    if (prof !== null && (typeof prof !== 'object' || Array.isArray(prof)))
      throw badInput("'binding:profile' must be a dictionary.");
    out.bindingProfile = (prof ?? {}) as Obj;
  }
  if (body['binding:vnic_type'] !== undefined) {
    if (!VNIC_TYPES.includes(String(body['binding:vnic_type'])))
      throw badInput(
        `'${String(body['binding:vnic_type'])}' is not in ${JSON.stringify(VNIC_TYPES)} for binding:vnic_type.`,
      );
    out.vnicType = String(body['binding:vnic_type']);
  }
  const dns = str(body, 'dns_name');
  if (dns !== undefined) out.dnsName = dns;
  return out;
}

/** Neutron merges DHCP option updates by name; a null value removes the option. */
export function mergeDhcpOpts(current: Obj[], changes: Obj[]): Obj[] {
  const out = [...current];
  for (const c of changes) {
    const i = out.findIndex((o) => o.opt_name === c.opt_name && (o.ip_version ?? 4) === (c.ip_version ?? 4));
    if (c.opt_value === null) {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = c;
    else out.push(c);
  }
  return out;
}
