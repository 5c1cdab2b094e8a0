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

test(
  'a token from an application credential with access rules can only make the requests the rules ' + 'allow',
  async () => {
    const me = (
      await cloud.request('GET', '/identity/v3/auth/tokens', {
        token: cloud.adminToken,
        headers: { 'x-subject-token': cloud.adminToken },
      })
    ).json.token.user.id;
    const created = await cloud.request('POST', `/identity/v3/users/${me}/application_credentials`, {
      token: cloud.adminToken,
      body: {
        application_credential: {
          name: 'only-list-projects',
          access_rules: [{ service: 'identity', method: 'GET', path: '/v3/auth/projects' }],
        },
      },
    });
    assert.equal(created.status, 201, created.text);
    const ac = created.json.application_credential;
    const login = await cloud.request('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: ac.secret } },
        },
      },
    });
    assert.equal(login.status, 201);
    const token = String(login.headers['x-subject-token']);
    assert.equal((await cloud.request('GET', '/identity/v3/auth/projects', { token })).status, 200);
    const denied = await cloud.request('GET', '/identity/v3/users', { token });
    assert.equal(denied.status, 401);
    assert.match(denied.json.error.message, /does not permit/);
    assert.equal((await cloud.request('DELETE', `/identity/v3/users/${me}`, { token })).status, 401);
    // An application credential without rules is unrestricted.
    const free = await cloud.request('POST', `/identity/v3/users/${me}/application_credentials`, {
      token: cloud.adminToken,
      body: { application_credential: { name: 'no-rules' } },
    });
    const login2 = await cloud.request('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: {
              id: free.json.application_credential.id,
              secret: free.json.application_credential.secret,
            },
          },
        },
      },
    });
    assert.equal(
      (await cloud.request('GET', '/identity/v3/users', { token: String(login2.headers['x-subject-token']) })).status,
      200,
    );
  },
);
