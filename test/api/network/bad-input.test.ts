// Bad input answers a clear 4xx in Neutron's error body and leaves nothing half-made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { api, makeMember, neutronError, type Member } from './helpers.js';

let cloud: TestCloud;
let call: ReturnType<typeof api>;
let member: Member;
let netId = '';

before(async () => {
  cloud = await createTestCloud();
  call = api(cloud);
  member = await makeMember(cloud, 'bad');
  netId = (await call(member.token, 'POST', '/networks', { network: { name: 'bad-net' } }, 201)).network.id;
});
after(async () => {
  await cloud.close();
});

const countOf = async (path: string, key: string) =>
  (await call(cloud.adminToken, 'GET', path, undefined, 200))[key].length;

test('invalid and overlapping CIDRs, gateways and pools are 400/409 and create nothing', async () => {
  const before = await countOf('/subnets', 'subnets');
  const sub = (extra: object) => ({ subnet: { network_id: netId, ip_version: 4, ...extra } });
  const t = member.token;
  await neutronError(cloud, t, 'POST', '/subnets', sub({ cidr: '10.1.0.0/33' }), 400);
  await neutronError(cloud, t, 'POST', '/subnets', sub({ cidr: 'not-a-cidr' }), 400);
  await neutronError(cloud, t, 'POST', '/subnets', sub({ cidr: '10.1.0.5/24' }), 400);
  await neutronError(cloud, t, 'POST', '/subnets', sub({ cidr: '2001:db8::/64' }), 400);
  await neutronError(cloud, t, 'POST', '/subnets', sub({ cidr: '10.1.0.0/24', gateway_ip: '10.2.0.1' }), 400);
  await neutronError(cloud, t, 'POST', '/subnets', sub({ cidr: '10.1.0.0/24', gateway_ip: '300.1.1.1' }), 400);
  await neutronError(
    cloud,
    t,
    'POST',
    '/subnets',
    sub({ cidr: '10.1.0.0/24', allocation_pools: [{ start: '10.1.0.10', end: '10.1.1.20' }] }),
    400,
    'OutOfBoundsAllocationPool',
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/subnets',
    sub({
      cidr: '10.1.0.0/24',
      allocation_pools: [
        { start: '10.1.0.10', end: '10.1.0.50' },
        { start: '10.1.0.40', end: '10.1.0.60' },
      ],
    }),
    400,
    'OverlappingAllocationPools',
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/subnets',
    sub({ cidr: '10.1.0.0/24', allocation_pools: [{ start: '10.1.0.50', end: '10.1.0.10' }] }),
    400,
    'InvalidAllocationPool',
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/subnets',
    sub({ cidr: '10.1.0.0/24', gateway_ip: '10.1.0.20', allocation_pools: [{ start: '10.1.0.10', end: '10.1.0.50' }] }),
    409,
    'GatewayConflictWithAllocationPools',
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/subnets',
    sub({ cidr: '10.1.0.0/24', dns_nameservers: ['1.1.1.1', '1.1.1.1'] }),
    400,
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/subnets',
    sub({ cidr: '10.1.0.0/24', host_routes: [{ destination: '10.9.0.0/16' }] }),
    400,
  );
  await neutronError(cloud, t, 'POST', '/subnets', sub({ cidr: '10.1.0.0/24', ipv6_address_mode: 'slaac' }), 400);
  await neutronError(
    cloud,
    t,
    'POST',
    '/subnets',
    { subnet: { network_id: netId, ip_version: 6, cidr: '2001:db8::/80', ipv6_address_mode: 'slaac' } },
    400,
  );
  await neutronError(cloud, t, 'POST', '/subnets', sub({ cidr: '10.1.0.0/24', bogus: 1 }), 400);
  assert.equal(await countOf('/subnets', 'subnets'), before, 'no subnet was created by the bad requests');
  await call(t, 'POST', '/subnets', sub({ cidr: '10.1.0.0/24' }), 201);
  await neutronError(cloud, t, 'POST', '/subnets', sub({ cidr: '10.1.0.128/25' }), 400, 'InvalidInput');
});

