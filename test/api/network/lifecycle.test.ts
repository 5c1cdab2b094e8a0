// The network model end to end through the API: topology, routers, floating IPs, delete order, events, IPAM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { requireOrSkip, testPgUrl } from '../../helpers/requirements.js';
import type { NoopNetDriver } from '../../../src/net/index.js';
import { api, makeMember, neutronError, type Member } from './helpers.js';

let cloud: TestCloud;
let call: ReturnType<typeof api>;
let member: Member;

before(async () => {
  cloud = await createTestCloud();
  call = api(cloud);
  member = await makeMember(cloud, 'life');
});
after(async () => {
  await cloud.close();
});

test('first start creates public, private and router1; version discovery and extensions answer', async () => {
  const root = await cloud.request('GET', '/network/');
  assert.equal(root.status, 200);
  assert.equal(root.json.versions[0].id, 'v2.0');
  const nets = (await call(cloud.adminToken, 'GET', '/networks', undefined, 200)).networks;
  const pub = nets.find((n: any) => n.name === 'public');
  assert.equal(pub['router:external'], true);
  assert.equal(pub['provider:network_type'], 'flat');
  const sub = (await call(cloud.adminToken, 'GET', `/subnets?network_id=${pub.id}`, undefined, 200)).subnets[0];
  assert.equal(sub.enable_dhcp, false);
  assert.ok(nets.some((n: any) => n.name === 'private' && n['router:external'] === false));
  const r = (await call(cloud.adminToken, 'GET', '/routers?name=router1', undefined, 200)).routers[0];
  assert.equal(r.external_gateway_info.network_id, pub.id);
  const aliases = (await call(member.token, 'GET', '/extensions', undefined, 200)).extensions.map((e: any) => e.alias);
  for (const a of ['router', 'external-net', 'security-group', 'quotas', 'standard-attr-tag', 'provider', 'binding'])
    assert.ok(aliases.includes(a), a);
  // The tenant sees the external network but not the admin project's private one.
  const seen = (await call(member.token, 'GET', '/networks', undefined, 200)).networks.map((n: any) => n.name);
  assert.ok(seen.includes('public') && !seen.includes('private'));
});

