// Neutron's agents API: the data plane's agents as an admin sees them (a non-admin lists an empty list, 200, as
// Neutron filters what get_agent refuses: Tempest's test_list_agents_non_admin), show/update/delete, and the DHCP and
// L3 agent schedulers. The test cloud runs QEMU user networking, which runs no agents, so agents here come from a
// heartbeat written the way the Linux bridge data plane writes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser, uniq } from '../identity/fixtures.js';
import { NetworkService, SYSTEM_CONTEXT, networkOptions } from '../../../src/services/network/index.js';
import { NoopNetDriver, type AgentReport, type NetDriver } from '../../../src/net/index.js';

let cloud: TestCloud;
const host = uniq('agent-host');
const reports: AgentReport[] = [
  { kind: 'l2', host, configurations: { devices: 0, tunnel_types: [] } },
  { kind: 'dhcp', host, configurations: { dhcp_driver: 'dnsmasq', networks: 0 } },
  { kind: 'l3', host, configurations: { agent_mode: 'legacy', routers: 0 } },
  { kind: 'metadata', host, configurations: { proxies: 0 } },
];

before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

const get = (path: string, token = cloud.adminToken) => cloud.request('GET', `/network/v2.0/${path}`, { token });
const agentOf = async (type: string) => {
  const r = await get('agents');
  assert.equal(r.status, 200, r.text);
  return (r.json.agents as Record<string, unknown>[]).find((a) => a.agent_type === type && a.host === host)!;
};

test('agents: the user data plane runs none, and the agent extensions are not listed', async () => {
  const r = await get('agents');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.agents, []);
  const aliases = ((await get('extensions')).json.extensions as { alias: string }[]).map((e) => e.alias);
  for (const a of ['agent', 'dhcp_agent_scheduler', 'l3_agent_scheduler']) assert.ok(!aliases.includes(a), a);
  assert.ok(aliases.includes('service-type'));
  const sp = await get('service-providers');
  assert.equal(sp.status, 200, sp.text);
  assert.deepEqual(sp.json.service_providers, []);
});

test('agents: a heartbeat makes the four agents; admin sees them, a member sees an empty list', async () => {
  await cloud.controller.deps.network.agents.report(reports, true);
  const p = await createProject(cloud);
  const member = await createUser(cloud, p.id, p.name, ['member']);
  const r = await get('agents', member.token);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.agents, []);
  const dhcp = await agentOf('DHCP agent');
  assert.equal(dhcp.binary, 'neutron-dhcp-agent');
  assert.equal(dhcp.topic, 'dhcp_agent');
  assert.equal(dhcp.alive, true);
  assert.equal(dhcp.admin_state_up, true);
  assert.equal(dhcp.availability_zone, 'nova');
  assert.deepEqual(dhcp.configurations, { dhcp_driver: 'dnsmasq', networks: 0 });
  assert.match(String(dhcp.heartbeat_timestamp), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  const l2 = await agentOf('Linux bridge agent');
  assert.equal(l2.binary, 'neutron-linuxbridge-agent');
  assert.equal(l2.availability_zone, null);
  assert.equal((await agentOf('L3 agent')).binary, 'neutron-l3-agent');
  assert.equal((await agentOf('Metadata agent')).binary, 'neutron-metadata-agent');
  const one = await get(`agents/${dhcp.id}`, member.token);
  assert.equal(one.status, 403, one.text);
  assert.equal((await get('agents?agent_type=L3+agent')).json.agents.length >= 1, true);
  assert.equal((await get(`agents/${dhcp.id}`)).json.agent.id, dhcp.id);
});

