import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser, createRole, grant, auth, uniq, type TestUser } from './fixtures.js';

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

const url = (u: TestUser, rest = '') => `/identity/v3/users/${u.id}/application_credentials${rest}`;
const create = (u: TestUser, body: Record<string, unknown>, token = u.token) =>
  cloud.request('POST', url(u), { token, body: { application_credential: body } });
const appCredAuth = (id: string, secret: string) =>
  auth(cloud, { auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } } });

test('an application credential logs in as its user on its project with the delegated roles', async () => {
  const r = await create(alice, { name: uniq('ac'), description: 'ci' });
  assert.equal(r.status, 201, r.text);
  const ac = r.json.application_credential;
  assert.equal(ac.user_id, alice.id);
  assert.equal(ac.project_id, project.id);
  assert.equal(ac.unrestricted, false);
  assert.equal(ac.expires_at, null);
  assert.deepEqual(ac.roles.map((x: { name: string }) => x.name).sort(), ['member', 'reader']);
  assert.ok(typeof ac.secret === 'string' && ac.secret.length >= 32);
  assert.match(ac.links.self, new RegExp(`/v3/users/${alice.id}/application_credentials/${ac.id}$`));

  const shown = await cloud.request('GET', url(alice, `/${ac.id}`), { token: alice.token });
  assert.equal(shown.status, 200);
  assert.equal(shown.json.application_credential.secret, undefined, 'the secret is shown once');

  const t = await appCredAuth(ac.id, ac.secret);
  assert.equal(t.status, 201, t.text);
  assert.equal(t.body.user.id, alice.id);
  assert.equal(t.body.project.id, project.id);
  assert.deepEqual(t.body.methods, ['application_credential']);
  assert.deepEqual(t.body.roles.map((x: { name: string }) => x.name).sort(), ['member', 'reader']);
  assert.equal(t.body.application_credential.id, ac.id);
  assert.equal(t.body.application_credential.restricted, true);

  const byName = await auth(cloud, {
    auth: {
      identity: {
        methods: ['application_credential'],
        application_credential: { name: ac.name, secret: ac.secret, user: { id: alice.id } },
      },
    },
  });
  assert.equal(byName.status, 201, byName.text);
});

test('a wrong secret is 401 and the stored secret is only a hash', async () => {
  const r = await create(alice, { name: uniq('ac'), secret: 'my-own-secret-1234' });
  assert.equal(r.status, 201);
  assert.equal(r.json.application_credential.secret, 'my-own-secret-1234');
  assert.equal((await appCredAuth(r.json.application_credential.id, 'nope')).status, 401);
  const row = await cloud.controller.store.db
    .selectFrom('application_credentials')
    .selectAll()
    .where('id', '=', r.json.application_credential.id)
    .executeTakeFirstOrThrow();
  assert.notEqual(row.secret_hash, 'my-own-secret-1234');
  assert.equal((await appCredAuth(r.json.application_credential.id, 'my-own-secret-1234')).status, 201);
});

test('roles can be narrowed by name or id; unknown roles are 404 and roles not held are 400', async () => {
  const r = await create(alice, { name: uniq('ac'), roles: [{ name: 'reader' }] });
  assert.equal(r.status, 201, r.text);
  const t = await appCredAuth(r.json.application_credential.id, r.json.application_credential.secret);
  assert.deepEqual(
    t.body.roles.map((x: { name: string }) => x.name),
    ['reader'],
  );

  assert.equal((await create(alice, { name: uniq('ac'), roles: [{ name: 'no-such-role' }] })).status, 404);
  assert.equal((await create(alice, { name: uniq('ac'), roles: [{ id: 'f'.repeat(32) }] })).status, 404);
  const notHeld = await create(alice, { name: uniq('ac'), roles: [{ name: 'admin' }] });
  assert.equal(notHeld.status, 400, notHeld.text);
  assert.equal(notHeld.json.error.code, 400);

  const extra = await createRole(cloud);
  await grant(cloud, project.id, alice.id, extra.id);
  const tok = await cloud.login(alice.name, alice.password, project.name);
  const withId = await create(alice, { name: uniq('ac'), roles: [{ id: extra.id }] }, tok);
  assert.equal(withId.status, 201, withId.text);
  assert.deepEqual(
    withId.json.application_credential.roles.map((x: { id: string }) => x.id),
    [extra.id],
  );
});