test(
  'tenant networks get VXLAN segments from the range; a VLAN provider network is admin-only and ' + 'unique',
  async () => {
    const a = (await call(cloud.adminToken, 'POST', '/networks', { network: { name: 'v1' } }, 201)).network;
    const b = (await call(cloud.adminToken, 'POST', '/networks', { network: { name: 'v2' } }, 201)).network;
    assert.equal(a['provider:network_type'], 'vxlan');
    assert.notEqual(a['provider:segmentation_id'], b['provider:segmentation_id']);
    const vlan = (
      await call(
        cloud.adminToken,
        'POST',
        '/networks',
        { network: { name: 'vl', 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1' } },
        201,
      )
    ).network;
    assert.equal(vlan['provider:segmentation_id'], 1000);
    await neutronError(
      cloud,
      cloud.adminToken,
      'POST',
      '/networks',
      {
        network: {
          name: 'vl2',
          'provider:network_type': 'vlan',
          'provider:physical_network': 'physnet1',
          'provider:segmentation_id': 1000,
        },
      },
      409,
      'SegmentationIdInUse',
    );
    assert.equal(vlan.mtu, 1500);
    assert.equal(a.mtu, 1450);
  },
);

test('router, floating IP association rules and Neutron delete order', async () => {
  const t = member.token;
  const pub = (await call(t, 'GET', '/networks?name=public', undefined, 200)).networks[0].id;
  const net = (await call(t, 'POST', '/networks', { network: { name: 'app' } }, 201)).network.id;
  const sub = (
    await call(t, 'POST', '/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '10.20.0.0/24' } }, 201)
  ).subnet.id;
  const port = (await call(t, 'POST', '/ports', { port: { network_id: net } }, 201)).port;
  assert.equal(port.security_groups.length, 1, 'the default group is applied');
  const fip = (await call(t, 'POST', '/floatingips', { floatingip: { floating_network_id: pub } }, 201)).floatingip;
  assert.equal(fip.status, 'DOWN');
  // No router joins the subnet to the external network yet: 404 ExternalGatewayForFloatingIPNotFound.
  await neutronError(
    cloud,
    t,
    'PUT',
    `/floatingips/${fip.id}`,
    { floatingip: { port_id: port.id } },
    404,
    'ExternalGatewayForFloatingIPNotFound',
  );
  const router = (
    await call(t, 'POST', '/routers', { router: { name: 'r', external_gateway_info: { network_id: pub } } }, 201)
  ).router;
  await neutronError(
    cloud,
    t,
    'PUT',
    `/floatingips/${fip.id}`,
    { floatingip: { port_id: port.id } },
    404,
    'ExternalGatewayForFloatingIPNotFound',
  );
  const iface = await call(t, 'PUT', `/routers/${router.id}/add_router_interface`, { subnet_id: sub }, 200);
  assert.equal(iface.subnet_id, sub);
  await neutronError(cloud, t, 'PUT', `/routers/${router.id}/add_router_interface`, { subnet_id: sub }, 400);
  const assoc = (await call(t, 'PUT', `/floatingips/${fip.id}`, { floatingip: { port_id: port.id } }, 200)).floatingip;
  assert.equal(assoc.router_id, router.id);
  assert.equal(assoc.fixed_ip_address, port.fixed_ips[0].ip_address);

  await neutronError(cloud, t, 'DELETE', `/networks/${net}`, undefined, 409, 'NetworkInUse');
  await neutronError(cloud, t, 'DELETE', `/subnets/${sub}`, undefined, 409, 'SubnetInUse');
  await neutronError(cloud, t, 'DELETE', `/routers/${router.id}`, undefined, 409, 'RouterInUse');
  await neutronError(
    cloud,
    t,
    'PUT',
    `/routers/${router.id}/remove_router_interface`,
    { subnet_id: sub },
    409,
    'RouterInterfaceInUseByFloatingIP',
  );
  await neutronError(cloud, t, 'DELETE', `/ports/${iface.port_id}`, undefined, 409, 'ServicePortInUse');
  await neutronError(cloud, cloud.adminToken, 'DELETE', `/networks/${pub}`, undefined, 409, 'NetworkInUse');

  // Static routes must go through an interface subnet.
  await neutronError(
    cloud,
    t,
    'PUT',
    `/routers/${router.id}`,
    { router: { routes: [{ destination: '10.99.0.0/16', nexthop: '10.30.0.5' }] } },
    400,
    'InvalidRoutes',
  );
  const routed = (
    await call(
      t,
      'PUT',
      `/routers/${router.id}`,
      { router: { routes: [{ destination: '10.99.0.0/16', nexthop: '10.20.0.5' }] } },
      200,
    )
  ).router;
  assert.deepEqual(routed.routes, [{ destination: '10.99.0.0/16', nexthop: '10.20.0.5' }]);
  await call(t, 'PUT', `/routers/${router.id}`, { router: { routes: [] } }, 200);

  // Deleting the port disassociates the floating IP; then everything comes apart in order.
  await call(t, 'DELETE', `/ports/${port.id}`, undefined, 204);
  assert.equal((await call(t, 'GET', `/floatingips/${fip.id}`, undefined, 200)).floatingip.port_id, null);
  await call(t, 'DELETE', `/floatingips/${fip.id}`, undefined, 204);
  await call(t, 'PUT', `/routers/${router.id}/remove_router_interface`, { subnet_id: sub }, 200);
  await call(t, 'DELETE', `/routers/${router.id}`, undefined, 204);
  await call(t, 'DELETE', `/networks/${net}`, undefined, 204);
  await neutronError(cloud, t, 'GET', `/subnets/${sub}`, undefined, 404, 'SubnetNotFound');
});

test("the default security group has Neutron's four rules and cannot be removed by its project", async () => {
  const groups = (await call(member.token, 'GET', '/security-groups?name=default', undefined, 200)).security_groups;
  assert.equal(groups.length, 1);
  const rules = groups[0].security_group_rules
    .map((r: any) => `${r.direction}/${r.ethertype}/${r.remote_group_id ? 'self' : 'any'}`)
    .sort();
  assert.deepEqual(rules, ['egress/IPv4/any', 'egress/IPv6/any', 'ingress/IPv4/self', 'ingress/IPv6/self']);
  await neutronError(
    cloud,
    member.token,
    'DELETE',
    `/security-groups/${groups[0].id}`,
    undefined,
    409,
    'SecurityGroupCannotRemoveDefault',
  );
  await neutronError(cloud, member.token, 'POST', '/security-groups', { security_group: { name: 'default' } }, 409);
});

test('tags, fields, filters and pagination', async () => {
  const t = member.token;
  const ids: string[] = [];
  for (const name of ['pg-a', 'pg-b', 'pg-c'])
    ids.push((await call(t, 'POST', '/networks', { network: { name } }, 201)).network.id);
  await call(t, 'PUT', `/networks/${ids[0]}/tags/red`, undefined, 201);
  await call(t, 'PUT', `/networks/${ids[1]}/tags`, { tags: ['red', 'blue'] }, 200);
  const red = (await call(t, 'GET', '/networks?tags=red', undefined, 200)).networks.map((n: any) => n.id).sort();
  assert.deepEqual(red, [ids[0], ids[1]].sort());
  assert.equal((await call(t, 'GET', '/networks?tags=red,blue', undefined, 200)).networks.length, 1);
  await call(t, 'DELETE', `/networks/${ids[1]}/tags/blue`, undefined, 204);
  await neutronError(cloud, t, 'DELETE', `/networks/${ids[1]}/tags/blue`, undefined, 404);
  const page = await call(
    t,
    'GET',
    '/networks?name=pg-a&name=pg-b&name=pg-c&limit=2&sort_key=name&sort_dir=asc&fields=id&fields=name',
    undefined,
    200,
  );
  assert.deepEqual(
    page.networks.map((n: any) => n.name),
    ['pg-a', 'pg-b'],
  );
  assert.deepEqual(Object.keys(page.networks[0]).sort(), ['id', 'name']);
  const next = page.networks_links.find((l: any) => l.rel === 'next');
  assert.ok(next);
  const rest = await cloud.request('GET', new URL(next.href).pathname + new URL(next.href).search, { token: t });
  assert.deepEqual(
    rest.json.networks.map((n: any) => n.name),
    ['pg-c'],
  );
});

test('data-plane events: created, bound and deleted reach the driver with full objects', async () => {
  const driver = cloud.controller.deps.network.events.driver as NoopNetDriver;
  assert.equal(driver.name, 'noop');
  assert.ok(driver.resyncs >= 1, 'resync ran at start');
  const t = cloud.adminToken;
  const net = (await call(t, 'POST', '/networks', { network: { name: 'ev' } }, 201)).network.id;
  await call(t, 'POST', '/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '10.40.0.0/24' } }, 201);
  const port = (await call(t, 'POST', '/ports', { port: { network_id: net } }, 201)).port;
  const bound = (
    await call(
      t,
      'PUT',
      `/ports/${port.id}`,
      { port: { 'binding:host_id': 'host-1', device_owner: 'compute:nova', device_id: 'vm-1' } },
      200,
    )
  ).port;
  assert.equal(bound.status, 'ACTIVE');
  assert.equal(bound['binding:vif_type'], 'bridge');
  await call(t, 'DELETE', `/ports/${port.id}`, undefined, 204);
  await cloud.controller.deps.network.events.drain();
  const forPort = driver.events.filter((e) => e.id === port.id).map((e) => e.action);
  assert.deepEqual(
    forPort.filter((a) => a !== 'updated'),
    ['created', 'bound', 'deleted'],
  );
  const created = driver.events.find((e) => e.id === port.id && e.action === 'created')!;
  assert.equal((created.object.fixed_ips as any[])[0].ip_address, '10.40.0.2');
  assert.ok(!driver.realized.get('port')?.has(port.id), 'a deleted port is no longer realized');
});

test(
  'data-plane events: creating or deleting a rule hands the driver its group with the rules as they now ' + 'are',
  async () => {
    const driver = cloud.controller.deps.network.events.driver as NoopNetDriver;
    const t = cloud.adminToken;
    const group = (await call(t, 'POST', '/security-groups', { security_group: { name: 'ev-sg' } }, 201)).security_group
      .id;
    const rule = (
      await call(
        t,
        'POST',
        '/security-group-rules',
        {
          security_group_rule: {
            security_group_id: group,
            direction: 'ingress',
            protocol: 'tcp',
            port_range_min: 22,
            port_range_max: 22,
          },
        },
        201,
      )
    ).security_group_rule.id;
    await cloud.controller.deps.network.events.drain();
    const rulesSeen = (): string[] =>
      ((driver.realized.get('security_group')!.get(group)!.security_group_rules as any[]) ?? []).map((r) => r.id);
    assert.ok(rulesSeen().includes(rule));
    await call(t, 'DELETE', `/security-group-rules/${rule}`, undefined, 204);
    await cloud.controller.deps.network.events.drain();
    assert.ok(!rulesSeen().includes(rule), 'the driver still has the deleted rule');
  },
);

test('the Nova-facing service: instance ports, addresses, auto network, groups by name', async () => {
  const net = cloud.controller.deps.network;
  const auth = await cloud.controller.deps.identity.tokens.validateForRequest(member.token);
  const n = (await call(member.token, 'POST', '/networks', { network: { name: 'only-net' } }, 201)).network.id;
  await call(member.token, 'POST', '/subnets', { subnet: { network_id: n, ip_version: 4, cidr: '10.50.0.0/24' } }, 201);
  // The member's project has several networks now; pick the one by id through the API first.
  const port = await net.createInstancePort(auth, 'vm-42', {
    networkId: n,
    hostId: 'host-a',
    securityGroups: await net.securityGroupIds(auth, ['default']),
  });
  assert.equal(port.device_id, 'vm-42');
  assert.equal(port['binding:host_id'], 'host-a');
  const addrs = await net.serverAddresses('vm-42');
  assert.deepEqual(
    addrs.map((x) => [x.networkName, x.ip, x.type]),
    [['only-net', '10.50.0.2', 'fixed']],
  );
  assert.equal((await net.serverPorts('vm-42')).length, 1);
  await assert.rejects(net.securityGroupIds(auth, ['nope']), /not found/);
  await net.releaseInstancePorts('vm-42');
  assert.equal((await net.serverPorts('vm-42')).length, 0);
  const fresh = await makeMember(cloud, 'auto');
  const freshAuth = await cloud.controller.deps.identity.tokens.validateForRequest(fresh.token);
  const auto = await net.autoNetwork(freshAuth);
  const mine = (await call(fresh.token, 'GET', '/networks', undefined, 200)).networks.filter(
    (n: any) => !n['router:external'],
  );
  assert.deepEqual(
    mine.map((n: any) => [n.id, n.name]),
    [[auto, 'auto_allocated_network']],
  );
  assert.equal((await call(fresh.token, 'GET', '/routers', undefined, 200)).routers[0].name, 'auto_allocated_router');
  assert.equal(await net.autoNetwork(freshAuth), auto, 'the second call finds the same network');
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`IPAM never hands out one address twice under 64 concurrent creators (${dialect})`, async (t) => {
    const url = dialect === 'postgres' ? testPgUrl() : undefined;
    if (
      dialect === 'postgres' &&
      !requireOrSkip(t, url, 'no PostgreSQL (scripts/run-tests.mjs starts one; or set GUREUM_TEST_PG_URL)')
    )
      return;
    const c = dialect === 'postgres' ? await createTestCloud({ databaseUrl: url! }) : cloud;
    try {
      const call2 = api(c);
      const tk = c.adminToken;
      const n = (await call2(tk, 'POST', '/networks', { network: { name: `conc-${dialect}` } }, 201)).network.id;
      // 125 addresses.
      await call2(tk, 'POST', '/subnets', { subnet: { network_id: n, ip_version: 4, cidr: '10.60.0.0/25' } }, 201);
      await call2(
        tk,
        'PUT',
        `/quotas/${(await c.controller.deps.identity.tokens.validateForRequest(tk)).projectId}`,
        { quota: { port: -1 } },
        200,
      );
      const results = await Promise.all(
        Array.from({ length: 140 }, () =>
          c.request('POST', '/network/v2.0/ports', { token: tk, body: { port: { network_id: n } } }),
        ),
      );
      const ok = results.filter((r) => r.status === 201).map((r) => r.json.port.fixed_ips[0].ip_address);
      const full = results.filter((r) => r.status === 409);
      assert.equal(ok.length, 125, 'every address handed out once');
      assert.equal(new Set(ok).size, ok.length, 'no duplicates');
      assert.equal(full.length, 15);
      assert.ok(full.every((r) => r.json.NeutronError.type === 'IpAddressGenerationFailure'));
    } finally {
      if (c !== cloud) await c.close();
    }
  });
}

test(
  'deleting an external network: 409 NetworkInUse while a floating IP is associated; unassociated ones go with ' + 'it',
  async () => {
    // Neutron's rule (and Tempest's test_delete_external_networks_with_floating_ip): only disassociated floating IPs
    // are released with their external network; an associated one keeps the network, and nothing is deleted.
    const admin = cloud.adminToken;
    const ext = (await call(admin, 'POST', '/networks', { network: { name: 'ext-del', 'router:external': true } }, 201))
      .network.id;
    await call(
      admin,
      'POST',
      '/subnets',
      { subnet: { network_id: ext, ip_version: 4, cidr: '203.0.113.0/24', enable_dhcp: false } },
      201,
    );
    const inner = (await call(admin, 'POST', '/networks', { network: { name: 'inner-del' } }, 201)).network.id;
    const innerSub = (
      await call(admin, 'POST', '/subnets', { subnet: { network_id: inner, ip_version: 4, cidr: '10.77.0.0/24' } }, 201)
    ).subnet.id;
    const router = (
      await call(
        admin,
        'POST',
        '/routers',
        { router: { name: 'r-del', external_gateway_info: { network_id: ext } } },
        201,
      )
    ).router.id;
    await call(admin, 'PUT', `/routers/${router}/add_router_interface`, { subnet_id: innerSub }, 200);
    const port = (await call(admin, 'POST', '/ports', { port: { network_id: inner } }, 201)).port.id;
    const used = (
      await call(admin, 'POST', '/floatingips', { floatingip: { floating_network_id: ext, port_id: port } }, 201)
    ).floatingip.id;
    const free = (await call(admin, 'POST', '/floatingips', { floatingip: { floating_network_id: ext } }, 201))
      .floatingip.id;
    // An associated floating IP also pins the router's gateway (409), so the network stays in use until it is released.
    await call(admin, 'PUT', `/routers/${router}`, { router: { external_gateway_info: {} } }, 409);

    await neutronError(cloud, admin, 'DELETE', `/networks/${ext}`, undefined, 409, 'NetworkInUse');
    assert.equal(
      (await call(admin, 'GET', `/floatingips/${free}`, undefined, 200)).floatingip.id,
      free,
      'a refused delete removes nothing',
    );
    assert.equal((await call(admin, 'GET', `/floatingips/${used}`, undefined, 200)).floatingip.port_id, port);

    await call(admin, 'PUT', `/floatingips/${used}`, { floatingip: { port_id: null } }, 200);
    await call(admin, 'PUT', `/routers/${router}`, { router: { external_gateway_info: {} } }, 200);
    await call(admin, 'DELETE', `/networks/${ext}`, undefined, 204);
    const left = (await call(admin, 'GET', '/floatingips', undefined, 200)).floatingips.map((f: any) => f.id);
    assert.ok(!left.includes(free) && !left.includes(used), 'disassociated floating IPs are released with the network');
  },
);
