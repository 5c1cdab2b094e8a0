import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NoopNetDriver,
  NetDispatcher,
  createNetDriver,
  type NetDriver,
  type NetEvent,
} from '../../../src/net/index.js';
import {
  canonicalIp,
  defaultPools,
  eui64,
  formatIp,
  normalizeMac,
  parseCidr,
  tryParseCidr,
  tryParseIp,
} from '../../../src/services/network/ipaddr.js';

test('the noop driver records events in order and converges like an idempotent driver', async () => {
  const d = new NoopNetDriver();
  const net = new NetDispatcher(d);
  await net.publish('port', 'created', { id: 'p1', fixed_ips: [] });
  await net.publish('port', 'created', { id: 'p1', fixed_ips: [] }); // delivered twice: same state
  await net.publish('port', 'bound', { id: 'p1', 'binding:host_id': 'h' });
  assert.deepEqual(
    d.events.map((e) => [e.kind, e.action, e.seq]),
    [
      ['port', 'created', 1],
      ['port', 'created', 2],
      ['port', 'bound', 3],
    ],
  );
  assert.equal(d.realized.get('port')!.size, 1);
  assert.equal(d.realized.get('port')!.get('p1')!['binding:host_id'], 'h');
  await net.publish('port', 'deleted', { id: 'p1' });
  assert.equal(d.realized.get('port')!.size, 0);
  await net.resync({
    networks: [{ id: 'n1' }],
    subnets: [],
    ports: [{ id: 'p2' }],
    routers: [],
    floatingips: [],
    security_groups: [],
  });
  assert.deepEqual([...d.realized.get('port')!.keys()], ['p2']);
  assert.deepEqual([...d.realized.get('network')!.keys()], ['n1']);
  assert.equal(d.resyncs, 1);
  assert.equal(d.ofKind('port', 'created').length, 2);
});

test('a failing driver does not stop later events, and events stay in order', async () => {
  const seen: string[] = [];
  const errors: string[] = [];
  const flaky: NetDriver = {
    name: 'flaky',
    async apply(e: NetEvent) {
      await new Promise((r) => setTimeout(r, e.id === 'a' ? 20 : 0));
      if (e.id === 'b') throw new Error('boom');
      seen.push(e.id);
    },
    async resync() {},
    async close() {},
  };
  const net = new NetDispatcher(flaky, (err, ev) => errors.push(`${ev.id}:${(err as Error).message}`));
  void net.publish('network', 'created', { id: 'a' });
  void net.publish('network', 'created', { id: 'b' });
  void net.publish('network', 'created', { id: 'c' });
  await net.drain();
  assert.deepEqual(seen, ['a', 'c']);
  assert.deepEqual(errors, ['b:boom']);
});

test('the driver registry knows noop and refuses unknown names', () => {
  assert.equal(createNetDriver('noop').name, 'noop');
  assert.throws(() => createNetDriver('nope'), /unknown network driver/);
});

test('IP parsing, formatting and CIDRs', () => {
  assert.equal(canonicalIp('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(canonicalIp('::ffff:10.0.0.1'), '::ffff:a00:1');
  assert.equal(tryParseIp('10.0.0.256'), null);
  assert.equal(tryParseIp('010.0.0.1'), null);
  assert.equal(tryParseIp('1::2::3'), null);
  assert.equal(formatIp(6, 0n), '::');
  const c = parseCidr('10.0.0.0/24');
  assert.deepEqual(
    defaultPools(c, tryParseIp('10.0.0.1')!.value).map((r) => [formatIp(4, r.first), formatIp(4, r.last)]),
    [['10.0.0.2', '10.0.0.254']],
  );
  assert.deepEqual(defaultPools(c, tryParseIp('10.0.0.100')!.value).length, 2);
  assert.equal(tryParseCidr('10.0.0.5/24')!.hostBitsSet, true);
  assert.equal(tryParseCidr('10.0.0.0/33'), null);
  assert.equal(formatIp(6, eui64(parseCidr('2001:db8::/64'), 'fa:16:3e:12:34:56')), '2001:db8::f816:3eff:fe12:3456');
  assert.equal(normalizeMac('FA-16-3E-AA-BB-CC'), 'fa:16:3e:aa:bb:cc');
  assert.equal(normalizeMac('01:00:5e:00:00:01'), null);
  assert.equal(normalizeMac('00:00:00:00:00:00'), null);
});