test('expiry: echoed with microseconds, past is 400, an expired credential cannot log in', async () => {
  const r = await create(alice, { name: uniq('ac'), expires_at: '2099-01-02T03:04:05.123456' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.application_credential.expires_at, '2099-01-02T03:04:05.123456');
  assert.equal((await create(alice, { name: uniq('ac'), expires_at: '2001-01-01T00:00:00Z' })).status, 400);
  assert.equal((await create(alice, { name: uniq('ac'), expires_at: 'tomorrow' })).status, 400);
  const ac = r.json.application_credential;
  const ok = await appCredAuth(ac.id, ac.secret);
  assert.equal(ok.status, 201);
  assert.ok(ok.body.expires_at <= '2099-01-02T03:04:05.123456Z');
  await cloud.controller.store.db
    .updateTable('application_credentials')
    .set({ expires_at: '2001-01-01T00:00:00.000000Z' })
    .where('id', '=', ac.id)
    .execute();
  assert.equal((await appCredAuth(ac.id, ac.secret)).status, 401);
  const held = await cloud.request('GET', '/identity/v3/auth/tokens', {
    token: alice.token,
    headers: { 'x-subject-token': ok.token },
  });
  assert.equal(held.status, 404, 'tokens of an expired credential stop validating');
});

test('duplicate names are 409, bad bodies are 400, another user is 403', async () => {
  const name = uniq('ac');
  assert.equal((await create(alice, { name })).status, 201);
  const dup = await create(alice, { name });
  assert.equal(dup.status, 409);
  assert.equal(dup.json.error.code, 409);
  assert.equal((await create(bob, { name })).status, 201, 'names are per user');
  assert.equal((await create(alice, { name: uniq('ac'), bogus: 1 })).status, 400);
  assert.equal((await create(alice, {})).status, 400);
  assert.equal((await create(alice, { name: uniq('ac'), unrestricted: 'yes' })).status, 400);
  assert.equal((await cloud.request('POST', url(alice), { token: alice.token, body: { nope: {} } })).status, 400);

  assert.equal((await create(alice, { name: uniq('ac') }, bob.token)).status, 403);
  assert.equal((await cloud.request('GET', url(alice), { token: bob.token })).status, 403);
  const mine = await cloud.request('GET', url(alice), { token: alice.token });
  assert.equal(mine.status, 200);
  const id = mine.json.application_credential?.id ?? mine.json.application_credentials[0].id;
  assert.equal((await cloud.request('GET', url(alice, `/${id}`), { token: bob.token })).status, 403);
  assert.equal((await cloud.request('DELETE', url(alice, `/${id}`), { token: bob.token })).status, 403);
  assert.equal(
    (await cloud.request('GET', url(bob, `/${id}`), { token: bob.token })).status,
    404,
    "not found under someone else's path",
  );
  // The cloud admin may read but not create for others.
  assert.equal((await cloud.request('GET', url(alice), { token: cloud.adminToken })).status, 200);
  assert.equal((await create(alice, { name: uniq('ac') }, cloud.adminToken)).status, 403);
});

test('list filters by name', async () => {
  const name = uniq('ac-filter');
  assert.equal((await create(alice, { name })).status, 201);
  const r = await cloud.request('GET', url(alice, `?name=${name}`), { token: alice.token });
  assert.equal(r.status, 200);
  assert.equal(r.json.application_credentials.length, 1);
  assert.equal(r.json.application_credentials[0].name, name);
  assert.equal(r.json.application_credentials[0].secret, undefined);
});

test('a restricted credential cannot make credentials or trusts; an unrestricted one can', async () => {
  const restricted = (await create(alice, { name: uniq('ac') })).json.application_credential;
  const rt = await appCredAuth(restricted.id, restricted.secret);
  const denied = await create(alice, { name: uniq('ac') }, rt.token);
  assert.equal(denied.status, 403, denied.text);
  const trust = await cloud.request('POST', '/identity/v3/OS-TRUST/trusts', {
    token: rt.token,
    body: {
      trust: {
        trustor_user_id: alice.id,
        trustee_user_id: bob.id,
        project_id: project.id,
        impersonation: false,
        roles: [{ name: 'member' }],
      },
    },
  });
  assert.equal(trust.status, 403, trust.text);

  const unrestricted = (await create(alice, { name: uniq('ac'), unrestricted: true })).json.application_credential;
  assert.equal(unrestricted.unrestricted, true);
  const ut = await appCredAuth(unrestricted.id, unrestricted.secret);
  assert.equal((await create(alice, { name: uniq('ac') }, ut.token)).status, 201);
});

test('an unscoped token cannot create one', async () => {
  const u = await auth(cloud, {
    auth: {
      identity: { methods: ['password'], password: { user: { id: alice.id, password: alice.password } } },
      scope: 'unscoped',
    },
  });
  assert.equal(u.status, 201);
  const r = await create(alice, { name: uniq('ac') }, u.token);
  assert.equal(r.status, 400, r.text);
});

test('deleting a credential revokes its tokens and stops its logins', async () => {
  const ac = (await create(alice, { name: uniq('ac') })).json.application_credential;
  const t = await appCredAuth(ac.id, ac.secret);
  assert.equal((await cloud.request('GET', `/identity/v3/projects/${project.id}`, { token: t.token })).status, 200);
  assert.equal((await cloud.request('DELETE', url(alice, `/${ac.id}`), { token: alice.token })).status, 204);
  assert.equal((await cloud.request('GET', `/identity/v3/projects/${project.id}`, { token: t.token })).status, 401);
  assert.equal((await appCredAuth(ac.id, ac.secret)).status, 401);
  assert.equal((await cloud.request('GET', url(alice, `/${ac.id}`), { token: alice.token })).status, 404);
  assert.equal((await cloud.request('DELETE', url(alice, `/${ac.id}`), { token: alice.token })).status, 404);
});

test('losing the role on the project invalidates the credential', async () => {
  const carol = await createUser(cloud, project.id, project.name, ['member']);
  const ac = (await create(carol, { name: uniq('ac') })).json.application_credential;
  const member = ac.roles.find((x: { name: string }) => x.name === 'member').id;
  assert.equal(
    (
      await cloud.request('DELETE', `/identity/v3/projects/${project.id}/users/${carol.id}/roles/${member}`, {
        token: cloud.adminToken,
      })
    ).status,
    204,
  );
  assert.equal((await appCredAuth(ac.id, ac.secret)).status, 401);
});

test('access rules are stored, shared between credentials, listed and protected while in use', async () => {
  const dave = await createUser(cloud, project.id, project.name, ['member']);
  const rule = { path: '/v2.1/servers/*/ips', method: 'GET', service: 'compute' };
  const a = await create(dave, { name: uniq('ac'), access_rules: [rule] });
  assert.equal(a.status, 201, a.text);
  const got = a.json.application_credential.access_rules[0];
  const ruleId = got.id;
  delete got.id;
  assert.deepEqual(got, rule);
  const b = await create(dave, { name: uniq('ac'), access_rules: [rule, { id: ruleId }] });
  assert.equal(b.status, 201, b.text);
  assert.deepEqual(
    b.json.application_credential.access_rules.map((x: { id: string }) => x.id),
    [ruleId],
    'an identical rule is reused',
  );

  const rules = `/identity/v3/users/${dave.id}/access_rules`;
  const list = await cloud.request('GET', rules, { token: dave.token });
  assert.equal(list.status, 200);
  assert.equal(list.json.access_rules.length, 1);
  assert.match(list.json.access_rules[0].links.self, new RegExp(`/users/${dave.id}/access_rules/${ruleId}$`));
  assert.equal(
    (await cloud.request('GET', `${rules}/${ruleId}`, { token: dave.token })).json.access_rule.path,
    rule.path,
  );
  assert.equal((await cloud.request('GET', `${rules}?method=POST`, { token: dave.token })).json.access_rules.length, 0);
  assert.equal((await cloud.request('GET', rules, { token: alice.token })).status, 403);

  assert.equal((await cloud.request('DELETE', `${rules}/${ruleId}`, { token: dave.token })).status, 403);
  await cloud.request('DELETE', url(dave, `/${a.json.application_credential.id}`), { token: dave.token });
  assert.equal(
    (await cloud.request('DELETE', `${rules}/${ruleId}`, { token: dave.token })).status,
    403,
    'still used by the second',
  );
  await cloud.request('DELETE', url(dave, `/${b.json.application_credential.id}`), { token: dave.token });
  assert.equal(
    (await cloud.request('GET', rules, { token: dave.token })).json.access_rules.length,
    1,
    'rules outlive credentials',
  );
  assert.equal((await cloud.request('DELETE', `${rules}/${ruleId}`, { token: dave.token })).status, 204);
  assert.equal((await cloud.request('GET', rules, { token: dave.token })).json.access_rules.length, 0);
  assert.equal((await cloud.request('GET', `${rules}/${ruleId}`, { token: dave.token })).status, 404);

  assert.equal((await create(dave, { name: uniq('ac'), access_rules: [{ ...rule, method: 'FETCH' }] })).status, 400);
  assert.equal(
    (await create(dave, { name: uniq('ac'), access_rules: [{ path: 'x', method: 'GET', service: 'compute' }] })).status,
    400,
  );
  assert.equal((await create(dave, { name: uniq('ac'), access_rules: [{ id: 'f'.repeat(32) }] })).status, 404);
  assert.equal(
    (await cloud.request('GET', url(dave), { token: dave.token })).json.application_credentials.length,
    0,
    'no half-made credential',
  );
});
