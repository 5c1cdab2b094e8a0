// The networking service's front: it builds the resource classes, feeds the data plane its events (and the DHCP
// ports and agent bindings that follow them) and answers what Nova asks. Over 400 lines because those three jobs
// share the event path; the resources themselves live in their own modules.
import { Metering, type LabelTraffic, type MeteringLabel } from './metering.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { Dialect } from '../../store/database.js';
import { type AuthContext, serviceContext } from '../auth-context.js';
import {
  NetDispatcher,
  type NetDriver,
  type NetObjectKind,
  type NetAction,
  type PortStatusReport,
} from '../../net/index.js';
import type { NetworkDeps, NetworkOptions, Obj } from './common.js';
import { admin, nerr, projectOf } from './common.js';
import { Tags } from './tags.js';
import { Quotas } from './quotas.js';
import { Networks } from './networks.js';
import { Subnets } from './subnets.js';
import { SubnetPools } from './subnet-pools.js';
import { Ipam, poolsOf, poolSize } from './ipam.js';
import { Ports, type Port } from './ports.js';
import { SecurityGroups } from './security-groups.js';
import { Routers } from './routers.js';
import { FloatingIps } from './floating-ips.js';
import { AGENT_REPORT_INTERVAL_MS, Agents } from './agents.js';

export { networkOptions, defaultNetworkOptions, type NetworkOptions } from './common.js';
export { bootstrapNetwork } from './bootstrap.js';

/** An admin identity for rendering what a driver needs (drivers see every attribute). */
export const SYSTEM_CONTEXT: AuthContext = serviceContext('gureum-network');

/** One address of a server's port, as Nova shows it under `addresses`. */
export interface ServerAddress {
  networkId: string;
  networkName: string;
  portId: string;
  mac: string;
  ip: string;
  version: 4 | 6;
  /** 'fixed' or 'floating'. */
  type: 'fixed' | 'floating';
}

/** What Nova asks for when it builds a server's network. */
export interface InstancePortRequest {
  /** Exactly one of networkId / portId. */
  networkId?: string;
  portId?: string;
  fixedIp?: string;
  /** Security group ids; undefined = the project's default group. */
  securityGroups?: string[];
  hostId?: string;
}

/** The networking service (Neutron): resources, IPAM, the data-plane event stream, and what Nova calls. */
export class NetworkService {
  readonly tags: Tags;
  readonly quotas: Quotas;
  readonly networks: Networks;
  readonly subnetPools: SubnetPools;
  readonly ipam: Ipam;
  readonly subnets: Subnets;
  readonly securityGroups: SecurityGroups;
  readonly ports: Ports;
  readonly routers: Routers;
  readonly floatingIps: FloatingIps;
  readonly agents: Agents;
  /** Metering labels and rules (admin only), counted by the data plane per router. */
  readonly metering: Metering;
  readonly events: NetDispatcher;
  readonly options: NetworkOptions;

  constructor(opts: {
    db: Kysely<Database>;
    dialect: Dialect;
    options: NetworkOptions;
    driver: NetDriver;
    onDriverError?: (e: unknown) => void;
  }) {
    this.options = opts.options;
    this.events = new NetDispatcher(opts.driver, (e) => opts.onDriverError?.(e));
    this.wantsDhcpPorts = opts.driver.wantsDhcpPorts === true;
    const d: NetworkDeps = {
      db: opts.db,
      dialect: opts.dialect,
      options: opts.options,
      events: this.events,
      driverSetsPortStatus: opts.driver.reportsPortStatus === true,
    };
    opts.driver.onPortStatus?.((r) => this.recordPortStatus(r));
    this.tags = new Tags(d);
    this.quotas = new Quotas(d);
    this.networks = new Networks(d, this.tags, this.quotas);
    this.subnetPools = new SubnetPools(d, this.tags);
    this.ipam = new Ipam();
    this.subnets = new Subnets(d, this.tags, this.quotas, this.networks, this.subnetPools, this.ipam);
    this.securityGroups = new SecurityGroups(d, this.tags, this.quotas);
    this.ports = new Ports(d, this.tags, this.quotas, this.networks, this.ipam, this.securityGroups);
    this.routers = new Routers(d, this.tags, this.quotas, this.networks, this.subnets, this.ports);
    this.floatingIps = new FloatingIps(d, this.tags, this.quotas, this.networks, this.ports);
    this.agents = new Agents(d);
    this.metering = new Metering(d);
    this.db = opts.db;
    this.driver = opts.driver;
  }