test('an exhausted subnet answers 409 IpAddressGenerationFailure and leaves no port behind', async () => {
  const t = member.token;
  const net = (await call(t, 'POST', '/networks', { network: { name: 'tiny' } }, 201)).network.id;
  // .2-.6: five addresses.
  await call(t, 'POST', '/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '192.168.9.0/29' } }, 201);
  const ips = new Set<string>();
  for (let i = 0; i < 5; i++)
    ips.add((await call(t, 'POST', '/ports', { port: { network_id: net } }, 201)).port.fixed_ips[0].ip_address);
  assert.equal(ips.size, 5);
  await neutronError(cloud, t, 'POST', '/ports', { port: { network_id: net } }, 409, 'IpAddressGenerationFailure');
  const ports = (await call(t, 'GET', `/ports?network_id=${net}`, undefined, 200)).ports;
  assert.equal(ports.length, 5);
});

test('invalid MACs, IPs and conflicting addresses are refused', async () => {
  const t = member.token;
  const net = (await call(t, 'POST', '/networks', { network: { name: 'macs' } }, 201)).network.id;
  const sub = (
    await call(t, 'POST', '/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '192.168.10.0/24' } }, 201)
  ).subnet.id;
  await neutronError(cloud, t, 'POST', '/ports', { port: { network_id: net, mac_address: 'zz:16:3e:00:00:01' } }, 400);
  await neutronError(cloud, t, 'POST', '/ports', { port: { network_id: net, mac_address: '01:00:5e:00:00:01' } }, 400);
  await neutronError(
    cloud,
    t,
    'POST',
    '/ports',
    { port: { network_id: net, fixed_ips: [{ ip_address: '192.168.10.300' }] } },
    400,
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/ports',
    { port: { network_id: net, fixed_ips: [{ subnet_id: sub, ip_address: '192.168.11.5' }] } },
    400,
    'InvalidIpForSubnet',
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/ports',
    { port: { network_id: net, fixed_ips: [{ ip_address: '10.200.0.5' }] } },
    400,
    'InvalidIpForNetwork',
  );
  const p = (
    await call(
      t,
      'POST',
      '/ports',
      { port: { network_id: net, mac_address: 'fa:16:3e:aa:bb:cc', fixed_ips: [{ ip_address: '192.168.10.50' }] } },
      201,
    )
  ).port;
  assert.equal(p.mac_address, 'fa:16:3e:aa:bb:cc');
  await neutronError(
    cloud,
    t,
    'POST',
    '/ports',
    { port: { network_id: net, mac_address: 'FA:16:3E:AA:BB:CC' } },
    409,
    'MacAddressInUse',
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/ports',
    { port: { network_id: net, fixed_ips: [{ ip_address: '192.168.10.50' }] } },
    409,
    'IpAddressAlreadyAllocated',
  );
  assert.equal((await call(t, 'GET', `/ports?network_id=${net}`, undefined, 200)).ports.length, 1);
});

test('security group rules: protocol/port mismatches, bad prefixes and duplicates', async () => {
  const t = member.token;
  const sg = (await call(t, 'POST', '/security-groups', { security_group: { name: 'rules' } }, 201)).security_group.id;
  const rule = (extra: object) => ({ security_group_rule: { security_group_id: sg, direction: 'ingress', ...extra } });
  await neutronError(
    cloud,
    t,
    'POST',
    '/security-group-rules',
    rule({ protocol: 'gre', port_range_min: 22, port_range_max: 22 }),
    400,
    'SecurityGroupInvalidProtocolForPort',
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/security-group-rules',
    rule({ protocol: 'tcp', port_range_min: 80, port_range_max: 22 }),
    400,
    'SecurityGroupInvalidPortRange',
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/security-group-rules',
    rule({ protocol: 'tcp', port_range_min: 70000, port_range_max: 70000 }),
    400,
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/security-group-rules',
    rule({ protocol: 'icmp', port_range_min: 300 }),
    400,
    'SecurityGroupInvalidIcmpValue',
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/security-group-rules',
    rule({ protocol: 'bogus' }),
    400,
    'SecurityGroupRuleInvalidProtocol',
  );
  await neutronError(cloud, t, 'POST', '/security-group-rules', rule({ port_range_min: 22, port_range_max: 22 }), 400);
  await neutronError(
    cloud,
    t,
    'POST',
    '/security-group-rules',
    rule({ remote_ip_prefix: '2001:db8::/64' }),
    400,
    'SecurityGroupRuleParameterConflict',
  );
  await neutronError(cloud, t, 'POST', '/security-group-rules', rule({ direction: 'sideways' }), 400);
  await neutronError(cloud, t, 'POST', '/security-group-rules', rule({ ethertype: 'IPv5' }), 400);
  await call(
    t,
    'POST',
    '/security-group-rules',
    rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22 }),
    201,
  );
  await neutronError(
    cloud,
    t,
    'POST',
    '/security-group-rules',
    rule({ protocol: '6', port_range_min: 22, port_range_max: 22 }),
    409,
    'SecurityGroupRuleExists',
  );
  const rules = (await call(t, 'GET', `/security-groups/${sg}`, undefined, 200)).security_group.security_group_rules;
  assert.equal(rules.length, 3, 'two egress defaults and the one good rule');
});

test('a tenant cannot use admin-only attributes', async () => {
  const t = member.token;
  await neutronError(cloud, t, 'POST', '/networks', { network: { name: 'x', 'router:external': true } }, 403);
  await neutronError(cloud, t, 'POST', '/networks', { network: { name: 'x', shared: true } }, 403);
  await neutronError(cloud, t, 'POST', '/networks', { network: { name: 'x', 'provider:network_type': 'vlan' } }, 403);
  await neutronError(cloud, t, 'POST', '/ports', { port: { network_id: netId, 'binding:host_id': 'h1' } }, 403);
  await neutronError(cloud, t, 'POST', '/networks', { network: { name: 'x', tenant_id: 'someone-else' } }, 400);
  const nets = (await call(t, 'GET', '/networks?name=x', undefined, 200)).networks;
  assert.equal(nets.length, 0);
  const net = (await call(t, 'GET', `/networks/${netId}`, undefined, 200)).network;
  assert.equal(net['provider:network_type'], undefined, 'provider attributes are hidden from tenants');
});

test('malformed bodies and unknown resources', async () => {
  const res = await cloud.request('POST', '/network/v2.0/networks', {
    token: member.token,
    payload: '{bad json',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 400);
  assert.ok(res.json.NeutronError);
  await neutronError(cloud, member.token, 'POST', '/networks', { notnetwork: {} }, 400);
  await neutronError(
    cloud,
    member.token,
    'GET',
    '/networks/00000000-0000-0000-0000-000000000000',
    undefined,
    404,
    'NetworkNotFound',
  );
  await neutronError(cloud, member.token, 'GET', '/nothing-here', undefined, 404);
});
