// The nftables firewall on a real bridge: namespaces stand in for guests (their host-side veths are the taps), and
// every probe goes between the test's own namespaces. Needs root, nft and ping.
import { test } from 'node:test';
import { hostLock } from '../../helpers/host-lock.js';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createNftFirewall, type SgPort, type SgRule } from '../../../src/net/linuxbridge/firewall/index.js';
import { requireCommands, requireRoot } from '../../helpers/requirements.js';
import { NetLab, run, type LabHost } from '../../helpers/netlab.js';

const WEB = '0a0a0a0a-0000-4000-8000-00000000000a';
const CLIENTS = '0b0b0b0b-0000-4000-8000-00000000000b';

let ruleSeq = 0;
function rule(group: string, direction: 'ingress' | 'egress', extra: Partial<SgRule> = {}): SgRule {
  return {
    id: `rule-${++ruleSeq}`,
    security_group_id: group,
    direction,
    ethertype: 'IPv4',
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_id: null,
    ...extra,
  };
}

/** The lab's bridge (set when the lab is made; every port is on it). */
let labBridge = '';

function portOf(host: LabHost, groups: string[], extra: Partial<SgPort> = {}): SgPort {
  return {
    id: `port-${host.name}`,
    tap: host.tap,
    bridge: labBridge,
    mac: host.mac,
    fixedIps: [host.ip],
    allowedAddressPairs: [],
    securityGroups: groups,
    portSecurity: true,
    deviceOwner: 'compute:nova',
    ...extra,
  };
}

