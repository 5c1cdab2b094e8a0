// Neutron's agents (the `agent`, `dhcp_agent_scheduler` and `l3_agent_scheduler` extensions): the data plane's
// parts per host, kept alive by the heartbeat the data plane writes, and which DHCP agent hosts which network and
// which L3 agent which router. Only admins see agents (Neutron's get_agent is admin only; a non-admin's list is
// empty, not a 403). An agent an admin sets down, or one whose heartbeat stopped, is given no new network or router.
import type { AgentKind, AgentReport, NetAction, NetObjectKind } from '../../net/index.js';
import { uuid } from '../../util/ids.js';
import type { NetAgentRow } from '../../store/network-agent-tables.js';
import type { AuthContext } from '../auth-context.js';
import { type NetworkDeps, type Obj, admin, badInput, nerr, now } from './common.js';

/** Neutron's agent_type, binary and topic of each part (neutron-lib's constants). */
const KINDS: Record<AgentKind, { type: string; binary: string; topic: string; zoned: boolean }> = {
  l2: { type: 'Linux bridge agent', binary: 'neutron-linuxbridge-agent', topic: 'N/A', zoned: false },
  dhcp: { type: 'DHCP agent', binary: 'neutron-dhcp-agent', topic: 'dhcp_agent', zoned: true },
  l3: { type: 'L3 agent', binary: 'neutron-l3-agent', topic: 'l3_agent', zoned: true },
  metadata: { type: 'Metadata agent', binary: 'neutron-metadata-agent', topic: 'N/A', zoned: false },
};
export const DHCP_AGENT = KINDS.dhcp.type;
export const L3_AGENT = KINDS.l3.type;

/** Neutron's defaults: agents report every 30 s and count as dead after 75 s without a report. */
export const AGENT_REPORT_INTERVAL_MS = 30_000;
const AGENT_DOWN_TIME_MS = 75_000;

/** Neutron prints agent times as "YYYY-MM-DD HH:MM:SS" (UTC, no zone). */
const neutronTime = (iso: string): string => iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');

const agentNotFound = (id: string) => nerr('NotFound', 'AgentNotFound', `Agent ${id} could not be found.`);

/** The fields an admin may change (Neutron: everything else is read-only). */
const WRITABLE = new Set(['admin_state_up', 'description']);

export class Agents {
  constructor(private readonly d: NetworkDeps) {}

  /**
   * Records one heartbeat of a host's data plane: creates the agents on first report, refreshes them after.
   * `starting`: the first report of this process (Neutron's started_at moves when an agent starts again).
   */
  async report(reports: AgentReport[], starting = false): Promise<void> {
    const at = now();
    for (const r of reports) {
      const k = KINDS[r.kind];
      const configurations = JSON.stringify(r.configurations);
      const hit = await this.d.db
        .selectFrom('net_agents')
        .select('id')
        .where('agent_type', '=', k.type)
        .where('host', '=', r.host)
        .executeTakeFirst();
      if (hit) {
        await this.d.db
          .updateTable('net_agents')
          .set({ heartbeat_at: at, configurations, ...(starting ? { started_at: at } : {}) })
          .where('id', '=', hit.id)
          .execute();
        continue;
      }
      await this.d.db
        .insertInto('net_agents')
        .values({
          id: uuid(),
          agent_type: k.type,
          binary: k.binary,
          topic: k.topic,
          host: r.host,
          availability_zone: k.zoned ? (this.d.options.availabilityZones[0] ?? 'nova') : null,
          admin_state_up: 1,
          description: null,
          configurations,
          created_at: at,
          started_at: at,
          heartbeat_at: at,
        })
        .onConflict((oc) => oc.columns(['agent_type', 'host']).doNothing())
        .execute();
    }
  }

  private alive(r: NetAgentRow): boolean {
    return Date.now() - Date.parse(r.heartbeat_at) <= AGENT_DOWN_TIME_MS;
  }

  private view(r: NetAgentRow): Obj {
    return {
      id: r.id,
      agent_type: r.agent_type,
      binary: r.binary,
      topic: r.topic,
      host: r.host,
      admin_state_up: r.admin_state_up === 1,
      alive: this.alive(r),
      availability_zone: r.availability_zone,
      description: r.description,
      configurations: JSON.parse(r.configurations) as Obj,
      created_at: neutronTime(r.created_at),
      started_at: neutronTime(r.started_at),
      heartbeat_timestamp: neutronTime(r.heartbeat_at),
      resources_synced: null,
    };
  }

  private async row(id: string): Promise<NetAgentRow> {
    const r = await this.d.db.selectFrom('net_agents').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw agentNotFound(id);
    return r;
  }

