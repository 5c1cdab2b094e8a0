// The metering table a router namespace gets (no root needed: the text and the counter parsing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meteringRuleset, parseCounters } from '../../../src/net/linuxbridge/metering/index.js';

const LABEL = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

test('excluded rules come first and return; counting rules count once and return; v6 uses ip6', () => {
  const text = meteringRuleset('qg-x', [
    {
      id: LABEL,
      rules: [
        { direction: 'ingress', source: '10.0.0.0/8', destination: null, excluded: false },
        { direction: 'egress', source: null, destination: 'fd02::/64', excluded: false },
        { direction: 'ingress', source: '10.1.0.0/16', destination: null, excluded: true },
        { direction: 'ingress', source: '10.0.0.0/8', destination: 'fd00::/8', excluded: false },
      ],
    },
  ]);
  const chain = text.split('\n').filter((l) => l.startsWith('    ') && !l.includes('type filter'));
  assert.deepEqual(chain, [
    '    jump l_aaaaaaaabbbb4ccc8dddeeeeeeeeeeee',
    '    iifname "qg-x" ip saddr 10.1.0.0/16 return',
    '    iifname "qg-x" ip saddr 10.0.0.0/8 counter name m_aaaaaaaabbbb4ccc8dddeeeeeeeeeeee return',
    '    oifname "qg-x" ip6 daddr fd02::/64 counter name m_aaaaaaaabbbb4ccc8dddeeeeeeeeeeee return',
  ]);
  assert.match(text, /^add table inet gureum_metering\ndelete table inet gureum_metering\n/);
});

test('no labels: the batch only removes the table', () => {
  assert.equal(meteringRuleset('qg-x', []), 'add table inet gureum_metering\ndelete table inet gureum_metering\n');
});

test('counters are read back by label id; other counters are ignored', () => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      {
        counter: {
          family: 'inet',
          name: 'm_aaaaaaaabbbb4ccc8dddeeeeeeeeeeee',
          table: 'gureum_metering',
          packets: 3,
          bytes: 252,
        },
      },
      { counter: { family: 'inet', name: 'other', table: 'gureum_metering', packets: 1, bytes: 1 } },
    ],
  });
  assert.deepEqual(parseCounters(json), [{ labelId: LABEL, bytes: 252, packets: 3 }]);
});
