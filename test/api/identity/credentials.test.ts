import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser, type TestUser } from './fixtures.js';

let cloud: TestCloud;
let project: { id: string; name: string };
let alice: TestUser;
let bob: TestUser;
before(async () => {
  cloud = await createTestCloud();
  project = await createProject(cloud);
  alice = await createUser(cloud, project.id, project.name, ['member']);
  bob = await createUser(cloud, project.id, project.name, ['member']);
});
after(async () => {
  await cloud.close();
});

const C = '/identity/v3/credentials';
const ec2Blob = (access: string, secret = 'sekrit') => JSON.stringify({ access, secret });
const create = (body: Record<string, unknown>, token = cloud.adminToken) =>
  cloud.request('POST', C, { token, body: { credential: body } });

test('an ec2 credential is keyed by the sha256 of its access key; create, show, update, delete', async () => {
  const r = await create({ user_id: alice.id, project_id: project.id, type: 'ec2', blob: ec2Blob('AK1') });
  assert.equal(r.status, 201, r.text);
  const c = r.json.credential;
  assert.equal(c.id, createHash('sha256').update('AK1').digest('hex'));
  assert.equal(c.user_id, alice.id);
  assert.equal(c.project_id, project.id);
  assert.equal(c.type, 'ec2');
  assert.equal(typeof c.blob, 'string');
  assert.equal(JSON.parse(c.blob).secret, 'sekrit');
  assert.match(c.links.self, new RegExp(`/v3/credentials/${c.id}$`));

  const other = await createProject(cloud);
  const u = await cloud.request('PATCH', `${C}/${c.id}`, {
    token: cloud.adminToken,
    body: { credential: { blob: ec2Blob('AK1-new', 's2'), project_id: other.id, type: 'ec2' } },
  });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.credential.id, c.id, 'the id stays');
  assert.equal(u.json.credential.project_id, other.id);
  assert.equal(
    JSON.parse((await cloud.request('GET', `${C}/${c.id}`, { token: cloud.adminToken })).json.credential.blob).access,
    'AK1-new',
  );

  assert.equal(
    (await create({ user_id: alice.id, project_id: project.id, type: 'ec2', blob: ec2Blob('AK1') })).status,
    409,
  );
  assert.equal((await cloud.request('DELETE', `${C}/${c.id}`, { token: cloud.adminToken })).status, 204);
  assert.equal((await cloud.request('GET', `${C}/${c.id}`, { token: cloud.adminToken })).status, 404);
});

test('bad credentials are 400', async () => {
  const bad: Record<string, unknown>[] = [
    { user_id: alice.id, type: 'ec2', blob: ec2Blob('AK2') }, // ec2 without project
    { user_id: alice.id, project_id: project.id, type: 'ec2', blob: 'not json' },
    { user_id: alice.id, project_id: project.id, type: 'ec2', blob: JSON.stringify({ secret: 'x' }) },
    { user_id: alice.id, type: 'cert', blob: { not: 'a string' } },
    { user_id: alice.id, blob: 'x' },
    { type: 'cert', blob: 'x' },
    { user_id: 'f'.repeat(32), type: 'cert', blob: 'x' },
  ];
  for (const b of bad) {
    const r = await create(b);
    assert.equal(r.status, 400, `${JSON.stringify(b)}: ${r.text}`);
    assert.equal(r.json.error.code, 400);
  }
  const c = (
    await create({
      user_id: alice.id,
      project_id: project.id,
      type: 'ec2',
      blob: JSON.stringify({ access: 'AK3', trust_id: null }),
    })
  ).json.credential;
  const pinned = await cloud.request('PATCH', `${C}/${c.id}`, {
    token: cloud.adminToken,
    body: { credential: { blob: JSON.stringify({ access: 'AK3', trust_id: 'abc' }) } },
  });
  assert.equal(pinned.status, 400, 'trust_id of an ec2 credential cannot change');
});