  private readonly driver: NetDriver;
  private heartbeat: NodeJS.Timeout | null = null;

  /** True when the data plane runs Neutron's agents (the Linux bridge one); QEMU user networking runs none. */
  get runsAgents(): boolean {
    return typeof this.driver.agentReports === 'function';
  }

  /**
   * Starts the data plane's heartbeat: its agents report what runs now at once and every 30 s (Neutron's
   * report_interval), and networks and routers that no agent hosts yet are scheduled (after a first start or
   * an admin set the only agent down and up again).
   */
  async startAgents(): Promise<void> {
    const reports = this.driver.agentReports?.bind(this.driver);
    if (!reports || this.heartbeat) return;
    await this.agents.report(await reports(), true);
    await this.agents.scheduleUnhosted();
    this.heartbeat = setInterval(() => {
      reports()
        .then((r) => this.agents.report(r))
        .catch((e) => this.events.report(e));
    }, AGENT_REPORT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  stopAgents(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private readonly db: Kysely<Database>;
  /**
   * The data plane serves DHCP from a network:dhcp port per network, which this service creates (Neutron's DHCP agent
   * does).
   */
  private readonly wantsDhcpPorts: boolean;

  /** What the data plane found when wiring a port: its status and binding fields follow. */
  private async recordPortStatus(r: PortStatusReport): Promise<void> {
    await this.db
      .updateTable('net_ports')
      .set({ status: r.status, binding_vif_type: r.vifType, binding_vif_details: JSON.stringify(r.vifDetails) })
      .where('id', '=', r.portId)
      .execute();
  }

  /** Gives a network with DHCP-enabled subnets its network:dhcp port, holding an address on each of them. */
  private async ensureDhcpPort(networkId: string): Promise<void> {
    const subnets = (
      await this.db
        .selectFrom('net_subnets')
        .select(['id', 'enable_dhcp', 'ip_version', 'ipv6_address_mode', 'ipv6_ra_mode'])
        .where('network_id', '=', networkId)
        .execute()
    ).filter((s) => s.enable_dhcp && (s.ip_version === 4 || s.ipv6_address_mode || s.ipv6_ra_mode));
    if (!subnets.length) return;
    const existing = (await this.ports.list(SYSTEM_CONTEXT, { networkId })).find(
      (p) => p.device_owner === 'network:dhcp',
    );
    const net = await this.networks.find(networkId);
    if (!net) return;
    if (!existing) {
      const port = await this.ports.create(SYSTEM_CONTEXT, {
        network_id: networkId,
        device_owner: 'network:dhcp',
        device_id: `dhcp-${networkId}`,
        project_id: net.project_id,
        name: '',
        fixed_ips: subnets.map((s) => ({ subnet_id: s.id })),
      });
      await this.events.publish('port', 'created', (await this.render('port', port.id)) ?? { id: port.id });
      return;
    }
    const have = new Set((await this.ports.fixedIps(this.db, existing.id)).map((f) => f.subnet_id));
    const missing = subnets.filter((s) => !have.has(s.id));
    if (!missing.length) return;
    const fixed = [
      ...(await this.ports.fixedIps(this.db, existing.id)).map((f) => ({
        subnet_id: f.subnet_id,
        ip_address: f.ip_address,
      })),
      ...missing.map((s) => ({ subnet_id: s.id })),
    ];
    await this.ports.update(SYSTEM_CONTEXT, existing.id, { fixed_ips: fixed });
    await this.events.publish('port', 'updated', (await this.render('port', existing.id)) ?? { id: existing.id });
  }

  /** The admin view of one object, as drivers receive it. */
  async render(kind: NetObjectKind, id: string): Promise<Obj | undefined> {
    const s = SYSTEM_CONTEXT;
    switch (kind) {
      case 'network': {
        const n = await this.networks.find(id);
        return n ? (await this.networks.views(s, [n]))[0] : undefined;
      }
      case 'subnet': {
        const x = await this.subnets.find(id);
        return x ? (await this.subnets.views([x]))[0] : undefined;
      }
      case 'port': {
        const p = await this.ports.find(id);
        return p ? (await this.ports.views(s, [p]))[0] : undefined;
      }
      case 'router': {
        const r = await this.routers.find(id);
        if (!r) return undefined;
        const v = (await this.routers.views(s, [r]))[0]!;
        v.interfaces = await this.ports.views(s, await this.routers.interfaces(this.db, id));
        v.metering_labels = await this.metering.forRouterProject(r.project_id);
        return v;
      }
      case 'floatingip': {
        const f = await this.floatingIps.list(s, { ids: [id] });
        return f.length ? (await this.floatingIps.views(f))[0] : undefined;
      }
      case 'security_group': {
        const g = await this.securityGroups.list(s, { ids: [id] });
        return g.length ? (await this.securityGroups.views(g))[0] : undefined;
      }
    }
  }

  /** Tells the data plane about a change; `object` is the last state for deletions, else it is read fresh. */
  async publish(kind: NetObjectKind, action: NetAction, id: string, object?: Obj): Promise<void> {
    const obj = action === 'deleted' ? (object ?? { id }) : ((await this.render(kind, id)) ?? object ?? { id });
    await this.events.publish(kind, action, obj);
    if (this.runsAgents) await this.agents.follow(kind, action, id, obj).catch((e) => this.events.report(e));
    if (this.wantsDhcpPorts && action !== 'deleted' && (kind === 'subnet' || kind === 'network')) {
      await this.ensureDhcpPort(kind === 'subnet' ? String(obj.network_id) : id).catch((e) => this.events.report(e));
    }
  }

  /** Re-plans the routers a metering label applies to (after the label or one of its rules changed). */
  async publishMetering(labelId: string, label?: MeteringLabel): Promise<void> {
    const l = label ?? (await this.metering.getLabel(SYSTEM_CONTEXT, labelId));
    for (const routerId of await this.metering.routersOf(l)) await this.publish('router', 'updated', routerId);
  }

  /** Bytes and packets per metering label, summed over this host's routers (zeros without a metering data plane). */
  meteringTraffic(): Promise<LabelTraffic[]> {
    const d = this.events.driver;
    return this.metering.traffic(d.readMeteringCounters ? () => d.readMeteringCounters!() : undefined);
  }

  /** Hands the whole state to the driver (at start, after a restart). */
  async resync(): Promise<void> {
    const s = SYSTEM_CONTEXT;
    if (this.wantsDhcpPorts) {
      for (const n of await this.db.selectFrom('net_subnets').select('network_id').distinct().execute())
        await this.ensureDhcpPort(n.network_id);
    }
    const routers = await this.routers.views(s, await this.routers.list(s));
    for (const r of routers) {
      r.interfaces = await this.ports.views(s, await this.routers.interfaces(this.db, String(r.id)));
      r.metering_labels = await this.metering.forRouterProject(String(r.project_id));
    }
    await this.events.resync({
      networks: await this.networks.views(s, await this.networks.list(s)),
      subnets: await this.subnets.views(await this.subnets.list(s)),
      ports: await this.ports.views(s, await this.ports.list(s)),
      routers,
      floatingips: await this.floatingIps.views(await this.floatingIps.list(s)),
      security_groups: await this.securityGroups.views(
        await this.db.selectFrom('net_security_groups').selectAll().execute(),
      ),
    });
  }

  /** network-ip-availabilities (admin): totals of the pools and used addresses per subnet. */
  async ipAvailability(a: AuthContext, networkId?: string): Promise<Obj[]> {
    if (!admin(a))
      throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:get_network_ip_availability is disallowed by policy');
    let q = this.db.selectFrom('net_networks').selectAll().orderBy('created_at');
    if (networkId) q = q.where('id', '=', networkId);
    const nets = await q.execute();
    if (networkId && nets.length === 0)
      throw nerr('NotFound', 'NetworkNotFound', `Network ${networkId} could not be found.`);
    const out: Obj[] = [];
    for (const n of nets) {
      const subnets = await this.db.selectFrom('net_subnets').selectAll().where('network_id', '=', n.id).execute();
      const per = [];
      for (const s of subnets) {
        per.push({
          subnet_id: s.id,
          subnet_name: s.name,
          cidr: s.cidr,
          ip_version: s.ip_version,
          total_ips: Number(poolSize(poolsOf(s))),
          used_ips: await this.ipam.used(this.db, s.id),
        });
      }
      out.push({
        network_id: n.id,
        network_name: n.name,
        tenant_id: n.project_id,
        project_id: n.project_id,
        subnet_ip_availability: per,
        total_ips: per.reduce((x, s) => x + s.total_ips, 0),
        used_ips: per.reduce((x, s) => x + s.used_ips, 0),
      });
    }
    return out;
  }

  availabilityZones(): Obj[] {
    return this.options.availabilityZones.flatMap((name) =>
      ['network', 'router'].map((resource) => ({ name, resource, state: 'available' })),
    );
  }

  // --- what Nova calls

  /** Creates (or adopts) the port an instance gets on a network, or takes a given port; binds it to the host. */
  async createInstancePort(a: AuthContext, instanceId: string, req: InstancePortRequest): Promise<Obj> {
    let port: Port;
    if (req.portId) {
      port = await this.ports.get(a, req.portId);
      if (port.device_id && port.device_id !== instanceId) {
        throw nerr(
          'Conflict',
          'PortInUse',
          `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an ` +
            `attached device ${port.device_id}.`,
        );
      }
      const body: Obj = { device_id: instanceId, device_owner: port.device_owner || 'compute:nova' };
      if (req.hostId !== undefined) body['binding:host_id'] = req.hostId;
      port = (await this.ports.update(SYSTEM_CONTEXT, port.id, body)).port;
      await this.publish('port', req.hostId ? 'bound' : 'updated', port.id);
    } else {
      if (!req.networkId) throw nerr('BadRequest', 'BadRequest', 'A network or a port is required.');
      const body: Obj = {
        network_id: req.networkId,
        device_id: instanceId,
        device_owner: 'compute:nova',
        project_id: projectOf(a),
      };
      if (req.fixedIp) body.fixed_ips = [{ ip_address: req.fixedIp }];
      if (req.securityGroups) body.security_groups = req.securityGroups;
      port = await this.ports.create(a, body);
      if (req.hostId !== undefined)
        port = (await this.ports.update(SYSTEM_CONTEXT, port.id, { 'binding:host_id': req.hostId })).port;
      await this.publish('port', 'created', port.id);
      if (req.hostId) await this.publish('port', 'bound', port.id);
    }
    return (await this.ports.views(SYSTEM_CONTEXT, [port]))[0]!;
  }

  /** Binds an instance's port to a host (after scheduling or a move). */
  async bindPort(portId: string, hostId: string): Promise<Obj> {
    const { port } = await this.ports.update(SYSTEM_CONTEXT, portId, { 'binding:host_id': hostId });
    await this.publish('port', hostId ? 'bound' : 'updated', port.id);
    return (await this.ports.views(SYSTEM_CONTEXT, [port]))[0]!;
  }

  /** Deletes the ports Nova created for an instance; ports the user passed in are only detached. */
  async releaseInstancePorts(instanceId: string, preexisting: string[] = []): Promise<void> {
    for (const p of await this.ports.list(SYSTEM_CONTEXT, { deviceId: instanceId })) {
      if (preexisting.includes(p.id)) {
        await this.ports.update(SYSTEM_CONTEXT, p.id, { device_id: '', device_owner: '', 'binding:host_id': '' });
        await this.publish('port', 'updated', p.id);
      } else {
        const last = await this.render('port', p.id);
        await this.ports.delete(SYSTEM_CONTEXT, p.id);
        await this.publish('port', 'deleted', p.id, last);
      }
    }
  }

  /** The ports of a server (admin view). */
  async serverPorts(instanceId: string): Promise<Obj[]> {
    return this.ports.views(SYSTEM_CONTEXT, await this.ports.list(SYSTEM_CONTEXT, { deviceId: instanceId }));
  }

  /** A server's addresses by network, fixed and floating, for Nova's `addresses`. */
  async serverAddresses(instanceId: string): Promise<ServerAddress[]> {
    const out: ServerAddress[] = [];
    for (const p of await this.ports.list(SYSTEM_CONTEXT, { deviceId: instanceId })) {
      const net = await this.networks.find(p.network_id);
      for (const ip of await this.ports.fixedIps(this.db, p.id)) {
        const version = ip.ip_address.includes(':') ? 6 : 4;
        out.push({
          networkId: p.network_id,
          networkName: net?.name ?? '',
          portId: p.id,
          mac: p.mac_address,
          ip: ip.ip_address,
          version,
          type: 'fixed',
        });
        const fips = await this.db
          .selectFrom('net_floating_ips')
          .select('floating_ip_address')
          .where('port_id', '=', p.id)
          .where('fixed_ip_address', '=', ip.ip_address)
          .execute();
        for (const f of fips)
          out.push({
            networkId: p.network_id,
            networkName: net?.name ?? '',
            portId: p.id,
            mac: p.mac_address,
            ip: f.floating_ip_address,
            version: 4,
            type: 'floating',
          });
      }
    }
    return out;
  }

  /**
   * `networks: auto`: the one network the project can use (its own, else a shared one). With none, a topology is
   * allocated as Neutron's auto-allocated-topology does: a network, a subnet and a router to the default external
   * network. 409 when the choice is ambiguous (Nova's NetworkAmbiguous) or nothing can be allocated.
   */
  async autoNetwork(a: AuthContext): Promise<string> {
    const visible = (await this.networks.list(a)).filter((n) => !n.router_external);
    const own = visible.filter((n) => n.project_id === projectOf(a));
    const candidates = own.length ? own : visible.filter((n) => n.shared);
    if (candidates.length === 1) return candidates[0]!.id;
    if (candidates.length === 0) return this.allocateTopology(a);
    const def = candidates.filter((n) => n.is_default);
    if (def.length === 1) return def[0]!.id;
    throw nerr(
      'Conflict',
      'NetworkAmbiguous',
      'Multiple possible networks found, use a Network ID to be more specific.',
    );
  }

  private async allocateTopology(a: AuthContext): Promise<string> {
    const externals = (await this.networks.list(SYSTEM_CONTEXT)).filter((n) => n.router_external);
    const ext =
      externals.find((n) => n.is_default) ??
      (externals.length === 1 ? externals[0] : externals.find((n) => n.name === 'public'));
    if (!ext)
      throw nerr(
        'Conflict',
        'AutoAllocationFailure',
        'Deployment error: no default external network for automatic allocation.',
      );
    const project = projectOf(a);
    const as = { ...SYSTEM_CONTEXT, projectId: project };
    const net = await this.networks.create(as, { name: 'auto_allocated_network', project_id: project });
    try {
      const subnet = await this.subnets.create(as, {
        name: 'auto_allocated_subnet_v4',
        network_id: net.id,
        ip_version: 4,
        cidr: '10.254.0.0/24',
        project_id: project,
      });
      const router = await this.routers.create(as, {
        name: 'auto_allocated_router',
        project_id: project,
        external_gateway_info: { network_id: ext.id },
      });
      await this.routers.addInterface(as, router.id, { subnet_id: subnet.id });
      await this.publish('network', 'created', net.id);
      await this.publish('router', 'created', router.id);
    } catch (e) {
      // Undo what was made; the setup's own error is the one to report, not a failed cleanup of it.
      await this.networks.delete(as, net.id, async () => {}).catch(() => {});
      throw e;
    }
    return net.id;
  }

  /** Security group ids by name (or id) in a project; 404 naming the first that is missing, 409 when ambiguous. */
  async securityGroupIds(a: AuthContext, namesOrIds: string[]): Promise<string[]> {
    const groups = await this.securityGroups.list(a, { projectId: projectOf(a) });
    return namesOrIds.map((key) => {
      const byId = groups.find((g) => g.id === key);
      if (byId) return byId.id;
      const byName = groups.filter((g) => g.name === key);
      if (byName.length === 1) return byName[0]!.id;
      if (byName.length > 1)
        throw nerr('Conflict', 'DuplicateSecurityGroupName', `Multiple security groups named ${key} exist; use an id.`);
      throw nerr('NotFound', 'SecurityGroupNotFound', `Security group ${key} not found.`);
    });
  }
}