  /** Every agent for an admin; nothing for anyone else (Neutron filters what get_agent refuses). */
  async list(a: AuthContext): Promise<Obj[]> {
    if (!admin(a)) return [];
    const rows = await this.d.db.selectFrom('net_agents').selectAll().orderBy('host').orderBy('agent_type').execute();
    return rows.map((r) => this.view(r));
  }

  async show(id: string): Promise<Obj> {
    return this.view(await this.row(id));
  }

  async update(id: string, body: Obj): Promise<Obj> {
    await this.row(id);
    for (const k of Object.keys(body)) if (!WRITABLE.has(k)) throw badInput(`Cannot update read-only attribute ${k}`);
    if (body.admin_state_up !== undefined && typeof body.admin_state_up !== 'boolean')
      throw badInput(`'${String(body.admin_state_up)}' is not a valid boolean value`);
    if (body.description !== undefined && body.description !== null && typeof body.description !== 'string')
      throw badInput('description must be a string');
    const set: Partial<NetAgentRow> = {};
    if (body.admin_state_up !== undefined) set.admin_state_up = body.admin_state_up ? 1 : 0;
    if (body.description !== undefined) set.description = (body.description as string | null) ?? null;
    if (Object.keys(set).length) await this.d.db.updateTable('net_agents').set(set).where('id', '=', id).execute();
    return this.show(id);
  }

