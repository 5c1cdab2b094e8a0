import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser, uniq, type TestUser } from './fixtures.js';

let cloud: TestCloud;
let alice: TestUser;
let domainId: string;
before(async () => {
  cloud = await createTestCloud();
  const p = await createProject(cloud);
  alice = await createUser(cloud, p.id, p.name, ['member']);
  const d = await cloud.request('POST', '/identity/v3/domains', {
    token: cloud.adminToken,
    body: { domain: { name: uniq('dom') } },
  });
  assert.equal(d.status, 201, d.text);
  domainId = d.json.domain.id;
});
after(async () => {
  await cloud.close();
});

const cfg = {
  identity: { driver: 'ldap' },
  ldap: { url: 'ldap://example.test:389/', user_tree_dn: 'ou=Users,dc=example,dc=test', password: 'hidden' },
};
const shown = {
  identity: { driver: 'ldap' },
  ldap: { url: 'ldap://example.test:389/', user_tree_dn: 'ou=Users,dc=example,dc=test' },
};

test('defaults are served for the identity and ldap groups', async () => {
  const all = await cloud.request('GET', '/identity/v3/domains/config/default', { token: cloud.adminToken });
  assert.equal(all.status, 200);
  assert.equal(all.json.config.identity.driver, 'sql');
  assert.ok('list_limit' in all.json.config.identity);
  assert.ok('url' in all.json.config.ldap);
  assert.equal(all.json.config.ldap.password, undefined);
  const one = await cloud.request('GET', '/identity/v3/domains/config/ldap/url/default', { token: cloud.adminToken });
  assert.deepEqual(one.json.config, { url: 'ldap://localhost' });
  assert.equal(
    (await cloud.request('GET', '/identity/v3/domains/config/nope/default', { token: cloud.adminToken })).status,
    403,
  );
  assert.equal((await cloud.request('GET', '/identity/v3/domains/config/default', { token: alice.token })).status, 403);
});

test('a domain config is created, read by group and option, updated and deleted at each level', async () => {
  const base = `/identity/v3/domains/${domainId}/config`;
  assert.equal((await cloud.request('GET', base, { token: cloud.adminToken })).status, 404);
  const put = await cloud.request('PUT', base, { token: cloud.adminToken, body: { config: cfg } });
  assert.equal(put.status, 201, put.text);
  assert.deepEqual(put.json.config, shown, 'sensitive options are never shown');
  assert.equal((await cloud.request('PUT', base, { token: cloud.adminToken, body: { config: cfg } })).status, 200);
  assert.deepEqual((await cloud.request('GET', `${base}/ldap`, { token: cloud.adminToken })).json.config, {
    ldap: shown.ldap,
  });
  assert.deepEqual((await cloud.request('GET', `${base}/ldap/url`, { token: cloud.adminToken })).json.config, {
    url: shown.ldap.url,
  });

  const g = await cloud.request('PATCH', `${base}/identity`, {
    token: cloud.adminToken,
    body: { config: { identity: { driver: 'x', list_limit: 7 } } },
  });
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.json.config.identity, { driver: 'x', list_limit: 7 });
  const o = await cloud.request('PATCH', `${base}/identity/driver`, {
    token: cloud.adminToken,
    body: { config: { driver: 'y' } },
  });
  assert.equal(o.json.config.identity.driver, 'y');
  const whole = await cloud.request('PATCH', base, {
    token: cloud.adminToken,
    body: { config: { ldap: { url: 'ldap://other.test/' } } },
  });
  assert.equal(whole.json.config.ldap.url, 'ldap://other.test/');
  assert.equal(whole.json.config.ldap.user_tree_dn, shown.ldap.user_tree_dn, 'a PATCH merges');

  assert.equal(
    (
      await cloud.request('PATCH', `${base}/identity`, {
        token: cloud.adminToken,
        body: { config: { ldap: { url: 'x' } } },
      })
    ).status,
    400,
  );
  assert.equal(
    (await cloud.request('PATCH', base, { token: cloud.adminToken, body: { config: { ldap: { colour: 'red' } } } }))
      .status,
    403,
  );
  assert.equal((await cloud.request('PUT', base, { token: cloud.adminToken, body: { config: {} } })).status, 403);
  assert.equal((await cloud.request('PUT', base, { token: alice.token, body: { config: cfg } })).status, 403);
  assert.equal(
    (
      await cloud.request('PUT', `/identity/v3/domains/${'f'.repeat(32)}/config`, {
        token: cloud.adminToken,
        body: { config: cfg },
      })
    ).status,
    404,
  );

  assert.equal((await cloud.request('DELETE', `${base}/identity/driver`, { token: cloud.adminToken })).status, 204);
  assert.equal((await cloud.request('GET', `${base}/identity/driver`, { token: cloud.adminToken })).status, 404);
  assert.equal((await cloud.request('DELETE', `${base}/identity`, { token: cloud.adminToken })).status, 204);
  assert.equal((await cloud.request('GET', `${base}/identity`, { token: cloud.adminToken })).status, 404);
  assert.equal((await cloud.request('DELETE', base, { token: cloud.adminToken })).status, 204);
  assert.equal((await cloud.request('GET', base, { token: cloud.adminToken })).status, 404);
  assert.equal((await cloud.request('DELETE', base, { token: cloud.adminToken })).status, 404);
});
