// Issue 11, finding 4: a member cannot boot on (or attach to) a network it may not plug into: the external network is
// refused with Nova's 403 before anything is queued; another project's private network is not found (400).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { leftovers, makeImage, V } from './helpers.js';
import { createProject, createUser } from '../identity/fixtures.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

test("server create on the external network or another project's network is refused up front", async () => {
  const p = await createProject(cloud);
  const member = await createUser(cloud, p.id, p.name, ['member']);
  const imageId = await makeImage(cloud);
  const pub = (await cloud.request('GET', '/network/v2.0/networks?name=public', { token: cloud.adminToken })).json
    .networks[0].id;
  const other = (await cloud.request('GET', '/network/v2.0/networks?name=private', { token: cloud.adminToken })).json
    .networks[0].id;
  const before = await leftovers(cloud);

  const onPublic = await cloud.request('POST', `${V}/servers`, {
    token: member.token,
    body: { server: { name: 'x', imageRef: imageId, flavorRef: '42', networks: [{ uuid: pub }] } },
  });
  assert.equal(onPublic.status, 403, onPublic.text);
  assert.match(onPublic.json.forbidden.message, /external network/);

  const onOther = await cloud.request('POST', `${V}/servers`, {
    token: member.token,
    body: { server: { name: 'x', imageRef: imageId, flavorRef: '42', networks: [{ uuid: other }] } },
  });
  assert.equal(onOther.status, 400, onOther.text);
  assert.match(onOther.json.badRequest.message, /could not be found/);
  assert.deepEqual(await leftovers(cloud), before, 'nothing was made or queued');

  // The admin may still boot on the external network (Nova's admin override).
  const admin = await cloud.request('POST', `${V}/servers`, {
    token: cloud.adminToken,
    body: { server: { name: 'a', imageRef: imageId, flavorRef: '42', networks: [{ uuid: pub }] } },
  });
  assert.equal(admin.status, 202, admin.text);
});