test('security groups and anti-spoofing on a bridge: deny by default, rules, remote groups, spoofing, pairs, port ' +
  'security', {
  timeout: 180_000,
}, async (t) => {
  if (!requireRoot(t, 'needs root (bridge, namespaces, nftables)') || !requireCommands(t, ['nft', 'ip', 'ping']))
    return;
  // One firewall on the host at a time (test/helpers/host-lock.ts says why).
  // Released at the end of the cleanup below (or when this test file's process ends).
  const unlock = await hostLock('nft-firewall');
  const lab = new NetLab();
  labBridge = lab.bridge;
  const table = `gureum_t${lab.suffix}`;
  const fw = createNftFirewall({ table });
  t.after(async () => {
    await fw.destroy().catch(() => {});
    await lab.destroy();
    unlock();
  });
  await lab.up();
  const net = `10.${randomInt(64, 250)}.${randomInt(1, 250)}`;
  const a = await lab.addHost('a', `${net}.1/24`, 'fa:16:3e:00:00:0a');
  const b = await lab.addHost('b', `${net}.2/24`, 'fa:16:3e:00:00:0b');
  const c = await lab.addHost('c', `${net}.3/24`, 'fa:16:3e:00:00:0c'); // unfiltered: a router port, the "outside"
  await lab.listen(a, 22);
  const vip = `${net}.100`;

  const egressWeb = rule(WEB, 'egress');
  const egressClients = rule(CLIENTS, 'egress');
  const ssh = rule(WEB, 'ingress', {
    protocol: 'tcp',
    port_range_min: 22,
    port_range_max: 22,
    remote_ip_prefix: '0.0.0.0/0',
  });
  const icmp = rule(WEB, 'ingress', { protocol: 'icmp' });
  const sshFromClients = rule(WEB, 'ingress', {
    protocol: '6',
    port_range_min: 22,
    port_range_max: 22,
    remote_group_id: CLIENTS,
  });
  const portA = portOf(a, [WEB]);
  const portB = portOf(b, [CLIENTS]);
  await fw.sync([portA, portB, portOf(c, [], { deviceOwner: 'network:router_interface' })], [egressWeb, egressClients]);

  await t.test('ingress is denied unless a rule allows; replies to allowed egress come back', async () => {
    assert.equal(await lab.tcp(c, a.ip, 22), false, 'port 22 open without a rule');
    assert.equal(await lab.ping(c, a.ip), false, 'ping answered without a rule');
    assert.equal(await lab.ping(a, c.ip), true, 'egress ping from a (allowed) got no reply');
  });

  await t.test('rules for TCP 22 and ICMP open them, on the running traffic', async () => {
    await fw.setGroupRules(WEB, [egressWeb, ssh, icmp]);
    assert.equal(await lab.tcp(c, a.ip, 22), true);
    assert.equal(await lab.ping(c, a.ip), true);
  });

  await t.test('deleting the rule cuts new connections', async () => {
    await fw.setGroupRules(WEB, [egressWeb, icmp]);
    assert.equal(await lab.tcp(c, a.ip, 22), false);
    assert.equal(await lab.ping(c, a.ip), true, 'the ICMP rule still holds');
  });

  await t.test('a remote-group rule admits members only', async () => {
    await fw.setGroupRules(WEB, [egressWeb, sshFromClients]);
    assert.equal(await lab.tcp(b, a.ip, 22), true, 'member b refused');
    assert.equal(await lab.tcp(c, a.ip, 22), false, 'non-member c admitted');
  });

  await t.test('a spoofed source IP or MAC is dropped; an allowed address pair admits a VIP', async () => {
    const add = await lab.exec(b, ['ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(await lab.tcp(b, a.ip, 22, vip), false, 'spoofed source IP got through');
    await fw.upsertPort({ ...portB, allowedAddressPairs: [{ ip_address: vip }] });
    assert.equal(
      await lab.tcp(b, a.ip, 22, vip),
      true,
      'the allowed address pair (a member address of CLIENTS) was refused',
    );
    const spoofMac = await lab.exec(b, ['ip', 'link', 'set', 'eth0', 'address', 'fa:16:3e:00:00:bb']);
    assert.equal(spoofMac.code, 0, spoofMac.stderr);
    try {
      assert.equal(await lab.ping(b, c.ip), false, 'spoofed source MAC got through');
    } finally {
      await lab.exec(b, ['ip', 'link', 'set', 'eth0', 'address', b.mac]);
    }
    assert.equal(await lab.ping(b, c.ip), true, 'b with its own MAC again was refused');
  });

  await t.test('ARP for an address the port does not hold goes unanswered', async () => {
    // b claims an address nobody gave it: its ARP replies are dropped, so c never learns b's MAC for it.
    const stolen = `${net}.77`;
    const add = await lab.exec(b, ['ip', 'addr', 'add', `${stolen}/24`, 'dev', 'eth0']);
    assert.equal(add.code, 0, add.stderr);
    // (The ping itself is refused by b's group either way; what matters is whether ARP resolved.)
    await lab.ping(c, stolen);
    const before = await lab.exec(c, ['ip', 'neigh', 'show', stolen]);
    assert.doesNotMatch(before.stdout, new RegExp(b.mac), `c learned b's MAC for ${stolen}: ${before.stdout}`);
    await fw.upsertPort({ ...portB, allowedAddressPairs: [{ ip_address: vip }, { ip_address: stolen }] });
    await lab.exec(c, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await lab.ping(c, stolen);
    const after = await lab.exec(c, ['ip', 'neigh', 'show', stolen]);
    assert.match(
      after.stdout,
      new RegExp(b.mac),
      `once an allowed address pair, b's ARP answer should arrive: ${after.stdout}`,
    );
  });

  await t.test('port security off lifts filtering for that port only', async () => {
    assert.equal(await lab.tcp(c, a.ip, 22), false);
    await fw.upsertPort({ ...portA, portSecurity: false, securityGroups: [] });
    assert.equal(await lab.tcp(c, a.ip, 22), true);
    await fw.upsertPort(portA);
    assert.equal(await lab.tcp(c, a.ip, 22), false, 'port security on again did not restore the rules');
  });

  await t.test('removing a port and destroying leave no table behind', async () => {
    await fw.removePort(portB.id);
    await fw.destroy();
    for (const family of ['inet', 'bridge']) {
      const r = await run('nft', ['list', 'table', family, table]);
      assert.notEqual(r.code, 0, `${family} ${table} is still there`);
    }
  });
});