test('agents: update takes admin_state_up and description; delete removes, a heartbeat brings back', async () => {
  const l2 = await agentOf('Linux bridge agent');
  const url = `/network/v2.0/agents/${l2.id}`;
  const token = cloud.adminToken;
  let r = await cloud.request('PUT', url, { token, body: { agent: { admin_state_up: false, description: 'x' } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.agent.admin_state_up, false);
  assert.equal(r.json.agent.description, 'x');
  r = await cloud.request('PUT', url, { token, body: { agent: { host: 'elsewhere' } } });
  assert.equal(r.status, 400, r.text);
  assert.ok(r.json.NeutronError, r.text);
  r = await cloud.request('PUT', url, { token, body: { agent: { admin_state_up: 'maybe' } } });
  assert.equal(r.status, 400, r.text);
  r = await cloud.request('DELETE', url, { token });
  assert.equal(r.status, 204, r.text);
  assert.equal((await get(`agents/${l2.id}`)).status, 404);
  await cloud.controller.deps.network.agents.report(reports);
  assert.equal((await agentOf('Linux bridge agent')).admin_state_up, true);
});

test('agents: the DHCP scheduler lists, adds and removes networks; the L3 scheduler routers', async () => {
  const token = cloud.adminToken;
  const dhcp = await agentOf('DHCP agent');
  const l3 = await agentOf('L3 agent');
  const net = await cloud.request('POST', '/network/v2.0/networks', { token, body: { network: { name: uniq('n') } } });
  const netId = net.json.network.id as string;
  const add = (body: unknown) =>
    cloud.request('POST', `/network/v2.0/agents/${dhcp.id}/dhcp-networks`, { token, body });
  assert.equal((await add({ network_id: netId })).status, 201);
  assert.equal((await add({ network_id: netId })).status, 409);
  assert.equal((await add({ network_id: '00000000-0000-4000-8000-000000000000' })).status, 404);
  assert.equal((await add({})).status, 400);
  const hosted = await get(`agents/${dhcp.id}/dhcp-networks`);
  assert.ok((hosted.json.networks as { id: string }[]).some((n) => n.id === netId));
  assert.deepEqual(
    ((await get(`networks/${netId}/dhcp-agents`)).json.agents as { id: string }[]).map((a) => a.id),
    [dhcp.id],
  );
  // Only a DHCP agent hosts networks.
  const wrong = await cloud.request('POST', `/network/v2.0/agents/${l3.id}/dhcp-networks`, {
    token,
    body: { network_id: netId },
  });
  assert.equal(wrong.status, 404, wrong.text);
  const del = (id: string) => cloud.request('DELETE', `/network/v2.0/agents/${dhcp.id}/dhcp-networks/${id}`, { token });
  assert.equal((await del(netId)).status, 204);
  assert.equal((await del(netId)).status, 409);
  assert.deepEqual((await get(`networks/${netId}/dhcp-agents`)).json.agents, []);

  const router = await cloud.request('POST', '/network/v2.0/routers', { token, body: { router: { name: uniq('r') } } });
  const rid = router.json.router.id as string;
  const addR = await cloud.request('POST', `/network/v2.0/agents/${l3.id}/l3-routers`, {
    token,
    body: { router_id: rid },
  });
  assert.equal(addR.status, 201, addR.text);
  assert.ok(((await get(`agents/${l3.id}/l3-routers`)).json.routers as { id: string }[]).some((x) => x.id === rid));
  assert.equal(((await get(`routers/${rid}/l3-agents`)).json.agents as unknown[]).length, 1);
  const delR = () => cloud.request('DELETE', `/network/v2.0/agents/${l3.id}/l3-routers/${rid}`, { token });
  assert.equal((await delR()).status, 204);
  assert.equal((await delR()).status, 409);

  // A member may not touch the schedulers.
  const p = await createProject(cloud);
  const member = await createUser(cloud, p.id, p.name, ['member']);
  assert.equal((await get(`agents/${dhcp.id}/dhcp-networks`, member.token)).status, 403);
});

test('agents: new networks and routers are scheduled on a live agent that is up, never on one set down', async () => {
  // A second service over the same database whose data plane runs agents (as the Linux bridge one does).
  const driver: NetDriver = Object.assign(new NoopNetDriver(), { agentReports: async () => reports });
  const svc = new NetworkService({
    db: cloud.controller.store.db,
    dialect: cloud.controller.store.dialect,
    options: networkOptions(cloud.controller.deps.config.network),
    driver,
  });
  assert.equal(svc.runsAgents, true);
  const a = SYSTEM_CONTEXT;
  const dhcp = await agentOf('DHCP agent');
  const l3 = await agentOf('L3 agent');
  const mkNet = async () => {
    const n = await svc.networks.create(a, { name: uniq('sched'), project_id: 'p' });
    const s = await svc.subnets.create(a, { network_id: n.id, cidr: '10.99.0.0/24', ip_version: 4, project_id: 'p' });
    await svc.publish('subnet', 'created', s.id);
    return n.id;
  };
  const first = await mkNet();
  assert.deepEqual(
    (await svc.agents.dhcpAgentsOf(first)).map((x) => x.id),
    [dhcp.id],
  );
  const r1 = await svc.routers.create(a, { name: uniq('r'), project_id: 'p' });
  await svc.publish('router', 'created', r1.id);
  assert.deepEqual(
    (await svc.agents.l3AgentsOf(r1.id)).map((x) => x.id),
    [l3.id],
  );
  for (const id of [dhcp.id, l3.id])
    await cloud.request('PUT', `/network/v2.0/agents/${id}`, {
      token: cloud.adminToken,
      body: { agent: { admin_state_up: false } },
    });
  const second = await mkNet();
  assert.deepEqual(await svc.agents.dhcpAgentsOf(second), []);
  const r2 = await svc.routers.create(a, { name: uniq('r'), project_id: 'p' });
  await svc.publish('router', 'created', r2.id);
  assert.deepEqual(await svc.agents.l3AgentsOf(r2.id), []);
  // A router deleted loses its binding.
  await svc.publish('router', 'deleted', r1.id, { id: r1.id });
  assert.deepEqual(await svc.agents.l3AgentsOf(r1.id), []);
});