test('users manage their own credentials only, and list only their own', async () => {
  const mine = await create({ user_id: alice.id, type: 'totp', blob: 'seed-a' }, alice.token);
  assert.equal(mine.status, 201, mine.text);
  assert.equal((await create({ user_id: bob.id, type: 'totp', blob: 'seed-b' }, alice.token)).status, 403);
  const bobs = await create({ user_id: bob.id, type: 'totp', blob: 'seed-b' }, bob.token);
  assert.equal(bobs.status, 201);
  const id = mine.json.credential.id;
  assert.match(id, /^[0-9a-f]{32}$/);

  const list = await cloud.request('GET', C, { token: alice.token });
  assert.equal(list.status, 200);
  assert.ok(list.json.credentials.length >= 1);
  assert.ok(list.json.credentials.every((x: { user_id: string }) => x.user_id === alice.id));
  assert.equal(
    (await cloud.request('GET', `${C}?user_id=${bob.id}`, { token: alice.token })).json.credentials.length,
    0,
  );
  const all = await cloud.request('GET', `${C}?type=totp`, { token: cloud.adminToken });
  assert.deepEqual(
    new Set(all.json.credentials.map((x: { user_id: string }) => x.user_id)),
    new Set([alice.id, bob.id]),
  );
  assert.equal(
    (await cloud.request('GET', `${C}?user_id=${bob.id}`, { token: cloud.adminToken })).json.credentials.length,
    1,
  );

  assert.equal((await cloud.request('GET', `${C}/${id}`, { token: bob.token })).status, 403);
  assert.equal(
    (await cloud.request('PATCH', `${C}/${id}`, { token: bob.token, body: { credential: { blob: 'x' } } })).status,
    403,
  );
  assert.equal(
    (await cloud.request('PATCH', `${C}/${id}`, { token: alice.token, body: { credential: { user_id: bob.id } } }))
      .status,
    403,
    'no handing over',
  );
  assert.equal((await cloud.request('DELETE', `${C}/${id}`, { token: bob.token })).status, 403);
  assert.equal(
    (await cloud.request('PATCH', `${C}/${id}`, { token: alice.token, body: { credential: { blob: 'seed-a2' } } })).json
      .credential.blob,
    'seed-a2',
  );
  assert.equal((await cloud.request('DELETE', `${C}/${id}`, { token: alice.token })).status, 204);
});

test('OS-EC2: a user makes, lists, shows and deletes ec2 key pairs', async () => {
  const base = `/identity/v3/users/${alice.id}/credentials/OS-EC2`;
  const r = await cloud.request('POST', base, { token: alice.token, body: { tenant_id: project.id } });
  assert.equal(r.status, 201, r.text);
  const c = r.json.credential;
  assert.equal(c.user_id, alice.id);
  assert.equal(c.tenant_id, project.id);
  assert.match(c.access, /^[0-9a-f]{32}$/);
  assert.match(c.secret, /^[0-9a-f]{32}$/);
  assert.equal(c.trust_id, null);
  assert.match(c.links.self, new RegExp(`/users/${alice.id}/credentials/OS-EC2/${c.access}$`));
  const list = await cloud.request('GET', base, { token: alice.token });
  assert.ok(list.json.credentials.some((x: { access: string }) => x.access === c.access));
  const shown = await cloud.request('GET', `${base}/${c.access}`, { token: alice.token });
  assert.equal(shown.json.credential.secret, c.secret);
  // The same credential through /v3/credentials.
  const id = createHash('sha256').update(c.access).digest('hex');
  assert.equal((await cloud.request('GET', `${C}/${id}`, { token: alice.token })).json.credential.type, 'ec2');

  assert.equal((await cloud.request('GET', base, { token: bob.token })).status, 403);
  assert.equal(
    (await cloud.request('GET', `/identity/v3/users/${bob.id}/credentials/OS-EC2/${c.access}`, { token: bob.token }))
      .status,
    404,
  );
  assert.equal((await cloud.request('POST', base, { token: alice.token, body: {} })).status, 400);
  assert.equal(
    (await cloud.request('POST', base, { token: alice.token, body: { tenant_id: 'f'.repeat(32) } })).status,
    404,
  );
  assert.equal((await cloud.request('DELETE', `${base}/${c.access}`, { token: alice.token })).status, 204);
  assert.equal((await cloud.request('GET', `${base}/${c.access}`, { token: alice.token })).status, 404);
});

test('legacy policies: admin-only CRUD of blobs', async () => {
  const P = '/identity/v3/policies';
  const r = await cloud.request('POST', P, {
    token: cloud.adminToken,
    body: { policy: { blob: '{"a": "b"}', type: 'application/json' } },
  });
  assert.equal(r.status, 201, r.text);
  const p = r.json.policy;
  assert.equal(p.blob, '{"a": "b"}');
  assert.match(p.links.self, new RegExp(`/v3/policies/${p.id}$`));
  const u = await cloud.request('PATCH', `${P}/${p.id}`, {
    token: cloud.adminToken,
    body: { policy: { type: 'text/plain' } },
  });
  assert.equal(u.json.policy.type, 'text/plain');
  assert.equal(u.json.policy.blob, p.blob);
  assert.ok(
    (await cloud.request('GET', `${P}?type=text/plain`, { token: cloud.adminToken })).json.policies.some(
      (x: { id: string }) => x.id === p.id,
    ),
  );
  assert.equal((await cloud.request('GET', P, { token: alice.token })).status, 403);
  assert.equal(
    (await cloud.request('POST', P, { token: cloud.adminToken, body: { policy: { type: 'x' } } })).status,
    400,
  );
  assert.equal((await cloud.request('DELETE', `${P}/${p.id}`, { token: cloud.adminToken })).status, 204);
  assert.equal((await cloud.request('GET', `${P}/${p.id}`, { token: cloud.adminToken })).status, 404);
});
