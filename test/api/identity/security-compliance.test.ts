import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { defaults } from '../../../src/config.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud({
    config: {
      identity: {
        securityCompliance: {
          lockoutFailureAttempts: 2,
          lockoutDurationSeconds: 1,
          uniqueLastPasswordCount: 2,
          minimumPasswordAgeDays: 0,
        },
      },
    },
  });
});
after(async () => {
  await cloud.close();
});

const auth = (userId: string, password: string) =>
  cloud.request('POST', '/identity/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['password'], password: { user: { id: userId, password } } } } },
  });

async function makeUser(name: string, password: string): Promise<string> {
  const r = await cloud.request('POST', '/identity/v3/users', {
    token: cloud.adminToken,
    body: { user: { name, password } },
  });
  assert.equal(r.status, 201);
  return r.json.user.id;
}

test('compliance is off by default, as in Keystone', () => {
  assert.deepEqual(defaults.identity.securityCompliance, {
    lockoutFailureAttempts: 0,
    lockoutDurationSeconds: 1800,
    uniqueLastPasswordCount: 0,
    minimumPasswordAgeDays: 0,
  });
});

test('two failed logins lock the account, even for the right password, until the lockout passes', async () => {
  const id = await makeUser('lockme', 'right-password-1');
  assert.equal((await auth(id, 'right-password-1')).status, 201);
  assert.equal((await auth(id, 'wrong')).status, 401);
  assert.equal((await auth(id, 'wrong')).status, 401);
  const locked = await auth(id, 'right-password-1');
  assert.equal(locked.status, 401);
  assert.match(locked.json.error.message, /locked/);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await auth(id, 'right-password-1')).status, 201);
});

test('self-service changes may not reuse the last passwords; admin resets may', async () => {
  const id = await makeUser('history', 'first-password');
  // The route needs no token (the original password is the proof), and each change revokes the user's tokens anyway.
  const change = (original: string, password: string) =>
    cloud.request('POST', `/identity/v3/users/${id}/password`, {
      body: { user: { original_password: original, password } },
    });
  assert.equal((await change('first-password', 'second-password')).status, 204);
  const reuse = await change('second-password', 'first-password');
  assert.equal(reuse.status, 400);
  assert.match(reuse.json.error.message, /previous password/);
  assert.equal((await change('second-password', 'second-password')).status, 400);
  assert.equal((await change('wrong-original', 'third-password')).status, 401);
  const reset = await cloud.request('PATCH', `/identity/v3/users/${id}`, {
    token: cloud.adminToken,
    body: { user: { password: 'second-password' } },
  });
  assert.equal(reset.status, 200);
  assert.equal((await auth(id, 'second-password')).status, 201);
});
