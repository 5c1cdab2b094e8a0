import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNftFirewall, type SgPort, type SgRule } from '../../../../../src/net/linuxbridge/firewall/index.js';

const G = '00000000-0000-4000-8000-0000000000aa';
const R = '00000000-0000-4000-8000-0000000000bb';

function recorder(failWhen: (batch: string) => boolean = () => false): {
  batches: string[];
  run: (b: string) => Promise<void>;
} {
  const batches: string[] = [];
  return {
    batches,
    run: async (b) => {
      if (failWhen(b)) throw new Error('nft refused the batch');
      batches.push(b);
    },
  };
}

function port(n: number, groups: string[], extra: Partial<SgPort> = {}): SgPort {
  return {
    id: `p${n}`,
    tap: `tap${n}`,
    bridge: 'brq1',
    mac: `fa:16:3e:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`,
    fixedIps: [`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`],
    allowedAddressPairs: [],
    securityGroups: groups,
    portSecurity: true,
    deviceOwner: 'compute:nova',
    ...extra,
  };
}

function rules(count: number): SgRule[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `r${i}`,
    security_group_id: G,
    direction: 'ingress' as const,
    ethertype: 'IPv4' as const,
    protocol: 'tcp',
    port_range_min: 1000 + i,
    port_range_max: 1000 + i,
    remote_ip_prefix: null,
    remote_group_id: R,
  }));
}

const lines = (b: string): string[] => b.trim().split('\n');

test('sync replaces the tables in one batch with every group, port and member', async () => {
  const rec = recorder();
  const fw = createNftFirewall({ table: 'gt', run: rec.run });
  await fw.sync([port(1, [G]), port(2, [R]), port(3, [], { deviceOwner: 'network:dhcp' })], rules(2));
  assert.equal(rec.batches.length, 1);
  const b = rec.batches[0]!;
  assert.match(b, /^add table bridge gt\ndelete table bridge gt\n/);
  assert.match(b, /add element inet gt rg4_000000000000400080000000000000bb \{ 10\.0\.0\.2 \}/);
  assert.match(b, /add element bridge gt from_mark \{ "tap1" : 0x00000001, "tap2" : 0x00000002 \}/);
  assert.doesNotMatch(b, /"tap3"/, 'a network:* port is not filtered');
  await fw.sync([port(1, [G]), port(2, [R])], rules(2));
  assert.equal(rec.batches[1], rec.batches[0], 'a second sync of the same state is the same batch');
});

test('a rule change is the same batch whatever the size of the remote group', async () => {
  const sizes = [5, 5000];
  const changes: string[] = [];
  for (const size of sizes) {
    const rec = recorder();
    const fw = createNftFirewall({ table: 'gt', run: rec.run });
    const members = Array.from({ length: size }, (_, i) => port(i + 10, [R]));
    await fw.sync([port(1, [G]), ...members], rules(1000));
    await fw.setGroupRules(G, rules(1001));
    changes.push(rec.batches[1]!);
  }
  assert.equal(changes[0], changes[1]);
  assert.ok(lines(changes[0]!).length < 100, 'one bucket rewritten, not the group');
});

test('a port change touches only its own chains and the changed member addresses', async () => {
  const rec = recorder();
  const fw = createNftFirewall({ table: 'gt', run: rec.run });
  await fw.sync([port(1, [G]), port(2, [R])], rules(3));
  await fw.upsertPort(port(2, [R], { fixedIps: ['10.0.0.2', '10.0.0.9'] }));
  const b = rec.batches[1]!;
  assert.match(b, /add element inet gt rg4_\w+ \{ 10\.0\.0\.9 \}/);
  assert.doesNotMatch(b, /delete element inet gt rg4_/);
  assert.match(b, /add element bridge gt spoof4 \{ "tap2" \. fa:16:3e:00:00:02 \. 10\.0\.0\.9 \}/);
  assert.doesNotMatch(b, /tap1|0x00000001/, 'port 1 untouched');
  assert.doesNotMatch(b, /add rule/, 'no chain rewritten');
  await fw.upsertPort(port(2, [R], { fixedIps: ['10.0.0.9'] }));
  assert.match(rec.batches[2]!, /delete element inet gt rg4_\w+ \{ 10\.0\.0\.2 \}/);
  assert.doesNotMatch(rec.batches[2]!, /add element inet gt rg4_/);
});

test('an address shared by two members stays in the set until both are gone', async () => {
  const rec = recorder();
  const fw = createNftFirewall({ table: 'gt', run: rec.run });
  await fw.sync([port(1, [R]), port(2, [R], { fixedIps: ['10.0.0.1'] }), port(3, [R], { fixedIps: ['10.0.0.3'] })], []);
  await fw.removePort('p1');
  assert.doesNotMatch(rec.batches[1]!, /delete element inet gt rg4_/);
  await fw.removePort('p2');
  assert.match(rec.batches[2]!, /delete element inet gt rg4_\w+ \{ 10\.0\.0\.1 \}/);
  await fw.removePort('p2');
  assert.equal(rec.batches.length, 3, 'removing an unknown port does nothing');
});

