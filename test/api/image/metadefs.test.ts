import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { V2, memberOf } from './helpers.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

const NS = `${V2}/metadefs/namespaces`;

test('namespaces: create with associations, protected cannot be deleted, update, delete', async () => {
  const t = cloud.adminToken;
  const rts = (await cloud.request('GET', `${V2}/metadefs/resource_types`, { token: t })).json.resource_types;
  assert.ok(rts.some((r: { name: string }) => r.name === 'OS::Glance::Image'));
  const c = await cloud.request('POST', NS, {
    token: t,
    body: {
      namespace: 'ns-1',
      visibility: 'public',
      description: 'd',
      display_name: 'ns-1',
      protected: true,
      resource_type_associations: [{ name: 'OS::Glance::Image' }],
    },
  });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.json.namespace, 'ns-1');
  assert.equal((await cloud.request('POST', NS, { token: t, body: { namespace: 'ns-1' } })).status, 409);
  const list = (await cloud.request('GET', NS, { token: t })).json.namespaces.map(
    (n: { namespace: string }) => n.namespace,
  );
  assert.ok(list.includes('ns-1'));
  const shown = (await cloud.request('GET', `${NS}/ns-1`, { token: t })).json;
  assert.equal(shown.visibility, 'public');
  assert.deepEqual(
    shown.resource_type_associations.map((r: { name: string }) => r.name),
    ['OS::Glance::Image'],
  );
  assert.equal((await cloud.request('DELETE', `${NS}/ns-1`, { token: t })).status, 403);
  const u = await cloud.request('PUT', `${NS}/ns-1`, {
    token: t,
    body: { namespace: 'ns-1', visibility: 'private', protected: false },
  });
  assert.equal(u.status, 200);
  assert.equal(u.json.protected, false);
  assert.equal((await cloud.request('DELETE', `${NS}/ns-1`, { token: t })).status, 204);
  assert.equal((await cloud.request('GET', `${NS}/ns-1`, { token: t })).status, 404);
});

test('objects, properties, tags and associations inside a namespace', async () => {
  const t = cloud.adminToken;
  assert.equal((await cloud.request('POST', NS, { token: t, body: { namespace: 'ns-2' } })).status, 201);
  // objects
  assert.equal((await cloud.request('POST', `${NS}/ns-2/objects`, { token: t, body: { name: 'o1' } })).status, 201);
  const renamed = await cloud.request('PUT', `${NS}/ns-2/objects/o1`, { token: t, body: { name: 'o2' } });
  assert.equal(renamed.json.name, 'o2');
  assert.equal((await cloud.request('GET', `${NS}/ns-2/objects/o2`, { token: t })).json.name, 'o2');
  assert.equal((await cloud.request('DELETE', `${NS}/ns-2/objects/o2`, { token: t })).status, 204);
  assert.deepEqual((await cloud.request('GET', `${NS}/ns-2/objects`, { token: t })).json.objects, []);
  // properties
  const p = await cloud.request('POST', `${NS}/ns-2/properties`, {
    token: t,
    body: { name: 'OS::Glance::Image', title: 'T', type: 'string', enum: ['kvm'] },
  });
  assert.equal(p.status, 201, p.text);
  assert.equal(p.json.title, 'T');
  assert.equal(
    (await cloud.request('GET', `${NS}/ns-2/properties/OS::Glance::Image`, { token: t })).json.name,
    'OS::Glance::Image',
  );
  const up = await cloud.request('PUT', `${NS}/ns-2/properties/OS::Glance::Image`, {
    token: t,
    body: { name: 'OS::Glance::Image', title: 'T2', type: 'string' },
  });
  assert.equal(up.json.title, 'T2');
  assert.equal(
    (await cloud.request('POST', `${NS}/ns-2/properties`, { token: t, body: { name: 'x', type: 'string' } })).status,
    400,
  );
  assert.equal((await cloud.request('DELETE', `${NS}/ns-2/properties/OS::Glance::Image`, { token: t })).status, 204);
  assert.deepEqual((await cloud.request('GET', `${NS}/ns-2/properties`, { token: t })).json.properties, {});
  // tags
  const tags = await cloud.request('POST', `${NS}/ns-2/tags`, {
    token: t,
    body: { tags: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
  });
  assert.equal(tags.status, 201);
  assert.equal((await cloud.request('GET', `${NS}/ns-2/tags`, { token: t })).json.tags.length, 3);
  assert.equal((await cloud.request('POST', `${NS}/ns-2/tags/d`, { token: t })).status, 201);
  assert.equal((await cloud.request('PUT', `${NS}/ns-2/tags/d`, { token: t, body: { name: 'e' } })).json.name, 'e');
  assert.equal((await cloud.request('GET', `${NS}/ns-2/tags/d`, { token: t })).status, 404);
  assert.equal((await cloud.request('DELETE', `${NS}/ns-2/tags`, { token: t })).status, 204);
  assert.deepEqual((await cloud.request('GET', `${NS}/ns-2/tags`, { token: t })).json.tags, []);
  // associations
  assert.equal(
    (await cloud.request('POST', `${NS}/ns-2/resource_types`, { token: t, body: { name: 'OS::Nova::Flavor' } })).status,
    201,
  );
  assert.equal(
    (await cloud.request('GET', `${NS}/ns-2/resource_types`, { token: t })).json.resource_type_associations[0].name,
    'OS::Nova::Flavor',
  );
  assert.equal((await cloud.request('DELETE', `${NS}/ns-2/resource_types/OS::Nova::Flavor`, { token: t })).status, 204);
  assert.deepEqual(
    (await cloud.request('GET', `${NS}/ns-2/resource_types`, { token: t })).json.resource_type_associations,
    [],
  );
});

test('only admins write metadefs; private namespaces are hidden from other projects', async () => {
  const user = await memberOf(cloud, 'md-user');
  assert.equal((await cloud.request('POST', NS, { token: user.token, body: { namespace: 'nope' } })).status, 403);
  assert.equal(
    (
      await cloud.request('POST', NS, {
        token: cloud.adminToken,
        body: { namespace: 'hidden-ns', visibility: 'private' },
      })
    ).status,
    201,
  );
  assert.equal((await cloud.request('GET', `${NS}/hidden-ns`, { token: user.token })).status, 404);
});
