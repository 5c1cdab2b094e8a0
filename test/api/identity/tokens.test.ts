import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

test('password auth returns a project-scoped token with roles and catalog', async () => {
  const res = await cloud.request('POST', '/identity/v3/auth/tokens', {
    body: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: cloud.adminPassword } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    },
  });
  assert.equal(res.status, 201);
  assert.ok(res.headers['x-subject-token']);
  assert.ok(res.headers['x-openstack-request-id']);
  const t = res.json.token;
  assert.deepEqual(t.methods, ['password']);
  assert.equal(t.project.name, 'admin');
  assert.deepEqual(t.roles.map((r: { name: string }) => r.name).sort(), ['admin', 'member', 'reader']);
  assert.ok(t.catalog.some((s: { type: string }) => s.type === 'identity'));
});

test('a wrong password is 401 in Keystone format', async () => {
  const res = await cloud.request('POST', '/identity/v3/auth/tokens', {
    body: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: 'nope' } },
        },
      },
    },
  });
  assert.equal(res.status, 401);
  assert.equal(res.json.error.code, 401);
  assert.equal(res.json.error.title, 'Unauthorized');
});

test('token validation, re-scope and revocation', async () => {
  const unscoped = await cloud.request('POST', '/identity/v3/auth/tokens', {
    body: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: cloud.adminPassword } },
        },
        scope: 'unscoped',
      },
    },
  });
  assert.equal(unscoped.status, 201);
  assert.equal(unscoped.json.token.roles, undefined);
  const t0 = String(unscoped.headers['x-subject-token']);
  const rescoped = await cloud.request('POST', '/identity/v3/auth/tokens', {
    body: {
      auth: {
        identity: { methods: ['token'], token: { id: t0 } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    },
  });
  assert.equal(rescoped.status, 201);
  assert.equal(
    rescoped.json.token.expires_at,
    unscoped.json.token.expires_at,
    'a re-scoped token never outlives its parent',
  );
  assert.equal(rescoped.json.token.audit_ids[1], unscoped.json.token.audit_ids[0]);
  const t1 = String(rescoped.headers['x-subject-token']);
  const ok = await cloud.request('GET', '/identity/v3/auth/tokens', {
    token: cloud.adminToken,
    headers: { 'x-subject-token': t1 },
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.token.project.name, 'admin');
  const del = await cloud.request('DELETE', '/identity/v3/auth/tokens', {
    token: cloud.adminToken,
    headers: { 'x-subject-token': t1 },
  });
  assert.equal(del.status, 204);
  const gone = await cloud.request('GET', '/identity/v3/auth/tokens', {
    token: cloud.adminToken,
    headers: { 'x-subject-token': t1 },
  });
  assert.equal(gone.status, 404);
  const asCaller = await cloud.request('GET', '/identity/v3/projects', { token: t1 });
  assert.equal(asCaller.status, 401);
});

test('a member cannot call admin APIs, and deleting the user kills its token at once', async () => {
  const admin = cloud.adminToken;
  const p = await cloud.request('POST', '/identity/v3/projects', {
    token: admin,
    body: { project: { name: 'p-member' } },
  });
  assert.equal(p.status, 201);
  const u = await cloud.request('POST', '/identity/v3/users', {
    token: admin,
    body: { user: { name: 'u-member', password: 'pw-123456' } },
  });
  assert.equal(u.status, 201);
  const roles = await cloud.request('GET', '/identity/v3/roles?name=member', { token: admin });
  const memberId = roles.json.roles[0].id;
  const grant = await cloud.request(
    'PUT',
    `/identity/v3/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${memberId}`,
    { token: admin },
  );
  assert.equal(grant.status, 204);
  const tok = await cloud.login('u-member', 'pw-123456', 'p-member');
  assert.equal((await cloud.request('GET', `/identity/v3/projects/${p.json.project.id}`, { token: tok })).status, 200);
  const denied = await cloud.request('GET', '/identity/v3/users', { token: tok });
  assert.equal(denied.status, 403);
  assert.equal(denied.json.error.code, 403);
  assert.equal((await cloud.request('DELETE', `/identity/v3/users/${u.json.user.id}`, { token: admin })).status, 204);
  assert.equal((await cloud.request('GET', `/identity/v3/projects/${p.json.project.id}`, { token: tok })).status, 401);
});
