import type { AuthContext } from '../auth-context.js';
import type { NetRouterRow } from '../../store/network-tables.js';
import { bool, inTransaction } from '../../store/database.js';
import { uuid } from '../../util/ids.js';
import type { NetworkDeps, Db, Obj } from './common.js';
import {
  admin,
  adminOnly,
  badInput,
  boolOf,
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
import type { Networks } from './networks.js';
import type { Subnets } from './subnets.js';
import type { Ports, FixedIpRequest, Port } from './ports.js';
import { contains, formatCidr, formatIp, overlaps, parseCidr, tryParseCidr, tryParseIp } from './ipaddr.js';

export type Router = NetRouterRow;

const KNOWN = [
  'name',
  'description',
  'admin_state_up',
  'external_gateway_info',
  'routes',
  'distributed',
  'ha',
  'availability_zone_hints',
  'tenant_id',
  'project_id',
  'flavor_id',
  'tags',
] as const;
export const INTERFACE_OWNER = 'network:router_interface';
export const GATEWAY_OWNER = 'network:router_gateway';

export const routerNotFound = (id: string) => nerr('NotFound', 'RouterNotFound', `Router ${id} could not be found`);
const badRouter = (m: string) => nerr('BadRequest', 'BadRequest', `Bad router request: ${m}.`);

/** What add/remove_router_interface answer. */
export interface InterfaceInfo {
  id: string;
  tenant_id: string;
  project_id: string;
  port_id: string;
  network_id: string;
  subnet_id: string;
  subnet_ids: string[];
}

/** Routers: the external gateway (SNAT, fixed IPs), interfaces on subnets or ports, and static routes. */
export class Routers {
  constructor(
    private readonly d: NetworkDeps,
    private readonly tags: Tags,
    private readonly quotas: Quotas,
    private readonly networks: Networks,
    private readonly subnets: Subnets,
    private readonly ports: Ports,
  ) {}

  async find(id: string, db: Db = this.d.db): Promise<Router | undefined> {
    return db.selectFrom('net_routers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(a: AuthContext, id: string, db: Db = this.d.db): Promise<Router> {
    const r = await this.find(id, db);
    if (!r || !owns(a, r.project_id)) throw routerNotFound(id);
    return r;
  }

  async views(a: AuthContext, rows: Router[]): Promise<Obj[]> {
    const tags = await this.tags.forIds(rows.map((r) => r.id));
    const out: Obj[] = [];
    for (const r of rows) {
      let gw: Obj | null = null;
      if (r.gw_network_id) {
        const ips = r.gw_port_id ? await this.ports.fixedIps(this.d.db, r.gw_port_id) : [];
        gw = { network_id: r.gw_network_id, enable_snat: !!r.enable_snat, external_fixed_ips: ips };
      }
      const v: Obj = {
        ...standardView(r, tags.get(r.id) ?? []),
        admin_state_up: !!r.admin_state_up,
        status: r.status,
        external_gateway_info: gw,
        routes: j(r.routes, []),
        availability_zone_hints: j(r.availability_zone_hints, []),
        availability_zones: this.d.options.availabilityZones.slice(0, 1),
        flavor_id: null,
      };
      if (admin(a)) {
        v.distributed = !!r.distributed;
        v.ha = !!r.ha;
      }
      out.push(v);
    }
    return out;
  }

  async list(a: AuthContext, filter: { ids?: string[] } = {}): Promise<Router[]> {
    let q = this.d.db.selectFrom('net_routers').selectAll();
    if (!admin(a)) q = q.where('project_id', '=', projectOf(a));
    if (filter.ids) q = q.where('id', 'in', filter.ids.length ? filter.ids : ['']);
    return q.orderBy('created_at').orderBy('id').execute();
  }

  /** Interface ports of a router. */
  async interfaces(db: Db, routerId: string): Promise<Port[]> {
    return db
      .selectFrom('net_ports')
      .selectAll()
      .where('device_id', '=', routerId)
      .where('device_owner', '=', INTERFACE_OWNER)
      .execute();
  }

  /** Sets, changes or clears the gateway inside a transaction. */
  private async setGateway(a: AuthContext, db: Db, r: Router, info: unknown, action: string): Promise<Partial<Router>> {
    if (info === null || (typeof info === 'object' && info !== null && Object.keys(info).length === 0)) {
      if (r.gw_port_id) await this.clearGateway(db, r);
      return { gw_network_id: null, gw_port_id: null, enable_snat: 1 };
    }
    if (typeof info !== 'object' || Array.isArray(info))
      throw badInput("'external_gateway_info' must be a dictionary.");
    const g = info as Obj;
    for (const k of Object.keys(g))
      if (!['network_id', 'enable_snat', 'external_fixed_ips', 'qos_policy_id'].includes(k))
        throw badInput(`Unrecognized external_gateway_info key '${k}'.`);
    if (!admin(a)) {
      if (g.enable_snat !== undefined)
        throw nerr(
          'Forbidden',
          'PolicyNotAuthorized',
          `(rule:${action} and rule:${action}:external_gateway_info:enable_snat) is disallowed by policy`,
        );
      if (g.external_fixed_ips !== undefined)
        throw nerr(
          'Forbidden',
          'PolicyNotAuthorized',
          `(rule:${action} and rule:${action}:external_gateway_info:external_fixed_ips) is disallowed by policy`,
        );
    }
    if (typeof g.network_id !== 'string') throw badInput("external_gateway_info needs a 'network_id'.");
    const net = await this.networks.find(g.network_id, db);
    if (!net || !this.networks.visible(a, net))
      throw nerr('NotFound', 'NetworkNotFound', `Network ${g.network_id} could not be found.`);
    if (!net.router_external) throw badRouter(`Network ${net.id} is not an external network`);
    const snat = boolOf(g, 'enable_snat') ?? (r.gw_network_id === net.id ? !!r.enable_snat : true);
    let fixed: FixedIpRequest[] | undefined;
    if (g.external_fixed_ips !== undefined) {
      fixed = (listOf(g, 'external_fixed_ips') ?? []).map((f) => {
        const o = (f ?? {}) as Obj;
        if (o.ip_address !== undefined && !tryParseIp(o.ip_address))
          throw badInput(`'${String(o.ip_address)}' is not a valid IP address.`);
        return {
          ...(o.subnet_id !== undefined ? { subnet_id: String(o.subnet_id) } : {}),
          ...(o.ip_address !== undefined ? { ip_address: String(o.ip_address) } : {}),
        };
      });
    }
    if (r.gw_network_id === net.id && r.gw_port_id) {
      if (fixed !== undefined) {
        const current = await this.ports.fixedIps(db, r.gw_port_id);
        const same =
          fixed.length === current.length &&
          fixed.every((f) =>
            current.some(
              (c) => (!f.subnet_id || f.subnet_id === c.subnet_id) && (!f.ip_address || f.ip_address === c.ip_address),
            ),
          );
        if (!same) {
          await this.ports.remove(db, r.gw_port_id);
          const port = await this.ports.insert(db, {
            project: '',
            network: net,
            deviceOwner: GATEWAY_OWNER,
            deviceId: r.id,
            fixedIps: fixed.length ? fixed : undefined,
            securityGroups: [],
            portSecurity: false,
          });
          return { gw_network_id: net.id, gw_port_id: port.id, enable_snat: bool(snat) };
        }
      }
      return { enable_snat: bool(snat) };
    }
    if (r.gw_port_id) await this.clearGateway(db, r);
    const v4 =
      fixed ??
      (await db.selectFrom('net_subnets').select(['id', 'ip_version']).where('network_id', '=', net.id).execute())
        .filter((s) => s.ip_version === 4)
        .slice(0, 1)
        .map((s) => ({ subnet_id: s.id }));
    const port = await this.ports.insert(db, {
      project: '',
      network: net,
      deviceOwner: GATEWAY_OWNER,
      deviceId: r.id,
      fixedIps: v4.length ? v4 : undefined,
      securityGroups: [],
      portSecurity: false,
    });
    return { gw_network_id: net.id, gw_port_id: port.id, enable_snat: bool(snat) };
  }

  private async clearGateway(db: Db, r: Router): Promise<void> {
    const fip = await db.selectFrom('net_floating_ips').select('id').where('router_id', '=', r.id).executeTakeFirst();
    if (fip)
      throw nerr(
        'Conflict',
        'RouterExternalGatewayInUseByFloatingIp',
        `Gateway cannot be updated for router ${r.id}, since a gateway to external network ${r.gw_network_id} is ` +
          `required by one or more floating IPs.`,
      );
    if (r.gw_port_id) await this.ports.remove(db, r.gw_port_id);
  }

  /** Validates static routes: each nexthop must lie on one of the router's interface subnets. */
  private async checkRoutes(db: Db, r: Router, routes: unknown[]): Promise<Obj[]> {
    if (routes.length > 30)
      throw nerr(
        'BadRequest',
        'RoutesExhausted',
        `Unable to complete operation for ${r.id}. The number of routes exceeds the maximum 30.`,
      );
    const ifaces = await this.interfaces(db, r.id);
    const subnetIds = new Set<string>();
    const ownIps = new Set<string>();
    for (const p of ifaces)
      for (const ip of await this.ports.fixedIps(db, p.id)) {
        subnetIds.add(ip.subnet_id);
        ownIps.add(ip.ip_address);
      }
    const cidrs = subnetIds.size
      ? (
          await db
            .selectFrom('net_subnets')
            .select('cidr')
            .where('id', 'in', [...subnetIds])
            .execute()
        ).map((s) => parseCidr(s.cidr))
      : [];
    const out = routes.map((x) => {
      const o = (x ?? {}) as Obj;
      const dest = tryParseCidr(o.destination);
      const hop = tryParseIp(o.nexthop);
      if (
        typeof x !== 'object' ||
        !dest ||
        !hop ||
        Object.keys(o).some((k) => k !== 'destination' && k !== 'nexthop')
      ) {
        throw badInput(`'${JSON.stringify(x)}' is not a valid route ({"destination": CIDR, "nexthop": IP}).`);
      }
      const nexthop = formatIp(hop.version, hop.value);
      if (ownIps.has(nexthop))
        throw nerr(
          'BadRequest',
          'InvalidRoutes',
          `Invalid format for routes: ${JSON.stringify(x)}, the nexthop is used by router`,
        );
      if (!cidrs.some((c) => c.version === hop.version && contains(c, hop.value))) {
        throw nerr(
          'BadRequest',
          'InvalidRoutes',
          `Invalid format for routes: ${JSON.stringify(x)}, the nexthop does not belong to router`,
        );
      }
      return { destination: formatCidr(dest), nexthop };
    });
    const keys = out.map((o) => `${o.destination}|${o.nexthop}`);
    return out.filter((_, i) => keys.indexOf(keys[i]!) === i);
  }

  async create(a: AuthContext, body: Obj): Promise<Router> {
    onlyKnown(body, KNOWN, 'router');
    adminOnly(a, body, ['distributed', 'ha'], 'create_router');
    const project = ownerFor(a, body);
    if (body.routes !== undefined && (listOf(body, 'routes') ?? []).length)
      throw badInput('routes cannot be set when creating a router.');
    const hints = listOf(body, 'availability_zone_hints') ?? [];
    for (const z of hints)
      if (!this.d.options.availabilityZones.includes(String(z)))
        throw nerr('NotFound', 'AvailabilityZoneNotFound', `AvailabilityZone ${String(z)} could not be found.`);
    if (boolOf(body, 'distributed') || boolOf(body, 'ha'))
      throw badInput('distributed and ha routers are not supported.');
    const t = now();
    return inTransaction(this.d.db, async (trx) => {
      await this.quotas.check(trx, project, 'router');
      let row: Router = {
        id: uuid(),
        project_id: project,
        name: str(body, 'name') ?? '',
        description: str(body, 'description') ?? '',
        created_at: t,
        updated_at: t,
        revision_number: 1,
        admin_state_up: bool(boolOf(body, 'admin_state_up') ?? true),
        status: 'ACTIVE',
        gw_network_id: null,
        gw_port_id: null,
        enable_snat: 1,
        routes: '[]',
        distributed: 0,
        ha: 0,
        availability_zone_hints: JSON.stringify(hints.map(String)),
      };
      await trx.insertInto('net_routers').values(row).execute();
      if (body.external_gateway_info !== undefined && body.external_gateway_info !== null) {
        const set = await this.setGateway(a, trx, row, body.external_gateway_info, 'create_router');
        row = { ...row, ...set };
        await trx.updateTable('net_routers').set(set).where('id', '=', row.id).execute();
      }
      return row;
    });
  }

  async update(a: AuthContext, id: string, body: Obj): Promise<Router> {
    const r = await this.get(a, id);
    onlyKnown(body, KNOWN, 'router');
    adminOnly(a, body, ['distributed', 'ha'], 'update_router');
    if (boolOf(body, 'distributed') || boolOf(body, 'ha'))
      throw badInput('distributed and ha routers are not supported.');
    return inTransaction(this.d.db, async (trx) => {
      const set: Partial<Router> = {};
      const name = str(body, 'name');
      if (name !== undefined) set.name = name;
      const desc = str(body, 'description');
      if (desc !== undefined) set.description = desc;
      const up = boolOf(body, 'admin_state_up');
      if (up !== undefined) set.admin_state_up = bool(up);
      if (body.external_gateway_info !== undefined)
        Object.assign(set, await this.setGateway(a, trx, r, body.external_gateway_info, 'update_router'));
      if (body.routes !== undefined)
        set.routes = JSON.stringify(await this.checkRoutes(trx, r, listOf(body, 'routes') ?? []));
      await trx
        .updateTable('net_routers')
        .set({ ...set, updated_at: now(), revision_number: r.revision_number + 1 })
        .where('id', '=', id)
        .execute();
      return (await this.find(id, trx))!;
    });
  }

  /** Adds or removes routes without replacing the rest (extraroute-atomic). */
  async changeRoutes(a: AuthContext, id: string, routes: unknown, add: boolean): Promise<Router> {
    const r = await this.get(a, id);
    if (!Array.isArray(routes)) throw badInput("'routes' must be a list.");
    return inTransaction(this.d.db, async (trx) => {
      const current = j<Obj[]>(r.routes, []);
      const key = (o: Obj) => `${String(o.destination)}|${String(o.nexthop)}`;
      let next: Obj[];
      if (add) {
        const checked = await this.checkRoutes(trx, r, routes);
        next = [...current, ...checked.filter((c) => !current.some((x) => key(x) === key(c)))];
      } else {
        const drop = routes.map((x) => {
          const o = (x ?? {}) as Obj;
          const dest = tryParseCidr(o.destination);
          const hop = tryParseIp(o.nexthop);
          if (!dest || !hop) throw badInput(`'${JSON.stringify(x)}' is not a valid route.`);
          return `${formatCidr(dest)}|${formatIp(hop.version, hop.value)}`;
        });
        next = current.filter((c) => !drop.includes(key(c)));
      }
      await trx
        .updateTable('net_routers')
        .set({ routes: JSON.stringify(next), updated_at: now(), revision_number: r.revision_number + 1 })
        .where('id', '=', id)
        .execute();
      return (await this.find(id, trx))!;
    });
  }

  async delete(a: AuthContext, id: string): Promise<Router> {
    const r = await this.get(a, id);
    await inTransaction(this.d.db, async (trx) => {
      if ((await this.interfaces(trx, id)).length)
        throw nerr('Conflict', 'RouterInUse', `Router ${id} still has ports`);
      const fip = await trx.selectFrom('net_floating_ips').select('id').where('router_id', '=', id).executeTakeFirst();
      if (fip) throw nerr('Conflict', 'RouterInUse', `Router ${id} still has floating IPs associated`);
      if (r.gw_port_id) await this.ports.remove(trx, r.gw_port_id);
      await this.tags.removeAll(id, trx);
      await trx.deleteFrom('net_routers').where('id', '=', id).execute();
    });
    return r;
  }

  private info(r: Router, port: Port, subnetIds: string[]): InterfaceInfo {
    return {
      id: r.id,
      tenant_id: r.project_id,
      project_id: r.project_id,
      port_id: port.id,
      network_id: port.network_id,
      subnet_id: subnetIds[0] ?? '',
      subnet_ids: subnetIds,
    };
  }

  /** Joins the router to a subnet (taking the subnet's gateway address) or to an existing port. */
  async addInterface(a: AuthContext, id: string, body: Obj): Promise<{ info: InterfaceInfo; port: Port }> {
    const r = await this.get(a, id);
    if (body.subnet_id !== undefined && body.port_id !== undefined)
      throw badRouter('Cannot specify both subnet-id and port-id');
    if (body.subnet_id === undefined && body.port_id === undefined)
      throw badRouter('Either subnet_id or port_id must be specified');
    return inTransaction(this.d.db, async (trx) => {
      const existing = await this.interfaces(trx, id);
      const existingSubnets: { subnet_id: string; cidr: string }[] = [];
      for (const p of existing) {
        for (const ip of await this.ports.fixedIps(trx, p.id)) {
          const s = await this.subnets.find(ip.subnet_id, trx);
          if (s) existingSubnets.push({ subnet_id: s.id, cidr: s.cidr });
        }
      }
      const checkOverlap = (subnetId: string, cidr: string) => {
        for (const e of existingSubnets) {
          if (e.subnet_id === subnetId) throw badRouter(`Router already has a port on subnet ${subnetId}`);
          if (overlaps(parseCidr(e.cidr), parseCidr(cidr)))
            throw badRouter(`Cidr ${cidr} of subnet ${subnetId} overlaps with cidr ${e.cidr} of subnet ${e.subnet_id}`);
        }
      };
      if (body.subnet_id !== undefined) {
        const s = await this.subnets.get(a, String(body.subnet_id), trx);
        const net = (await this.networks.find(s.network_id, trx))!;
        if (!s.gateway_ip) throw badRouter('Subnet for router interface must have a gateway IP');
        if (net.router_external && !admin(a))
          throw badRouter(`Router interface for subnet ${s.id} on an external network is not allowed`);
        checkOverlap(s.id, s.cidr);
        const port = await this.ports.insert(trx, {
          project: r.project_id,
          network: net,
          deviceOwner: INTERFACE_OWNER,
          deviceId: r.id,
          fixedIps: [{ subnet_id: s.id, ip_address: s.gateway_ip }],
          securityGroups: [],
          portSecurity: false,
        });
        await trx
          .updateTable('net_routers')
          .set({ updated_at: now(), revision_number: r.revision_number + 1 })
          .where('id', '=', id)
          .execute();
        return { info: this.info(r, port, [s.id]), port };
      }
      const port = await this.ports.get(a, String(body.port_id), trx);
      if (port.device_id || port.device_owner) {
        throw nerr(
          'Conflict',
          'PortInUse',
          `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an ` +
            `attached device ${port.device_id}.`,
        );
      }
      const ips = await this.ports.fixedIps(trx, port.id);
      if (!ips.length) throw badRouter(`Router port must have at least one fixed IP`);
      const subnets = [...new Set(ips.map((i) => i.subnet_id))];
      for (const sid of subnets) {
        const s = (await this.subnets.find(sid, trx))!;
        checkOverlap(s.id, s.cidr);
      }
      if (ips.filter((i) => tryParseIp(i.ip_address)!.version === 4).length > 1)
        throw badRouter(`Cannot have multiple IPv4 subnets on router port`);
      await trx
        .updateTable('net_ports')
        .set({
          device_id: r.id,
          device_owner: INTERFACE_OWNER,
          status: 'ACTIVE',
          updated_at: now(),
          revision_number: port.revision_number + 1,
        })
        .where('id', '=', port.id)
        .execute();
      await trx.deleteFrom('net_port_security_groups').where('port_id', '=', port.id).execute();
      await trx
        .updateTable('net_routers')
        .set({ updated_at: now(), revision_number: r.revision_number + 1 })
        .where('id', '=', id)
        .execute();
      return { info: this.info(r, port, subnets), port: (await this.ports.find(port.id, trx))! };
    });
  }

  /** Removes an interface by subnet or port; 409 while floating IPs or routes need it. */
  async removeInterface(a: AuthContext, id: string, body: Obj): Promise<{ info: InterfaceInfo; port: Port }> {
    const r = await this.get(a, id);
    if (body.subnet_id === undefined && body.port_id === undefined)
      throw badRouter('Either subnet_id or port_id must be specified');
    return inTransaction(this.d.db, async (trx) => {
      const ifaces = await this.interfaces(trx, id);
      let port: Port | undefined;
      let subnetIds: string[] = [];
      if (body.port_id !== undefined) {
        port = ifaces.find((p) => p.id === body.port_id);
        if (!port)
          throw nerr(
            'NotFound',
            'RouterInterfaceNotFound',
            `Router ${id} does not have an interface with id ${String(body.port_id)}`,
          );
        subnetIds = [...new Set((await this.ports.fixedIps(trx, port.id)).map((i) => i.subnet_id))];
        if (body.subnet_id !== undefined && !subnetIds.includes(String(body.subnet_id))) {
          throw nerr(
            'Conflict',
            'SubnetMismatchForPort',
            `Subnet ${String(body.subnet_id)} does not match the port ${port.id}`,
          );
        }
      } else {
        await this.subnets.get(a, String(body.subnet_id), trx);
        for (const p of ifaces) {
          if ((await this.ports.fixedIps(trx, p.id)).some((i) => i.subnet_id === body.subnet_id)) {
            port = p;
            break;
          }
        }
        if (!port)
          throw nerr(
            'NotFound',
            'RouterInterfaceNotFoundForSubnet',
            `Router ${id} has no interface on subnet ${String(body.subnet_id)}`,
          );
        subnetIds = [String(body.subnet_id)];
      }
      for (const sid of subnetIds) {
        const fip = await trx
          .selectFrom('net_floating_ips')
          .innerJoin('net_ip_allocations', 'net_ip_allocations.port_id', 'net_floating_ips.port_id')
          .select('net_floating_ips.id')
          .where('net_floating_ips.router_id', '=', id)
          .where('net_ip_allocations.subnet_id', '=', sid)
          .executeTakeFirst();
        if (fip)
          throw nerr(
            'Conflict',
            'RouterInterfaceInUseByFloatingIP',
            `Router interface for subnet ${sid} on router ${id} cannot be deleted, as it is required by one or more ` +
              `floating IPs.`,
          );
        const s = await this.subnets.find(sid, trx);
        const routes = j<Obj[]>(r.routes, []);
        if (s && routes.some((rt) => contains(parseCidr(s.cidr), tryParseIp(rt.nexthop)?.value ?? -1n))) {
          throw nerr(
            'Conflict',
            'RouterInterfaceInUseByRoute',
            `Router interface for subnet ${sid} on router ${id} cannot be deleted, as it is required by one or more ` +
              `routes.`,
          );
        }
      }
      await this.ports.remove(trx, port.id);
      await trx
        .updateTable('net_routers')
        .set({ updated_at: now(), revision_number: r.revision_number + 1 })
        .where('id', '=', id)
        .execute();
      return { info: this.info(r, port, subnetIds), port };
    });
  }
}
