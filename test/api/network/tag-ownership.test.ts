// Issue 11, finding 2: tags are written only by members of the tagged object's project (or admin). A member who can
// see the shared external network may read its tags but not change them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser } from '../identity/fixtures.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

test('a member cannot tag a network it sees but does not own; it can tag its own; a reader cannot tag', async () => {
  const N = '/network/v2.0/networks';
  const pub = (await cloud.request('GET', `${N}?name=public`, { token: cloud.adminToken })).json.networks[0];
  assert.ok(pub, 'the bootstrap external network');
  const set = await cloud.request('PUT', `${N}/${pub.id}/tags`, {
    token: cloud.adminToken,
    body: { tags: ['admin-tag'] },
  });
  assert.equal(set.status, 200, set.text);

  const p = await createProject(cloud);
  const member = await createUser(cloud, p.id, p.name, ['member']);
  const reader = await createUser(cloud, p.id, p.name, ['reader']);
  assert.equal(
    (await cloud.request('GET', `${N}/${pub.id}/tags`, { token: member.token })).status,
    200,
    'visible, so readable',
  );

  for (const [method, url, body] of [
    ['PUT', `${N}/${pub.id}/tags/x`, undefined],
    ['PUT', `${N}/${pub.id}/tags`, { tags: ['mine'] }],
    ['DELETE', `${N}/${pub.id}/tags/admin-tag`, undefined],
    ['DELETE', `${N}/${pub.id}/tags`, undefined],
  ] as const) {
    const r = await cloud.request(method, url, { token: member.token, ...(body ? { body } : {}) });
    assert.equal(r.status, 403, `${method} ${url} -> ${r.status} ${r.text}`);
    assert.equal(r.json.NeutronError.type, 'PolicyNotAuthorized');
  }
  const tags = (await cloud.request('GET', `${N}/${pub.id}/tags`, { token: cloud.adminToken })).json.tags;
  assert.deepEqual(tags, ['admin-tag'], "the admin's tags are untouched");

  const own = (await cloud.request('POST', N, { token: member.token, body: { network: { name: 'own' } } })).json
    .network;
  assert.equal((await cloud.request('PUT', `${N}/${own.id}/tags/x`, { token: member.token })).status, 201);
  assert.equal((await cloud.request('PUT', `${N}/${own.id}/tags/y`, { token: reader.token })).status, 403);
  assert.deepEqual((await cloud.request('GET', `${N}/${own.id}/tags`, { token: reader.token })).json.tags, ['x']);
});
