// Neutron metering on the data plane (root): a router namespace the test builds (an "outside" and an "inside"
// namespace joined to it by veth pairs, the outside leg named qg- as a router's gateway is) gets the metering table
// for three labels; pings from outside to inside then grow the ingress label's counter, the egress label counts the
// replies, and a label whose only matching rule is excluded stays at zero. Traffic stays inside these namespaces.
// Names carry a random suffix; the namespaces (and with them the veths and nft tables) go in t.after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { requireCommands, requireRoot } from '../helpers/requirements.js';
import { applyMetering, readMeteringCounters } from '../../src/net/linuxbridge/metering/index.js';

const sh = (args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const inNs = (ns: string, args: string[]): string => sh(['netns', 'exec', ns, ...args]);

test('metering: a label counts what crosses the router gateway, excluded prefixes are not counted', async (t) => {
  if (!requireRoot(t, 'network namespaces and nftables need root')) return;
  if (!requireCommands(t, ['ip', 'nft', 'ping'], 'test')) return;
  const tag = randomBytes(3).toString('hex');
  const [out, rt, inside] = ['out', 'rt', 'in'].map((s) => `gmeter-${tag}-${s}`) as [string, string, string];
  t.after(() => {
    for (const ns of [out, rt, inside]) spawnSync('ip', ['netns', 'del', ns]);
  });
  for (const ns of [out, rt, inside]) sh(['netns', 'add', ns]);
  sh(['link', 'add', 'out0', 'netns', out, 'type', 'veth', 'peer', 'name', 'qg-test', 'netns', rt]);
  sh(['link', 'add', 'in0', 'netns', inside, 'type', 'veth', 'peer', 'name', 'qr-test', 'netns', rt]);
  for (const [ns, dev, addr] of [
    [out, 'out0', '10.231.1.2/24'],
    [rt, 'qg-test', '10.231.1.1/24'],
    [rt, 'qr-test', '10.231.2.1/24'],
    [inside, 'in0', '10.231.2.2/24'],
  ] as const) {
    inNs(ns, ['ip', 'addr', 'add', addr, 'dev', dev]);
    inNs(ns, ['ip', 'link', 'set', dev, 'up']);
  }
  inNs(out, ['ip', 'route', 'add', 'default', 'via', '10.231.1.1']);
  inNs(inside, ['ip', 'route', 'add', 'default', 'via', '10.231.2.1']);
  inNs(rt, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);

  const ingress = '11111111-1111-4111-8111-111111111111';
  const egress = '22222222-2222-4222-8222-222222222222';
  const excluded = '33333333-3333-4333-8333-333333333333';
  await applyMetering(rt, 'qg-test', [
    { id: ingress, rules: [{ direction: 'ingress', source: '10.231.1.0/24', destination: null, excluded: false }] },
    { id: egress, rules: [{ direction: 'egress', source: null, destination: '10.231.1.0/24', excluded: false }] },
    {
      id: excluded,
      rules: [
        { direction: 'ingress', source: '10.231.1.0/24', destination: null, excluded: false },
        { direction: 'ingress', source: '10.231.1.2/32', destination: null, excluded: true },
      ],
    },
  ]);
  const before = await readMeteringCounters(rt);
  assert.deepEqual(
    before.map((c) => [c.labelId, c.packets]).sort(),
    [
      [ingress, 0],
      [egress, 0],
      [excluded, 0],
    ].sort(),
  );

  inNs(out, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.231.2.2']);
  const after = new Map((await readMeteringCounters(rt)).map((c) => [c.labelId, c]));
  assert.equal(after.get(ingress)?.packets, 3, 'three echo requests came in through the gateway');
  assert.ok((after.get(ingress)?.bytes ?? 0) >= 3 * 84);
  assert.equal(after.get(egress)?.packets, 3, 'three replies went out through the gateway');
  assert.equal(after.get(excluded)?.packets, 0, 'the excluded source is not counted');

  // No labels left: the table goes.
  await applyMetering(rt, 'qg-test', []);
  assert.deepEqual(await readMeteringCounters(rt), []);
});