test('a refused batch changes nothing remembered: the same change is planned again', async () => {
  let refuse = false;
  const rec = recorder(() => refuse);
  const fw = createNftFirewall({ table: 'gt', run: rec.run });
  await fw.sync([port(1, [R])], []);
  refuse = true;
  await assert.rejects(fw.upsertPort(port(2, [R])), /refused/);
  refuse = false;
  await fw.upsertPort(port(2, [R]));
  assert.match(rec.batches[1]!, /add element inet gt rg4_\w+ \{ 10\.0\.0\.2 \}/);
  assert.match(rec.batches[1]!, /"tap2" : 0x00000002/);
});

test("port security off removes the port's elements and its unused profile; on again puts them back", async () => {
  const rec = recorder();
  const fw = createNftFirewall({ table: 'gt', run: rec.run });
  await fw.sync([port(1, [G])], []);
  await fw.upsertPort(port(1, [], { portSecurity: false }));
  assert.match(rec.batches[1]!, /delete element bridge gt filtered \{ "tap1" \}/);
  assert.match(rec.batches[1]!, /delete chain inet gt pf_\w+_in/);
  assert.doesNotMatch(rec.batches[1]!, /add (rule|element)/);
  await fw.upsertPort(port(1, [G]));
  assert.match(rec.batches[2]!, /add element bridge gt filtered \{ "tap1" \}/);
  assert.match(rec.batches[2]!, /add chain inet gt pf_\w+_in/);
});

test('ports with the same groups share one profile; its chains go with the last of them', async () => {
  const rec = recorder();
  const fw = createNftFirewall({ table: 'gt', run: rec.run });
  await fw.sync([port(1, [G, R]), port(2, [R, G])], []);
  assert.equal(rec.batches[0]!.match(/add chain inet gt pf_\w+_in/g)!.length, 1);
  await fw.removePort('p1');
  assert.doesNotMatch(rec.batches[1]!, /delete chain/);
  await fw.upsertPort(port(3, [G]));
  await fw.removePort('p2');
  assert.match(rec.batches[3]!, /delete chain inet gt pf_\w+_in/);
});

test(
  'when the last filtered port leaves, the tables go; the next port brings back groups, rules and ' + 'members',
  async () => {
    const rec = recorder();
    const fw = createNftFirewall({ table: 'gt', run: rec.run });
    await fw.sync([port(1, [G]), port(2, [R], { portSecurity: false })], rules(2));
    await fw.removePort('p1');
    assert.equal(
      rec.batches[1],
      'add table bridge gt\ndelete table bridge gt\nadd table inet gt\ndelete table inet gt\n',
    );
    await fw.upsertPort(port(3, [G]));
    const b = rec.batches[2]!;
    assert.match(b, /^add table bridge gt\ndelete table bridge gt/);
    assert.equal(b.match(/meta l4proto 6 th dport/g)?.length, 2, 'the group rules are written again');
    assert.match(b, /add element inet gt rg4_\w+ \{ 10\.0\.0\.2 \}/, 'members of unfiltered ports are written again');
    assert.match(b, /"tap3" : 0x00000001/);
    await fw.sync([], rules(2));
    assert.equal(rec.batches[3], rec.batches[1], 'a sync with no filtered port keeps no tables');
  },
);

test('the first change before any sync starts from fresh tables; destroy drops them', async () => {
  const rec = recorder();
  const fw = createNftFirewall({ table: 'gt', run: rec.run });
  await fw.setGroupRules(G, rules(1));
  assert.match(rec.batches[0]!, /^add table bridge gt\ndelete table bridge gt/);
  await fw.setGroupRules(G, []);
  assert.doesNotMatch(rec.batches[1]!, /table/);
  assert.match(rec.batches[1]!, /flush chain inet gt sg_\w+_in\n/);
  await fw.destroy();
  assert.equal(
    rec.batches[2],
    'add table bridge gt\ndelete table bridge gt\nadd table inet gt\ndelete table inet gt\n',
  );
  assert.throws(() => createNftFirewall({ table: 'no way', run: rec.run }), /invalid nft table name/);
});

test('rules that can never match are left out and logged, not applied', async () => {
  const logs: string[] = [];
  const rec = recorder();
  const fw = createNftFirewall({ table: 'gt', run: rec.run, log: (m) => logs.push(m) });
  await fw.setGroupRules(G, [{ ...rules(1)[0]!, id: 'bad', protocol: 'nonsense' }]);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /rule bad .*never matches/);
  assert.doesNotMatch(rec.batches[0]!, /add rule inet gt sg_/);
});
