import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ruleMatches, requestAllowed } from '../../../src/services/identity/access-rules.js';

const rule = (path: string, method = 'GET', service = 'compute') => ({ service, method, path });

test('literal paths match exactly, on the right service and method', () => {
  assert.ok(ruleMatches(rule('/v2.1/servers'), 'compute', 'GET', '/v2.1/servers'));
  assert.ok(ruleMatches(rule('/v2.1/servers'), 'compute', 'GET', '/v2.1/servers?limit=1'));
  assert.ok(!ruleMatches(rule('/v2.1/servers'), 'compute', 'POST', '/v2.1/servers'));
  assert.ok(!ruleMatches(rule('/v2.1/servers'), 'image', 'GET', '/v2.1/servers'));
  assert.ok(!ruleMatches(rule('/v2.1/servers'), 'compute', 'GET', '/v2.1/servers/abc'));
});

test('* and {name} match one segment, ** any number', () => {
  assert.ok(ruleMatches(rule('/v2.1/servers/*'), 'compute', 'GET', '/v2.1/servers/abc'));
  assert.ok(ruleMatches(rule('/v2.1/servers/{server_id}'), 'compute', 'GET', '/v2.1/servers/abc'));
  assert.ok(!ruleMatches(rule('/v2.1/servers/*'), 'compute', 'GET', '/v2.1/servers/abc/action'));
  assert.ok(ruleMatches(rule('/v2.1/servers/**'), 'compute', 'GET', '/v2.1/servers/abc/os-interface/x'));
  assert.ok(ruleMatches(rule('/v2.1/servers/**'), 'compute', 'GET', '/v2.1/servers'));
  assert.ok(!ruleMatches(rule('/v2.1/servers/**'), 'compute', 'GET', '/v2.1/flavors'));
});

test('no rules means no restriction; HEAD is allowed by a GET rule', () => {
  assert.ok(requestAllowed(undefined, 'compute', 'DELETE', '/anything'));
  assert.ok(requestAllowed([], 'compute', 'DELETE', '/anything'));
  assert.ok(requestAllowed([rule('/v3/projects', 'GET', 'identity')], 'identity', 'HEAD', '/v3/projects'));
  assert.ok(!requestAllowed([rule('/v3/projects', 'GET', 'identity')], 'identity', 'DELETE', '/v3/projects'));
});
