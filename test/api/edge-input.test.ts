// Issue 11, finding 3: input that used to answer 500 (deep JSON, prototype keys, absurd integers, non-string ids)
// is a 400 in each service's own error body, and nothing is made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud, type InjectResult } from '../helpers/cloud.js';
import { jsonDepth } from '../../src/api/http/json-body.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

/** The error body each service answers with. */
function assertServiceError(service: string, r: InjectResult, what: string): void {
  assert.equal(r.status, 400, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  if (service === 'identity') assert.equal(r.json.error.code, 400, what);
  else if (service === 'compute') assert.equal(r.json.badRequest.code, 400, what);
  else if (service === 'network') assert.equal(r.json.NeutronError.type, 'BadRequest', what);
  else assert.match(r.text, /^400 Bad Request/, what);
}

const bodies: [string, string, string, (inner: string) => string][] = [
  ['identity', 'POST', '/identity/v3/users', (x) => `{"user":{"name":"deep","extra":${x}}}`],
  ['identity', 'POST', '/identity/v3/projects', (x) => `{"project":{"name":"deep","tags":${x}}}`],
  ['compute', 'POST', '/compute/v2.1/servers', (x) => `{"server":{"name":"deep","flavorRef":"42","metadata":${x}}}`],
  ['compute', 'POST', '/compute/v2.1/os-keypairs', (x) => `{"keypair":{"name":${x}}}`],
  ['network', 'POST', '/network/v2.0/networks', (x) => `{"network":{"name":${x}}}`],
  ['network', 'POST', '/network/v2.0/ports', (x) => `{"port":{"fixed_ips":${x}}}`],
  ['image', 'POST', '/image/v2/images', (x) => `{"name":"deep","x":${x}}`],
];

test("JSON nested 5,000 deep is a 400 in each service's body, before it is parsed", async () => {
  for (const [service, method, url, wrap] of bodies) {
    const r = await cloud.request(method, url, {
      token: cloud.adminToken,
      payload: wrap(deep(5000)),
      headers: { 'content-type': 'application/json' },
    });
    assertServiceError(service, r, `${method} ${url}`);
  }
  assert.equal(jsonDepth('{"a":"[[[[[[","b":[1,[2]]}'), 3, 'brackets inside strings do not count');
});

test('prototype keys in bodies and query strings are a 400', async () => {
  const t = cloud.adminToken;
  const ct = { 'content-type': 'application/json' };
  assertServiceError(
    'network',
    await cloud.request('POST', '/network/v2.0/networks', {
      token: t,
      payload: '{"network":{"__proto__":{"admin":true}}}',
      headers: ct,
    }),
    'body __proto__',
  );
  assertServiceError(
    'compute',
    await cloud.request('POST', '/compute/v2.1/os-keypairs', {
      token: t,
      payload: '{"keypair":{"name":"k","constructor":{"prototype":1}}}',
      headers: ct,
    }),
    'body constructor',
  );
  assertServiceError(
    'image',
    await cloud.request('GET', '/image/v2/images?__proto__=1', { token: t }),
    'image query __proto__',
  );
  assertServiceError(
    'identity',
    await cloud.request('GET', '/identity/v3/users?__proto__=x', { token: t }),
    'identity query __proto__',
  );
  const nets = await cloud.request('GET', '/network/v2.0/networks', { token: t });
  assert.ok(!nets.json.networks.some((n: { name: string }) => n.name === ''), 'no network was made');
});

test('absurd integers are a 400', async () => {
  const t = cloud.adminToken;
  assertServiceError(
    'compute',
    await cloud.request('GET', '/compute/v2.1/os-keypairs?limit=99999999999999999999999', {
      token: t,
      headers: { 'x-openstack-nova-api-version': '2.35' },
    }),
    'keypairs limit',
  );
  assertServiceError(
    'compute',
    await cloud.request('POST', '/compute/v2.1/flavors', {
      token: t,
      payload: '{"flavor":{"name":"huge","ram":1e400,"vcpus":1,"disk":1}}',
      headers: { 'content-type': 'application/json' },
    }),
    'flavor ram 1e400',
  );
  assertServiceError(
    'network',
    await cloud.request('POST', '/network/v2.0/networks', {
      token: t,
      payload: '{"network":{"name":"n","mtu":99999999999999999999999}}',
      headers: { 'content-type': 'application/json' },
    }),
    'mtu',
  );
});

test('a non-string domain_id on users and projects is a 400 and nothing is made', async () => {
  const t = cloud.adminToken;
  for (const kind of ['user', 'project']) {
    for (const domainId of [true, [], {}, 7, Array.from({ length: 50_000 }, (_, i) => i)]) {
      const r = await cloud.request('POST', `/identity/v3/${kind}s`, {
        token: t,
        body: { [kind]: { name: `bad-${kind}`, domain_id: domainId } },
      });
      assertServiceError('identity', r, `${kind} domain_id ${JSON.stringify(domainId).slice(0, 20)}`);
    }
    const list = await cloud.request('GET', `/identity/v3/${kind}s?name=bad-${kind}`, { token: t });
    assert.equal(list.json[`${kind}s`].length, 0);
  }
});
