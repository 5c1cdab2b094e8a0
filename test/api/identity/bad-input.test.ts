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

/** Asserts a Keystone-format error with the given status. */
function isKeystoneError(res: { status: number; json: any }, status: number) {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.equal(res.json.error.code, status);
  assert.equal(typeof res.json.error.title, 'string');
  assert.equal(typeof res.json.error.message, 'string');
}

async function countProjects(): Promise<number> {
  return (await cloud.request('GET', '/identity/v3/projects', { token: cloud.adminToken })).json.projects.length;
}

test('malformed JSON is a 400 and the server keeps serving', async () => {
  const res = await cloud.request('POST', '/identity/v3/projects', {
    token: cloud.adminToken,
    payload: '{"project": {"name": ',
    headers: { 'content-type': 'application/json' },
  });
  isKeystoneError(res, 400);
  assert.equal((await cloud.request('GET', '/identity/v3', {})).status, 200);
});

test('wrong types are 400 and write nothing', async () => {
  const before = await countProjects();
  isKeystoneError(
    await cloud.request('POST', '/identity/v3/projects', { token: cloud.adminToken, body: { project: 'p' } }),
    400,
  );
  isKeystoneError(
    await cloud.request('POST', '/identity/v3/projects', { token: cloud.adminToken, body: { project: { name: 42 } } }),
    400,
  );
  isKeystoneError(
    await cloud.request('POST', '/identity/v3/projects', {
      token: cloud.adminToken,
      body: { project: { name: 'x', enabled: 'yes' } },
    }),
    400,
  );
  isKeystoneError(
    await cloud.request('POST', '/identity/v3/projects', {
      token: cloud.adminToken,
      body: { project: { name: 'x', tags: ['a/b'] } },
    }),
    400,
  );
  isKeystoneError(await cloud.request('POST', '/identity/v3/projects', { token: cloud.adminToken, body: {} }), 400);
  assert.equal(await countProjects(), before);
});

test('unknown auth methods are 401, a missing identity is 400', async () => {
  isKeystoneError(
    await cloud.request('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['kerberos'], kerberos: {} } } },
    }),
    401,
  );
  isKeystoneError(await cloud.request('POST', '/identity/v3/auth/tokens', { body: { auth: {} } }), 400);
  isKeystoneError(
    await cloud.request('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: 'password' } } } }),
    400,
  );
});

test('scoping to a disabled project is 401, and disabling a project revokes its tokens', async () => {
  const admin = cloud.adminToken;
  const p = (
    await cloud.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name: 'to-disable' } } })
  ).json.project;
  const adminUser = (await cloud.request('GET', '/identity/v3/users?name=admin', { token: admin })).json.users[0];
  const role = (await cloud.request('GET', '/identity/v3/roles?name=member', { token: admin })).json.roles[0];
  await cloud.request('PUT', `/identity/v3/projects/${p.id}/users/${adminUser.id}/roles/${role.id}`, { token: admin });
  const scoped = await cloud.login('admin', cloud.adminPassword, 'to-disable');
  assert.equal(
    (
      await cloud.request('PATCH', `/identity/v3/projects/${p.id}`, {
        token: admin,
        body: { project: { enabled: false } },
      })
    ).status,
    200,
  );
  isKeystoneError(await cloud.request('GET', '/identity/v3/auth/projects', { token: scoped }), 401);
  isKeystoneError(
    await cloud.request('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: cloud.adminPassword } },
          },
          scope: { project: { id: p.id } },
        },
      },
    }),
    401,
  );
});

test('a 10 MB body is refused with 413 and nothing is written', async () => {
  const before = await countProjects();
  const big = JSON.stringify({ project: { name: 'big', description: 'x'.repeat(10 * 1024 * 1024) } });
  const res = await cloud.request('POST', '/identity/v3/projects', {
    token: cloud.adminToken,
    payload: big,
    headers: { 'content-type': 'application/json' },
  });
  isKeystoneError(res, 413);
  assert.equal(await countProjects(), before);
});

test('unicode names work; names over 255 characters are 400', async () => {
  const name = '구름 ☁ プロジェクト';
  const ok = await cloud.request('POST', '/identity/v3/projects', {
    token: cloud.adminToken,
    body: { project: { name } },
  });
  assert.equal(ok.status, 201);
  assert.equal(ok.json.project.name, name);
  const shown = await cloud.request('GET', `/identity/v3/projects?name=${encodeURIComponent(name)}`, {
    token: cloud.adminToken,
  });
  assert.equal(shown.json.projects.length, 1);
  isKeystoneError(
    await cloud.request('POST', '/identity/v3/projects', {
      token: cloud.adminToken,
      body: { project: { name: 'n'.repeat(256) } },
    }),
    400,
  );
  isKeystoneError(
    await cloud.request('POST', '/identity/v3/users', {
      token: cloud.adminToken,
      body: { user: { name: 'u'.repeat(300) } },
    }),
    400,
  );
});

