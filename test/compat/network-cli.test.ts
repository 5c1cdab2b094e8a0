// The seed lab's network part with Debian's stock `openstack` CLI against a real `gureum up`:
// external and tenant networks, a router between them, a security group, a floating IP, and tear-down
// in the wrong order (each refused with Neutron's 409) and then in the right order.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { openstack, openstackJson, CliError, type CliIdentity, lastExchanges } from '../helpers/openstack.js';
import { requireCommands, skipAfterFailedStep } from '../helpers/requirements.js';

test('seed lab network walk-through with the stock openstack CLI', { timeout: 900_000 }, async (t) => {
  if (!requireCommands(t, ['openstack'])) return;
  const server = await startServer();
  t.after(() => server.stop());
  const admin: CliIdentity = { cloudsYaml: server.cloudsYaml };
  const json = async <T = any>(args: string[]): Promise<T> => {
    try {
      return await openstackJson<T>(admin, args, { debug: true });
    } catch (err) {
      if (err instanceof CliError) err.message += `\n--- last HTTP exchanges ---\n${lastExchanges(err.result)}`;
      throw err;
    }
  };
  const ok = async (args: string[]) => {
    const res = await openstack(admin, args, { debug: true });
    assert.equal(res.status, 0, `${res.command} failed:\n${lastExchanges(res)}`);
  };
  /** Runs a command that must fail with HTTP 409 and the given Neutron error type. */
  const refused = async (args: string[], type: string) => {
    const res = await openstack(admin, args, { debug: true });
    assert.notEqual(res.status, 0, `${res.command} should have failed`);
    assert.match(res.stderr, /RESP: \[409\]/, `${res.command}: expected a 409\n${lastExchanges(res)}`);
    assert.match(
      res.stderr,
      new RegExp(`"type": ?"${type}"`),
      `${res.command}: expected ${type}\n${lastExchanges(res)}`,
    );
  };

  let broken: string | null = null;
  const step = (name: string, fn: (st: TestContext) => Promise<void>) =>
    t.test(name, async (st) => {
      if (broken) return skipAfterFailedStep(st, broken);
      try {
        await fn(st);
      } catch (err) {
        broken = name;
        throw err;
      }
    });

  let fip = '';
  await step('the default topology exists (public, private, router1)', async () => {
    const nets = await json<any[]>(['network', 'list']);
    assert.ok(
      nets.some((n) => n.Name === 'public'),
      JSON.stringify(nets),
    );
    assert.ok(
      nets.some((n) => n.Name === 'private'),
      JSON.stringify(nets),
    );
    const routers = await json<any[]>(['router', 'list']);
    assert.ok(
      routers.some((r) => r.Name === 'router1'),
      JSON.stringify(routers),
    );
  });

  await step('external network and subnet', async () => {
    const net = await json([
      'network',
      'create',
      '--external',
      '--provider-network-type',
      'flat',
      '--provider-physical-network',
      'extnet',
      'ext-net',
    ]);
    assert.equal(net['router:external'], true);
    assert.equal(net['provider:network_type'], 'flat');
    assert.equal(net['provider:physical_network'], 'extnet');
    const sub = await json([
      'subnet',
      'create',
      '--network',
      'ext-net',
      '--subnet-range',
      '192.168.122.0/24',
      '--gateway',
      '192.168.122.1',
      '--no-dhcp',
      '--allocation-pool',
      'start=192.168.122.100,end=192.168.122.199',
      '--dns-nameserver',
      '8.8.8.8',
      'ext-subnet',
    ]);
    assert.equal(sub.cidr, '192.168.122.0/24');
    assert.equal(sub.gateway_ip, '192.168.122.1');
    assert.equal(sub.enable_dhcp, false);
    assert.deepEqual(sub.allocation_pools, [{ start: '192.168.122.100', end: '192.168.122.199' }]);
    assert.deepEqual(sub.dns_nameservers, ['8.8.8.8']);
  });

  await step('tenant network and subnet', async () => {
    const net = await json(['network', 'create', 'test-net']);
    assert.equal(net['router:external'], false);
    const sub = await json([
      'subnet',
      'create',
      '--network',
      'test-net',
      '--subnet-range',
      '172.16.0.0/24',
      'test-subnet',
    ]);
    assert.equal(sub.gateway_ip, '172.16.0.1');
    assert.deepEqual(sub.allocation_pools, [{ start: '172.16.0.2', end: '172.16.0.254' }]);
  });

  await step('router with a gateway on ext-net and an interface on test-subnet', async () => {
    await json(['router', 'create', 'test-router']);
    await ok(['router', 'set', '--external-gateway', 'ext-net', 'test-router']);
    await ok(['router', 'add', 'subnet', 'test-router', 'test-subnet']);
    const r = await json(['router', 'show', 'test-router']);
    const gw =
      typeof r.external_gateway_info === 'string' ? JSON.parse(r.external_gateway_info) : r.external_gateway_info;
    assert.equal(gw.enable_snat, true);
    assert.match(gw.external_fixed_ips[0].ip_address, /^192\.168\.122\.1\d\d$/);
    const ports = await json<any[]>(['port', 'list', '--router', 'test-router']);
    assert.ok(
      ports.some((p) => JSON.stringify(p['Fixed IP Addresses']).includes('172.16.0.1')),
      JSON.stringify(ports),
    );
  });

  await step('security group with SSH, HTTP and ICMP ingress', async () => {
    await json(['security', 'group', 'create', 'web']);
    const ssh = await json([
      'security',
      'group',
      'rule',
      'create',
      '--ingress',
      '--protocol',
      'tcp',
      '--dst-port',
      '22',
      'web',
    ]);
    assert.equal(ssh.port_range_min, 22);
    await json(['security', 'group', 'rule', 'create', '--ingress', '--protocol', 'tcp', '--dst-port', '80', 'web']);
    await json(['security', 'group', 'rule', 'create', '--ingress', '--protocol', 'icmp', 'web']);
    await refused(
      ['security', 'group', 'rule', 'create', '--ingress', '--protocol', 'tcp', '--dst-port', '22', 'web'],
      'SecurityGroupRuleExists',
    );
    const rules = await json<any[]>(['security', 'group', 'rule', 'list', 'web']);
    assert.equal(rules.length, 5, JSON.stringify(rules)); // two default egress rules + three ingress
  });

  await step('floating IP from the pool, associated to a port on test-net', async () => {
    await json(['port', 'create', '--network', 'test-net', '--security-group', 'web', 'test-port']);
    const f = await json(['floating', 'ip', 'create', 'ext-net']);
    fip = f.floating_ip_address;
    const last = Number(fip.split('.')[3]);
    assert.ok(fip.startsWith('192.168.122.') && last >= 100 && last <= 199, `floating IP ${fip} outside .100-.199`);
    await ok(['floating', 'ip', 'set', '--port', 'test-port', fip]);
    const shown = await json(['floating', 'ip', 'show', fip]);
    assert.ok(shown.port_id, 'associated');
    assert.match(shown.fixed_ip_address, /^172\.16\.0\./);
  });

  await step('tear-down in the wrong order is refused with 409s', async () => {
    await refused(['network', 'delete', 'ext-net'], 'NetworkInUse');
    await refused(['router', 'remove', 'subnet', 'test-router', 'test-subnet'], 'RouterInterfaceInUseByFloatingIP');
    await refused(['router', 'unset', '--external-gateway', 'test-router'], 'RouterExternalGatewayInUseByFloatingIp');
    await refused(['router', 'delete', 'test-router'], 'RouterInUse');
    await refused(['subnet', 'delete', 'test-subnet'], 'SubnetInUse');
    await refused(['network', 'delete', 'test-net'], 'NetworkInUse');
    await refused(['security', 'group', 'delete', 'web'], 'SecurityGroupInUse');
  });

  await step('tear-down in the right order succeeds', async () => {
    await ok(['floating', 'ip', 'unset', '--port', fip]);
    await ok(['floating', 'ip', 'delete', fip]);
    await ok(['port', 'delete', 'test-port']);
    await ok(['router', 'remove', 'subnet', 'test-router', 'test-subnet']);
    await ok(['router', 'unset', '--external-gateway', 'test-router']);
    await ok(['router', 'delete', 'test-router']);
    await ok(['subnet', 'delete', 'test-subnet']);
    await ok(['network', 'delete', 'test-net']);
    await ok(['subnet', 'delete', 'ext-subnet']);
    await ok(['network', 'delete', 'ext-net']);
    await ok(['security', 'group', 'delete', 'web']);
    const nets = await json<any[]>(['network', 'list']);
    assert.ok(!nets.some((n) => n.Name === 'ext-net' || n.Name === 'test-net'), JSON.stringify(nets));
  });
});
