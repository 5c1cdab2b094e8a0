import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser, createRole, grant, auth, type TestUser } from './fixtures.js';

let cloud: TestCloud;
let project: { id: string; name: string };
let alice: TestUser; // trustor
let bob: TestUser; // trustee
let eve: TestUser; // a third party
let delegated: { id: string; name: string };
let kept: { id: string; name: string };
before(async () => {
  cloud = await createTestCloud();
  project = await createProject(cloud);
  delegated = await createRole(cloud);
  kept = await createRole(cloud);
  alice = await createUser(cloud, project.id, project.name, ['member']);
  await grant(cloud, project.id, alice.id, delegated.id);
  await grant(cloud, project.id, alice.id, kept.id);
  alice.token = await cloud.login(alice.name, alice.password, project.name);
  const other = await createProject(cloud);
  bob = await createUser(cloud, other.id, other.name, ['member']);
  eve = await createUser(cloud, other.id, other.name, ['member']);
});
after(async () => {
  await cloud.close();
});

const TRUSTS = '/identity/v3/OS-TRUST/trusts';
const createTrust = (body: Record<string, unknown>, token = alice.token) =>
  cloud.request('POST', TRUSTS, {
    token,
    body: {
      trust: {
        trustor_user_id: alice.id,
        trustee_user_id: bob.id,
        project_id: project.id,
        impersonation: true,
        roles: [{ name: delegated.name }],
        ...body,
      },
    },
  });
const trustAuth = (who: TestUser, trustId: string) =>
  auth(cloud, {
    auth: {
      identity: { methods: ['password'], password: { user: { id: who.id, password: who.password } } },
      scope: { 'OS-TRUST:trust': { id: trustId } },
    },
  });

test('create, show and use an impersonating trust', async () => {
  const r = await createTrust({});
  assert.equal(r.status, 201, r.text);
  const t = r.json.trust;
  assert.equal(t.trustor_user_id, alice.id);
  assert.equal(t.trustee_user_id, bob.id);
  assert.equal(t.project_id, project.id);
  assert.equal(t.impersonation, true);
  assert.equal(t.expires_at, null);
  assert.equal(t.remaining_uses, null);
  assert.equal(t.redelegation_count, 0);
  assert.match(t.links.self, new RegExp(`/v3/OS-TRUST/trusts/${t.id}$`));
  assert.deepEqual(
    t.roles.map((x: { name: string }) => x.name),
    [delegated.name],
  );
  assert.match(t.roles[0].links.self, new RegExp(`/v3/roles/${delegated.id}$`));
  assert.match(t.roles_links.self, new RegExp(`/OS-TRUST/trusts/${t.id}/roles$`));

  const shown = await cloud.request('GET', `${TRUSTS}/${t.id}`, { token: alice.token });
  assert.equal(shown.status, 200);
  assert.deepEqual(
    shown.json.trust.roles.map((x: { id: string }) => x.id),
    [delegated.id],
  );
  assert.equal(
    (await cloud.request('GET', `${TRUSTS}/${t.id}`, { token: bob.token })).status,
    200,
    'the trustee may look',
  );
  assert.equal((await cloud.request('GET', `${TRUSTS}/${t.id}`, { token: eve.token })).status, 403);

  const tok = await trustAuth(bob, t.id);
  assert.equal(tok.status, 201, tok.text);
  assert.equal(tok.body.user.id, alice.id, 'impersonation: the token speaks for the trustor');
  assert.equal(tok.body.project.id, project.id);
  assert.deepEqual(
    tok.body.roles.map((x: { name: string }) => x.name),
    [delegated.name],
  );
  assert.equal(tok.body['OS-TRUST:trust'].id, t.id);
  assert.equal(tok.body['OS-TRUST:trust'].trustee_user.id, bob.id);
  assert.equal((await trustAuth(eve, t.id)).status, 403, 'only the trustee can use it');
});

test("without impersonation the token is the trustee with the trustor's delegated roles", async () => {
  const r = await createTrust({ impersonation: false, roles: [{ id: delegated.id }, { name: 'member' }] });
  assert.equal(r.status, 201, r.text);
  const tok = await trustAuth(bob, r.json.trust.id);
  assert.equal(tok.status, 201, tok.text);
  assert.equal(tok.body.user.id, bob.id);
  const names = tok.body.roles.map((x: { name: string }) => x.name).sort();
  assert.ok(names.includes(delegated.name) && names.includes('member') && !names.includes(kept.name), names.join(','));
});