test('SQL-looking strings are stored and matched literally', async () => {
  const evil = "x'; DROP TABLE projects; --";
  const res = await cloud.request('POST', '/identity/v3/projects', {
    token: cloud.adminToken,
    body: { project: { name: evil } },
  });
  assert.equal(res.status, 201);
  const found = await cloud.request('GET', `/identity/v3/projects?name=${encodeURIComponent(evil)}`, {
    token: cloud.adminToken,
  });
  assert.equal(found.json.projects[0].name, evil);
  const none = await cloud.request('GET', `/identity/v3/projects?name=${encodeURIComponent("' OR '1'='1")}`, {
    token: cloud.adminToken,
  });
  assert.equal(none.json.projects.length, 0);
});

test('no token is 401 with WWW-Authenticate; a garbage token is 401', async () => {
  const res = await cloud.request('GET', '/identity/v3/projects');
  isKeystoneError(res, 401);
  assert.match(String(res.headers['www-authenticate']), /Keystone uri=/);
  isKeystoneError(await cloud.request('GET', '/identity/v3/projects', { token: 'garbage' }), 401);
});

test('unknown routes are 404 in Keystone format', async () => {
  isKeystoneError(await cloud.request('GET', '/identity/v3/no-such-thing', { token: cloud.adminToken }), 404);
});

test('a bad token on a public route is ignored: version discovery and login still work', async () => {
  assert.equal((await cloud.request('GET', '/identity/v3', { token: 'stale-token' })).status, 200);
  const login = await cloud.request('POST', '/identity/v3/auth/tokens', {
    token: 'stale-token',
    body: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: cloud.adminPassword } },
        },
      },
    },
  });
  assert.equal(login.status, 201);
});

test('POST /auth/tokens: a mistyped shape is a 400 naming the field, before any authentication', async () => {
  for (const body of [
    {},
    { auth: 'x' },
    { auth: { identity: { methods: 'password' } } },
    { auth: { identity: { methods: [1] } } },
  ]) {
    const res = await cloud.request('POST', '/identity/v3/auth/tokens', { body });
    isKeystoneError(res, 400);
    assert.match(res.json.error.message, /auth|identity|methods/, res.json.error.message);
  }
});

test("a reader of a project is refused project tag writes and other users' records (declared rules)", async () => {
  const pid = (
    await cloud.request('POST', '/identity/v3/projects', {
      token: cloud.adminToken,
      body: { project: { name: 'rules-p' } },
    })
  ).json.project.id;
  const uid = (
    await cloud.request('POST', '/identity/v3/users', {
      token: cloud.adminToken,
      body: { user: { name: 'rules-u', password: 'pw-rules-u' } },
    })
  ).json.user.id;
  const reader = (await cloud.request('GET', '/identity/v3/roles?name=reader', { token: cloud.adminToken })).json
    .roles[0].id;
  assert.equal(
    (
      await cloud.request('PUT', `/identity/v3/projects/${pid}/users/${uid}/roles/${reader}`, {
        token: cloud.adminToken,
      })
    ).status,
    204,
  );
  const token = await cloud.login('rules-u', 'pw-rules-u', 'rules-p');
  isKeystoneError(await cloud.request('PUT', `/identity/v3/projects/${pid}/tags/x`, { token }), 403);
  assert.equal((await cloud.request('GET', `/identity/v3/projects/${pid}/tags`, { token })).status, 200);
  assert.equal((await cloud.request('GET', `/identity/v3/users/${uid}`, { token })).status, 200);
  isKeystoneError(await cloud.request('GET', '/identity/v3/users', { token }), 403);
  const adminId = (await cloud.request('GET', '/identity/v3/users?name=admin', { token: cloud.adminToken })).json
    .users[0].id;
  isKeystoneError(await cloud.request('GET', `/identity/v3/users/${adminId}`, { token }), 403);
  isKeystoneError(await cloud.request('GET', `/identity/v3/users/${adminId}/application_credentials`, { token }), 403);
  isKeystoneError(await cloud.request('GET', '/identity/v3/role_assignments', { token }), 403);
  assert.equal((await cloud.request('GET', `/identity/v3/role_assignments?user.id=${uid}`, { token })).status, 200);
});