  /** Removes an agent and its bindings; a live one registers again at its next heartbeat, as in Neutron. */
  async delete(id: string): Promise<void> {
    await this.row(id);
    await this.d.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('net_agent_networks').where('agent_id', '=', id).execute();
      await trx.deleteFrom('net_agent_routers').where('agent_id', '=', id).execute();
      await trx.deleteFrom('net_agents').where('id', '=', id).execute();
    });
  }

  // --- the schedulers

  /** An agent of the given type that may take new work: an admin may set one down, a silent one is dead. */
  private async ofType(id: string, type: string): Promise<NetAgentRow> {
    const r = await this.row(id);
    if (r.agent_type !== type || r.admin_state_up !== 1) {
      const what = type === DHCP_AGENT ? 'InvalidDHCPAgent' : 'InvalidL3Agent';
      const label = type === DHCP_AGENT ? 'DHCP' : 'L3';
      throw nerr('NotFound', what, `Agent ${id} is not a valid ${label} Agent or has been disabled`);
    }
    return r;
  }

  async networksOf(agentId: string): Promise<string[]> {
    await this.row(agentId);
    const rows = await this.d.db
      .selectFrom('net_agent_networks')
      .select('network_id')
      .where('agent_id', '=', agentId)
      .execute();
    return rows.map((r) => r.network_id);
  }

  async routersOf(agentId: string): Promise<string[]> {
    await this.row(agentId);
    const rows = await this.d.db
      .selectFrom('net_agent_routers')
      .select('router_id')
      .where('agent_id', '=', agentId)
      .execute();
    return rows.map((r) => r.router_id);
  }

  async dhcpAgentsOf(networkId: string): Promise<Obj[]> {
    const rows = await this.d.db
      .selectFrom('net_agents')
      .innerJoin('net_agent_networks', 'net_agent_networks.agent_id', 'net_agents.id')
      .selectAll('net_agents')
      .where('net_agent_networks.network_id', '=', networkId)
      .execute();
    return rows.map((r) => this.view(r));
  }

  async l3AgentsOf(routerId: string): Promise<Obj[]> {
    const rows = await this.d.db
      .selectFrom('net_agents')
      .innerJoin('net_agent_routers', 'net_agent_routers.agent_id', 'net_agents.id')
      .selectAll('net_agents')
      .where('net_agent_routers.router_id', '=', routerId)
      .execute();
    return rows.map((r) => this.view(r));
  }

  async addNetwork(agentId: string, networkId: string): Promise<void> {
    await this.ofType(agentId, DHCP_AGENT);
    const hit = await this.d.db
      .selectFrom('net_agent_networks')
      .select('agent_id')
      .where('agent_id', '=', agentId)
      .where('network_id', '=', networkId)
      .executeTakeFirst();
    if (hit)
      throw nerr(
        'Conflict',
        'NetworkHostedByDHCPAgent',
        `The network ${networkId} has been already hosted by the DHCP Agent ${agentId}.`,
      );
    await this.d.db.insertInto('net_agent_networks').values({ agent_id: agentId, network_id: networkId }).execute();
  }

  async removeNetwork(agentId: string, networkId: string): Promise<void> {
    await this.row(agentId);
    const gone = await this.d.db
      .deleteFrom('net_agent_networks')
      .where('agent_id', '=', agentId)
      .where('network_id', '=', networkId)
      .executeTakeFirst();
    if (Number(gone.numDeletedRows) === 0)
      throw nerr(
        'Conflict',
        'NetworkNotHostedByDhcpAgent',
        `The network ${networkId} is not hosted by the DHCP agent ${agentId}.`,
      );
  }

  async addRouter(agentId: string, routerId: string): Promise<void> {
    await this.ofType(agentId, L3_AGENT);
    const hit = await this.d.db
      .selectFrom('net_agent_routers')
      .select('agent_id')
      .where('router_id', '=', routerId)
      .executeTakeFirst();
    // One L3 agent per router (no HA routers): Neutron refuses a second one.
    if (hit)
      throw nerr(
        'Conflict',
        'RouterHostedByL3Agent',
        `The router ${routerId} has been already hosted by the L3 Agent ${hit.agent_id}.`,
      );
    await this.d.db.insertInto('net_agent_routers').values({ agent_id: agentId, router_id: routerId }).execute();
  }

  async removeRouter(agentId: string, routerId: string): Promise<void> {
    await this.row(agentId);
    const gone = await this.d.db
      .deleteFrom('net_agent_routers')
      .where('agent_id', '=', agentId)
      .where('router_id', '=', routerId)
      .executeTakeFirst();
    if (Number(gone.numDeletedRows) === 0)
      throw nerr(
        'Conflict',
        'RouterNotHostedByL3Agent',
        `The router ${routerId} is not hosted by L3 agent ${agentId}.`,
      );
  }

  /** The least loaded live, admin-up agent of a type (Neutron's default schedulers pick one per network/router). */
  private async pick(type: string, bindings: 'net_agent_networks' | 'net_agent_routers'): Promise<string | null> {
    const rows = await this.d.db
      .selectFrom('net_agents')
      .selectAll()
      .where('agent_type', '=', type)
      .where('admin_state_up', '=', 1)
      .execute();
    const live = rows.filter((r) => this.alive(r));
    if (!live.length) return null;
    const load = new Map<string, number>();
    for (const b of await this.d.db.selectFrom(bindings).select('agent_id').execute())
      load.set(b.agent_id, (load.get(b.agent_id) ?? 0) + 1);
    live.sort((x, y) => (load.get(x.id) ?? 0) - (load.get(y.id) ?? 0) || x.host.localeCompare(y.host));
    return live[0]!.id;
  }

  /** Gives a network with DHCP a DHCP agent when it has none (a network with one keeps it). */
  async scheduleNetwork(networkId: string): Promise<void> {
    const hosted = await this.d.db
      .selectFrom('net_agent_networks')
      .select('agent_id')
      .where('network_id', '=', networkId)
      .executeTakeFirst();
    if (hosted) return;
    const agent = await this.pick(DHCP_AGENT, 'net_agent_networks');
    if (agent)
      await this.d.db
        .insertInto('net_agent_networks')
        .values({ agent_id: agent, network_id: networkId })
        .onConflict((oc) => oc.doNothing())
        .execute();
  }

  /** Gives a router an L3 agent when it has none. */
  async scheduleRouter(routerId: string): Promise<void> {
    const hosted = await this.d.db
      .selectFrom('net_agent_routers')
      .select('agent_id')
      .where('router_id', '=', routerId)
      .executeTakeFirst();
    if (hosted) return;
    const agent = await this.pick(L3_AGENT, 'net_agent_routers');
    if (agent)
      await this.d.db
        .insertInto('net_agent_routers')
        .values({ agent_id: agent, router_id: routerId })
        .onConflict((oc) => oc.doNothing())
        .execute();
  }

  /** Schedules every DHCP network and router that no agent hosts (at start). */
  async scheduleUnhosted(): Promise<void> {
    const nets = await this.d.db.selectFrom('net_subnets').select('network_id').where('enable_dhcp', '=', 1).execute();
    for (const id of new Set(nets.map((n) => n.network_id))) await this.scheduleNetwork(id);
    for (const r of await this.d.db.selectFrom('net_routers').select('id').execute()) await this.scheduleRouter(r.id);
  }

  /** Keeps the bindings in step with a change: a network with DHCP and a new router get an agent, deleted ones none. */
  async follow(kind: NetObjectKind, action: NetAction, id: string, obj: Obj): Promise<void> {
    if (action === 'deleted' && (kind === 'network' || kind === 'router')) return this.forget(kind, id);
    if (kind === 'subnet' && action !== 'deleted' && obj.enable_dhcp === true)
      return this.scheduleNetwork(String(obj.network_id));
    if (kind === 'router' && action === 'created') return this.scheduleRouter(id);
  }

  /** Drops the bindings of a deleted network or router. */
  async forget(kind: 'network' | 'router', id: string): Promise<void> {
    if (kind === 'network') await this.d.db.deleteFrom('net_agent_networks').where('network_id', '=', id).execute();
    else await this.d.db.deleteFrom('net_agent_routers').where('router_id', '=', id).execute();
  }
}