test('trust roles: list, show, HEAD, and 404 for a role not delegated', async () => {
  const t = (await createTrust({})).json.trust;
  const list = await cloud.request('GET', `${TRUSTS}/${t.id}/roles`, { token: alice.token });
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.json.roles.map((x: { id: string }) => x.id),
    [delegated.id],
  );
  const one = await cloud.request('GET', `${TRUSTS}/${t.id}/roles/${delegated.id}`, { token: alice.token });
  assert.equal(one.status, 200);
  assert.equal(one.json.role.name, delegated.name);
  assert.equal(
    (await cloud.request('HEAD', `${TRUSTS}/${t.id}/roles/${delegated.id}`, { token: alice.token })).status,
    200,
  );
  assert.equal((await cloud.request('GET', `${TRUSTS}/${t.id}/roles/${kept.id}`, { token: alice.token })).status, 404);
  assert.equal((await cloud.request('HEAD', `${TRUSTS}/${t.id}/roles/${kept.id}`, { token: alice.token })).status, 404);
  assert.equal((await cloud.request('GET', `${TRUSTS}/${t.id}/roles`, { token: eve.token })).status, 403);
});

test('bad trusts are refused with the right status and nothing is stored', async () => {
  const before = (await cloud.request('GET', `${TRUSTS}?trustor_user_id=${alice.id}`, { token: alice.token })).json
    .trusts.length;
  const cases: [Record<string, unknown>, number][] = [
    [{ trustor_user_id: bob.id }, 403],
    [{ trustee_user_id: 'f'.repeat(32) }, 404],
    [{ roles: [{ id: 'f'.repeat(32) }] }, 404],
    [{ roles: [{ name: 'no-such-role' }] }, 404],
    [{ roles: [{ name: 'admin' }] }, 404],
    [{ roles: [] }, 403],
    [{ project_id: 'f'.repeat(32) }, 404],
    [{ expires_at: '2001-01-01T00:00:00Z' }, 400],
    [{ expires_at: 'bad.123Z' }, 400],
    [{ impersonation: 'yes' }, 400],
    [{ impersonation: undefined }, 400],
    [{ remaining_uses: 0 }, 400],
    [{ allow_redelegation: true, redelegation_count: 9 }, 403],
    [{ allow_redelegation: true, remaining_uses: 2 }, 400],
  ];
  for (const [body, status] of cases) {
    const r = await createTrust(body);
    assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.error.code, status);
  }
  assert.equal((await cloud.request('POST', TRUSTS, { token: alice.token, body: { nope: 1 } })).status, 400);
  const after = (await cloud.request('GET', `${TRUSTS}?trustor_user_id=${alice.id}`, { token: alice.token })).json
    .trusts.length;
  assert.equal(after, before);
});

