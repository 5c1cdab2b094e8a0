import type { AuthContext } from '../auth-context.js';
import type { NetFloatingIpRow, NetPortForwardingRow } from '../../store/network-tables.js';
import { inTransaction, isUniqueViolation } from '../../store/database.js';
import { uuid } from '../../util/ids.js';
import type { NetworkDeps, Db, Obj } from './common.js';
import {
  admin,
  adminOnly,
  badInput,
  intOf,
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
import type { Ports } from './ports.js';
import { INTERFACE_OWNER } from './routers.js';
import { tryParseIp } from './ipaddr.js';

export type FloatingIp = NetFloatingIpRow;
export type PortForwarding = NetPortForwardingRow;

const KNOWN = [
  'floating_network_id',
  'floating_ip_address',
  'subnet_id',
  'port_id',
  'fixed_ip_address',
  'description',
  'tenant_id',
  'project_id',
  'dns_domain',
  'dns_name',
  'qos_policy_id',
  'tags',
] as const;
const PF_KNOWN = [
  'internal_port_id',
  'internal_ip_address',
  'internal_port',
  'external_port',
  'protocol',
  'description',
  'internal_port_range',
  'external_port_range',
] as const;
export const FIP_OWNER = 'network:floatingip';

export const fipNotFound = (id: string) =>
  nerr('NotFound', 'FloatingIPNotFound', `Floating IP ${id} could not be found`);
const badFip = (m: string) => nerr('BadRequest', 'BadRequest', `Bad floatingip request: ${m}.`);

/** Floating IPs on external networks, their association to ports through routers, and port forwardings. */
export class FloatingIps {
  constructor(
    private readonly d: NetworkDeps,
    private readonly tags: Tags,
    private readonly quotas: Quotas,
    private readonly networks: Networks,
    private readonly ports: Ports,
  ) {}

  async get(a: AuthContext, id: string, db: Db = this.d.db): Promise<FloatingIp> {
    const f = await db.selectFrom('net_floating_ips').selectAll().where('id', '=', id).executeTakeFirst();
    if (!f || !owns(a, f.project_id)) throw fipNotFound(id);
    return f;
  }

  async views(rows: FloatingIp[]): Promise<Obj[]> {
    const ids = rows.map((r) => r.id);
    const tags = await this.tags.forIds(ids);
    const pfs = new Map<string, Obj[]>();
    if (ids.length) {
      for (const p of await this.d.db
        .selectFrom('net_port_forwardings')
        .selectAll()
        .where('floatingip_id', 'in', ids)
        .execute()) {
        pfs.set(p.floatingip_id, [...(pfs.get(p.floatingip_id) ?? []), this.pfView(p)]);
      }
    }
    return rows.map((f) => ({
      ...standardView(f, tags.get(f.id) ?? []),
      floating_ip_address: f.floating_ip_address,
      floating_network_id: f.floating_network_id,
      router_id: f.router_id,
      port_id: f.port_id,
      fixed_ip_address: f.fixed_ip_address,
      status: f.status,
      port_details: null,
      dns_domain: '',
      dns_name: '',
      qos_policy_id: null,
      qos_network_policy_id: null,
      port_forwardings: pfs.get(f.id) ?? [],
    }));
  }

  async list(a: AuthContext, filter: { ids?: string[]; portId?: string } = {}): Promise<FloatingIp[]> {
    let q = this.d.db.selectFrom('net_floating_ips').selectAll();
    if (!admin(a)) q = q.where('project_id', '=', projectOf(a));
    if (filter.ids) q = q.where('id', 'in', filter.ids.length ? filter.ids : ['']);
    if (filter.portId) q = q.where('port_id', '=', filter.portId);
    return q.orderBy('created_at').orderBy('id').execute();
  }

  /** Works out the fixed IP and the router for associating `fip` with a port (Neutron's rules and errors). */
  private async association(
    a: AuthContext,
    db: Db,
    fip: Pick<FloatingIp, 'id' | 'floating_network_id' | 'project_id'>,
    portId: unknown,
    fixedIp: unknown,
  ): Promise<Pick<FloatingIp, 'port_id' | 'fixed_ip_address' | 'router_id' | 'status'>> {
    if (typeof portId !== 'string') throw badInput(`'${String(portId)}' is not a valid port_id.`);
    const port = await this.ports.find(portId, db);
    if (!port || (!admin(a) && port.project_id !== fip.project_id))
      throw nerr('NotFound', 'PortNotFound', `Port ${portId} could not be found.`);
    if (port.network_id === fip.floating_network_id)
      throw badFip(`Port ${portId} is on the external network ${fip.floating_network_id}`);
    const v4 = (await this.ports.fixedIps(db, port.id)).filter((i) => tryParseIp(i.ip_address)!.version === 4);
    let chosen: { subnet_id: string; ip_address: string } | undefined;
    if (fixedIp !== undefined && fixedIp !== null) {
      const want = tryParseIp(fixedIp);
      if (!want) throw badInput(`'${String(fixedIp)}' is not a valid IP address.`);
      chosen = v4.find((i) => tryParseIp(i.ip_address)!.value === want.value && want.version === 4);
      if (!chosen) throw badFip(`Port ${portId} does not have fixed ip ${String(fixedIp)}`);
    } else {
      if (v4.length === 0) throw badFip(`Cannot add floating IP to port ${portId} that has no fixed IPv4 addresses`);
      if (v4.length > 1)
        throw badFip(
          `Port ${portId} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a ` +
            `floating IP`,
        );
      chosen = v4[0]!;
    }
    const taken = await db
      .selectFrom('net_floating_ips')
      .select(['id', 'floating_ip_address'])
      .where('port_id', '=', port.id)
      .where('fixed_ip_address', '=', chosen.ip_address)
      .where('id', '!=', fip.id)
      .executeTakeFirst();
    if (taken) {
      throw nerr(
        'Conflict',
        'FloatingIPPortAlreadyAssociated',
        `Cannot associate floating IP ${taken.floating_ip_address} (${fip.id}) with port ${port.id} using fixed IP ` +
          `${chosen.ip_address}, as that fixed IP already has a floating IP on external network ` +
          `${fip.floating_network_id}.`,
      );
    }
    // A router with a gateway on the floating IP's network and an interface on the fixed IP's subnet.
    const router = await db
      .selectFrom('net_routers')
      .innerJoin('net_ports', (jn) =>
        jn.onRef('net_ports.device_id', '=', 'net_routers.id').on('net_ports.device_owner', '=', INTERFACE_OWNER),
      )
      .innerJoin('net_ip_allocations', 'net_ip_allocations.port_id', 'net_ports.id')
      .select('net_routers.id')
      .where('net_routers.gw_network_id', '=', fip.floating_network_id)
      .where('net_ip_allocations.subnet_id', '=', chosen.subnet_id)
      .orderBy('net_routers.created_at')
      .executeTakeFirst();
    if (!router) {
      throw nerr(
        'NotFound',
        'ExternalGatewayForFloatingIPNotFound',
        `External network ${fip.floating_network_id} is not reachable from subnet ${chosen.subnet_id}.  Therefore, ` +
          `cannot associate Port ${port.id} with a Floating IP.`,
      );
    }
    return { port_id: port.id, fixed_ip_address: chosen.ip_address, router_id: router.id, status: 'ACTIVE' };
  }

  async create(a: AuthContext, body: Obj): Promise<FloatingIp> {
    onlyKnown(body, KNOWN, 'floatingip');
    adminOnly(a, body, ['floating_ip_address'], 'create_floatingip');
    if (typeof body.floating_network_id !== 'string') throw badInput("'floating_network_id' is required.");
    const project = ownerFor(a, body);
    const net = await this.networks.find(body.floating_network_id);
    if (!net || !this.networks.visible(a, net))
      throw nerr('NotFound', 'NetworkNotFound', `Network ${body.floating_network_id} could not be found.`);
    if (!net.router_external) throw badFip(`Network ${net.id} is not a valid external network`);
    if (body.floating_ip_address !== undefined && !tryParseIp(body.floating_ip_address))
      throw badInput(`'${String(body.floating_ip_address)}' is not a valid IP address.`);
    const id = uuid();
    const t = now();
    return inTransaction(this.d.db, async (trx) => {
      await this.quotas.check(trx, project, 'floatingip');
      let fixed: { subnet_id?: string; ip_address?: string }[] | undefined;
      if (body.floating_ip_address !== undefined || body.subnet_id !== undefined) {
        fixed = [
          {
            ...(body.subnet_id ? { subnet_id: String(body.subnet_id) } : {}),
            ...(body.floating_ip_address ? { ip_address: String(body.floating_ip_address) } : {}),
          },
        ];
      } else {
        const v4 = (
          await trx
            .selectFrom('net_subnets')
            .select(['id', 'ip_version'])
            .where('network_id', '=', net.id)
            .orderBy('created_at')
            .execute()
        ).filter((s) => s.ip_version === 4);
        if (!v4.length) throw badFip(`Network ${net.id} has no IPv4 subnet for floating IPs`);
        fixed = undefined;
      }
      const port = await this.ports.insert(trx, {
        project: '',
        network: net,
        deviceOwner: FIP_OWNER,
        deviceId: id,
        fixedIps: fixed,
        securityGroups: [],
        portSecurity: false,
      });
      const ip = (await this.ports.fixedIps(trx, port.id)).find((i) => tryParseIp(i.ip_address)!.version === 4);
      if (!ip) throw badFip(`No IPv4 address could be allocated on network ${net.id}`);
      let row: FloatingIp = {
        id,
        project_id: project,
        name: '',
        description: str(body, 'description') ?? '',
        created_at: t,
        updated_at: t,
        revision_number: 0,
        floating_network_id: net.id,
        floating_ip_address: ip.ip_address,
        floating_port_id: port.id,
        port_id: null,
        fixed_ip_address: null,
        router_id: null,
        status: 'DOWN',
      };
      if (body.port_id !== undefined && body.port_id !== null)
        row = { ...row, ...(await this.association(a, trx, row, body.port_id, body.fixed_ip_address)) };
      await trx.insertInto('net_floating_ips').values(row).execute();
      return row;
    });
  }

  async update(a: AuthContext, id: string, body: Obj): Promise<FloatingIp> {
    const f = await this.get(a, id);
    onlyKnown(body, KNOWN, 'floatingip');
    for (const k of ['floating_network_id', 'floating_ip_address', 'subnet_id', 'tenant_id', 'project_id']) {
      if (body[k] !== undefined && body[k] !== (f as unknown as Obj)[k])
        throw badInput(`Cannot update read-only attribute ${k}`);
    }
    return inTransaction(this.d.db, async (trx) => {
      const set: Partial<FloatingIp> = {};
      const desc = str(body, 'description');
      if (desc !== undefined) set.description = desc;
      if (body.port_id === null)
        Object.assign(set, { port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN' });
      else if (body.port_id !== undefined) {
        const pf = await trx
          .selectFrom('net_port_forwardings')
          .select('id')
          .where('floatingip_id', '=', id)
          .executeTakeFirst();
        if (pf)
          throw nerr(
            'Conflict',
            'FipInUseByPortForwarding',
            `Floating IP ${id} has port forwardings and cannot be associated with a port.`,
          );
        Object.assign(set, await this.association(a, trx, f, body.port_id, body.fixed_ip_address));
      } else if (body.fixed_ip_address !== undefined && f.port_id) {
        Object.assign(set, await this.association(a, trx, f, f.port_id, body.fixed_ip_address));
      }
      await trx
        .updateTable('net_floating_ips')
        .set({ ...set, updated_at: now(), revision_number: f.revision_number + 1 })
        .where('id', '=', id)
        .execute();
      return await this.get(a, id, trx);
    });
  }

  async delete(a: AuthContext, id: string): Promise<FloatingIp> {
    const f = await this.get(a, id);
    await inTransaction(this.d.db, async (trx) => {
      await trx.deleteFrom('net_port_forwardings').where('floatingip_id', '=', id).execute();
      await this.ports.remove(trx, f.floating_port_id);
      await this.tags.removeAll(id, trx);
      await trx.deleteFrom('net_floating_ips').where('id', '=', id).execute();
    });
    return f;
  }

  // --- port forwardings (floating-ip-port-forwarding)

  pfView(p: PortForwarding): Obj {
    const single = p.internal_port === p.internal_port_range_max && p.external_port === p.external_port_range_max;
    return {
      id: p.id,
      internal_port_id: p.internal_port_id,
      internal_ip_address: p.internal_ip_address,
      protocol: p.protocol,
      description: p.description,
      ...(single
        ? { internal_port: p.internal_port, external_port: p.external_port }
        : {
            internal_port_range: `${p.internal_port}:${p.internal_port_range_max}`,
            external_port_range: `${p.external_port}:${p.external_port_range_max}`,
          }),
    };
  }

  async listForwardings(a: AuthContext, fipId: string): Promise<PortForwarding[]> {
    await this.get(a, fipId);
    return this.d.db
      .selectFrom('net_port_forwardings')
      .selectAll()
      .where('floatingip_id', '=', fipId)
      .orderBy('external_port')
      .execute();
  }

  async getForwarding(a: AuthContext, fipId: string, id: string): Promise<PortForwarding> {
    await this.get(a, fipId);
    const p = await this.d.db
      .selectFrom('net_port_forwardings')
      .selectAll()
      .where('id', '=', id)
      .where('floatingip_id', '=', fipId)
      .executeTakeFirst();
    if (!p) throw nerr('NotFound', 'PortForwardingNotFound', `Port Forwarding ${id} could not be found.`);
    return p;
  }

  private range(body: Obj, single: string, ranged: string): [number, number] {
    if (body[ranged] !== undefined) {
      const m = /^(\d+):(\d+)$/.exec(String(body[ranged]));
      if (!m || Number(m[1]) < 1 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2]))
        throw badInput(`'${String(body[ranged])}' is not a valid port range for ${ranged}.`);
      return [Number(m[1]), Number(m[2])];
    }
    const v = intOf(body, single, 1, 65535);
    if (v === undefined) throw badInput(`'${single}' is required.`);
    return [v, v];
  }

  async createForwarding(a: AuthContext, fipId: string, body: Obj): Promise<PortForwarding> {
    const f = await this.get(a, fipId);
    onlyKnown(body, PF_KNOWN, 'port_forwarding');
    if (f.port_id)
      throw nerr(
        'Conflict',
        'FipInUseByPortForwarding',
        `Floating IP ${fipId} is associated with a port and cannot have port forwardings.`,
      );
    if (body.protocol !== 'tcp' && body.protocol !== 'udp')
      throw badInput(`'${String(body.protocol)}' is not in ['tcp', 'udp'] for protocol.`);
    const [ip, ipMax] = this.range(body, 'internal_port', 'internal_port_range');
    const [ep, epMax] = this.range(body, 'external_port', 'external_port_range');
    if (ipMax - ip !== epMax - ep && ipMax !== ip)
      throw badInput('internal and external port ranges must have the same size.');
    return inTransaction(this.d.db, async (trx) => {
      const assoc = await this.association(a, trx, { ...f, id: '' }, body.internal_port_id, body.internal_ip_address);
      const row: PortForwarding = {
        id: uuid(),
        floatingip_id: fipId,
        internal_port_id: assoc.port_id!,
        internal_ip_address: assoc.fixed_ip_address!,
        internal_port: ip,
        internal_port_range_max: ipMax,
        external_port: ep,
        external_port_range_max: epMax,
        protocol: body.protocol as string,
        description: str(body, 'description') ?? '',
      };
      const clash = await trx
        .selectFrom('net_port_forwardings')
        .select('id')
        .where('floatingip_id', '=', fipId)
        .where('protocol', '=', row.protocol)
        .where('external_port', '<=', epMax)
        .where('external_port_range_max', '>=', ep)
        .executeTakeFirst();
      if (clash)
        throw nerr(
          'Conflict',
          'PortForwardingConflict',
          `A port forwarding for external port ${ep}/${row.protocol} already exists on floating IP ${fipId}.`,
        );
      try {
        await trx.insertInto('net_port_forwardings').values(row).execute();
      } catch (e) {
        if (isUniqueViolation(e))
          throw nerr(
            'Conflict',
            'PortForwardingConflict',
            `A port forwarding for external port ${ep}/${row.protocol} already exists.`,
          );
        throw e;
      }
      await trx
        .updateTable('net_floating_ips')
        .set({ router_id: assoc.router_id, status: 'ACTIVE', updated_at: now() })
        .where('id', '=', fipId)
        .execute();
      return row;
    });
  }

  async updateForwarding(a: AuthContext, fipId: string, id: string, body: Obj): Promise<PortForwarding> {
    const p = await this.getForwarding(a, fipId, id);
    onlyKnown(body, PF_KNOWN, 'port_forwarding');
    const set: Partial<PortForwarding> = {};
    const desc = str(body, 'description');
    if (desc !== undefined) set.description = desc;
    if (body.internal_port !== undefined || body.internal_port_range !== undefined)
      [set.internal_port, set.internal_port_range_max] = this.range(body, 'internal_port', 'internal_port_range');
    if (body.external_port !== undefined || body.external_port_range !== undefined)
      [set.external_port, set.external_port_range_max] = this.range(body, 'external_port', 'external_port_range');
    if (body.protocol !== undefined) {
      if (body.protocol !== 'tcp' && body.protocol !== 'udp')
        throw badInput(`'${String(body.protocol)}' is not in ['tcp', 'udp'] for protocol.`);
      set.protocol = body.protocol;
    }
    if (body.internal_ip_address !== undefined) {
      const ips = await this.ports.fixedIps(this.d.db, p.internal_port_id);
      if (!ips.some((i) => i.ip_address === body.internal_ip_address))
        throw badInput(`Port ${p.internal_port_id} does not have fixed ip ${String(body.internal_ip_address)}.`);
      set.internal_ip_address = String(body.internal_ip_address);
    }
    try {
      await this.d.db.updateTable('net_port_forwardings').set(set).where('id', '=', id).execute();
    } catch (e) {
      if (isUniqueViolation(e))
        throw nerr('Conflict', 'PortForwardingConflict', 'A port forwarding for that external port already exists.');
      throw e;
    }
    return this.getForwarding(a, fipId, id);
  }

  async deleteForwarding(a: AuthContext, fipId: string, id: string): Promise<void> {
    await this.getForwarding(a, fipId, id);
    await this.d.db.deleteFrom('net_port_forwardings').where('id', '=', id).execute();
    const left = await this.d.db
      .selectFrom('net_port_forwardings')
      .select('id')
      .where('floatingip_id', '=', fipId)
      .executeTakeFirst();
    if (!left)
      await this.d.db
        .updateTable('net_floating_ips')
        .set({ router_id: null, status: 'DOWN', updated_at: now() })
        .where('id', '=', fipId)
        .where('port_id', 'is', null)
        .execute();
  }
}