test('expiry is echoed with microseconds and bounds the token', async () => {
  const r = await createTrust({ expires_at: '2099-05-06T07:08:09Z' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.trust.expires_at, '2099-05-06T07:08:09.000000Z');
  assert.equal(
    (await cloud.request('GET', `${TRUSTS}/${r.json.trust.id}`, { token: alice.token })).json.trust.expires_at,
    '2099-05-06T07:08:09.000000Z',
  );
  await cloud.controller.store.db
    .updateTable('trusts')
    .set({ expires_at: '2001-01-01T00:00:00.000000Z' })
    .where('id', '=', r.json.trust.id)
    .execute();
  assert.equal((await trustAuth(bob, r.json.trust.id)).status, 401);
  assert.equal((await cloud.request('GET', `${TRUSTS}/${r.json.trust.id}`, { token: alice.token })).status, 404);
});

test('listing: by trustor or trustee for oneself, everything only for admins', async () => {
  const t = (await createTrust({})).json.trust;
  const mine = await cloud.request('GET', `${TRUSTS}?trustor_user_id=${alice.id}`, { token: alice.token });
  assert.equal(mine.status, 200);
  assert.ok(mine.json.trusts.some((x: { id: string }) => x.id === t.id));
  assert.equal(mine.json.trusts[0].roles, undefined, 'lists carry no roles');
  const asTrustee = await cloud.request('GET', `${TRUSTS}/?trustee_user_id=${bob.id}`, { token: bob.token });
  assert.equal(asTrustee.status, 200);
  assert.ok(asTrustee.json.trusts.every((x: { trustee_user_id: string }) => x.trustee_user_id === bob.id));
  assert.equal((await cloud.request('GET', `${TRUSTS}?trustor_user_id=${alice.id}`, { token: eve.token })).status, 403);
  assert.equal((await cloud.request('GET', TRUSTS, { token: alice.token })).status, 403);
  const all = await cloud.request('GET', TRUSTS, { token: cloud.adminToken });
  assert.equal(all.status, 200);
  assert.ok(all.json.trusts.some((x: { id: string }) => x.id === t.id));
});

test('remaining_uses runs out', async () => {
  const t = (await createTrust({ remaining_uses: 1 })).json.trust;
  assert.equal(t.remaining_uses, 1);
  assert.equal((await trustAuth(bob, t.id)).status, 201);
  assert.equal((await trustAuth(bob, t.id)).status, 401);
});

test('deleting a trust: only the trustor or an admin; its tokens die', async () => {
  const t = (await createTrust({})).json.trust;
  const tok = await trustAuth(bob, t.id);
  assert.equal((await cloud.request('GET', `/identity/v3/projects/${project.id}`, { token: tok.token })).status, 200);
  assert.equal((await cloud.request('DELETE', `${TRUSTS}/${t.id}`, { token: bob.token })).status, 403);
  assert.equal((await cloud.request('DELETE', `${TRUSTS}/${t.id}`, { token: alice.token })).status, 204);
  assert.equal((await cloud.request('GET', `/identity/v3/projects/${project.id}`, { token: tok.token })).status, 401);
  assert.equal((await cloud.request('GET', `${TRUSTS}/${t.id}`, { token: alice.token })).status, 404);
  assert.equal((await trustAuth(bob, t.id)).status, 401);
  assert.equal((await cloud.request('DELETE', `${TRUSTS}/${t.id}`, { token: alice.token })).status, 404);
  const t2 = (await createTrust({})).json.trust;
  assert.equal((await cloud.request('DELETE', `${TRUSTS}/${t2.id}`, { token: cloud.adminToken })).status, 204);
});

test('a trust follows the trustor: losing the role empties it', async () => {
  const t = (await createTrust({ roles: [{ id: kept.id }] })).json.trust;
  const tok = await trustAuth(bob, t.id);
  assert.equal(tok.status, 201);
  assert.equal(
    (
      await cloud.request('DELETE', `/identity/v3/projects/${project.id}/users/${alice.id}/roles/${kept.id}`, {
        token: cloud.adminToken,
      })
    ).status,
    204,
  );
  assert.equal((await trustAuth(bob, t.id)).status, 401);
  await grant(cloud, project.id, alice.id, kept.id);
  alice.token = await cloud.login(alice.name, alice.password, project.name);
});

test('redelegation: the trustee passes a narrower trust on; depth and deletes cascade', async () => {
  const parent = (
    await createTrust({
      impersonation: false,
      allow_redelegation: true,
      roles: [{ id: delegated.id }, { name: 'member' }],
    })
  ).json.trust;
  assert.equal(parent.redelegation_count, 3);
  assert.equal(parent.allow_redelegation, true);
  const bobTrust = await trustAuth(bob, parent.id);
  assert.equal(bobTrust.status, 201, bobTrust.text);
  const child = await cloud.request('POST', TRUSTS, {
    token: bobTrust.token,
    body: {
      trust: {
        trustor_user_id: bob.id,
        trustee_user_id: eve.id,
        project_id: project.id,
        impersonation: false,
        allow_redelegation: true,
        roles: [{ id: delegated.id }],
      },
    },
  });
  assert.equal(child.status, 201, child.text);
  assert.equal(child.json.trust.redelegated_trust_id, parent.id);
  assert.equal(child.json.trust.redelegation_count, 2);
  const eveTok = await trustAuth(eve, child.json.trust.id);
  assert.equal(eveTok.status, 201, eveTok.text);
  assert.deepEqual(
    eveTok.body.roles.map((x: { id: string }) => x.id),
    [delegated.id],
  );

  const wider = await cloud.request('POST', TRUSTS, {
    token: bobTrust.token,
    body: {
      trust: {
        trustor_user_id: bob.id,
        trustee_user_id: eve.id,
        project_id: project.id,
        impersonation: false,
        roles: [{ id: kept.id }],
      },
    },
  });
  assert.equal(wider.status, 403, 'roles outside the parent trust');
  const notInParent = await cloud.request('POST', TRUSTS, {
    token: bobTrust.token,
    body: {
      trust: {
        trustor_user_id: bob.id,
        trustee_user_id: eve.id,
        project_id: project.id,
        impersonation: true,
        roles: [{ id: delegated.id }],
      },
    },
  });
  assert.equal(notInParent.status, 403, 'impersonation cannot be added');

  const plain = (await createTrust({ impersonation: false })).json.trust;
  const plainTok = await trustAuth(bob, plain.id);
  const refused = await cloud.request('POST', TRUSTS, {
    token: plainTok.token,
    body: {
      trust: {
        trustor_user_id: bob.id,
        trustee_user_id: eve.id,
        project_id: project.id,
        impersonation: false,
        roles: [{ id: delegated.id }],
      },
    },
  });
  assert.equal(refused.status, 403, 'no redelegation allowed');

  assert.equal((await cloud.request('DELETE', `${TRUSTS}/${parent.id}`, { token: alice.token })).status, 204);
  assert.equal((await cloud.request('GET', `${TRUSTS}/${child.json.trust.id}`, { token: bob.token })).status, 404);
  assert.equal(
    (await cloud.request('GET', `/identity/v3/projects/${project.id}`, { token: eveTok.token })).status,
    401,
  );
});
