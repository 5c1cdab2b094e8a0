// Issue 16 item 4: every state-changing call lands in the audit trail with who, what, target and outcome; only
// admins read it; no secret from a request body ever reaches a stored row.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser, type TestUser } from '../identity/fixtures.js';

let cloud: TestCloud;
let member: TestUser;
let reader: TestUser;
before(async () => {
  cloud = await createTestCloud();
  const p = await createProject(cloud);
  member = await createUser(cloud, p.id, p.name, ['member']);
  reader = await createUser(cloud, p.id, p.name, ['reader']);
});
after(async () => {
  await cloud.close();
});

async function events(query: string): Promise<any[]> {
  await cloud.controller.deps.audit.idle();
  const r = await cloud.request('GET', `/audit/v1/events?${query}`, { token: cloud.adminToken });
  assert.equal(r.status, 200, r.text);
  return r.json.events;
}

test("a member's create and failed delete appear with their outcome, request id and route", async () => {
  const created = await cloud.request('POST', '/network/v2.0/networks', {
    token: member.token,
    body: { network: { name: 'audited' } },
  });
  assert.equal(created.status, 201, created.text);
  const netId = created.json.network.id as string;
  const missing = '00000000-0000-4000-8000-000000000000';
  const failed = await cloud.request('DELETE', `/network/v2.0/networks/${missing}`, { token: member.token });
  assert.equal(failed.status, 404);
  const refused = await cloud.request('POST', '/network/v2.0/networks', {
    token: reader.token,
    body: { network: { name: 'not-allowed' } },
  });
  assert.equal(refused.status, 403);

  const mine = await events(`user_id=${member.id}`);
  const create = mine.find((e) => e.request_id === created.headers['x-openstack-request-id']);
  assert.ok(create, 'the create is recorded');
  assert.equal(create.method, 'POST');
  assert.equal(create.service, 'network');
  assert.equal(create.route, '/network/v2.0/networks');
  assert.equal(create.target_id, netId);
  assert.equal(create.status, 201);
  assert.equal(create.project_id, member.projectId);
  assert.equal(create.user_name, member.name);
  assert.equal(create.action, 'network:create_network');
  assert.ok(create.domain_id);
  assert.equal(typeof create.duration_ms, 'number');
  const del = mine.find((e) => e.request_id === failed.headers['x-openstack-request-id']);
  assert.ok(del, 'the failed delete is recorded');
  assert.equal(del.status, 404);
  assert.equal(del.target_id, missing);
  assert.equal(del.route, '/network/v2.0/networks/:id');

  const failures = await events(`user_id=${member.id}&outcome=failure`);
  assert.deepEqual(
    failures.map((e) => e.status),
    [404],
  );
  const denied = await events(`user_id=${reader.id}`);
  assert.equal(denied.length, 1);
  assert.equal(denied[0].status, 403);
  // Reads are not state changes.
  await cloud.request('GET', '/network/v2.0/networks', { token: member.token });
  assert.equal((await events(`user_id=${member.id}`)).length, mine.length);
});

test('a reader and a member get 403 on the audit API, without a token 401', async () => {
  for (const who of [reader, member]) {
    const r = await cloud.request('GET', '/audit/v1/events', { token: who.token });
    assert.equal(r.status, 403, r.text);
    assert.ok(r.json.error, 'the error body');
  }
  assert.equal((await cloud.request('GET', '/audit/v1/events')).status, 401);
});

test('passwords, user_data, admin passwords and keys never reach a stored row', async () => {
  const secrets = [
    'S3cret-pass-word-xyz',
    'dXNlci1kYXRhLXNlY3JldA==',
    'admin-pass-secret-abc',
    'AAAAB3NzaC1-secret-key',
  ];
  await cloud.request('POST', '/identity/v3/users', {
    token: cloud.adminToken,
    body: { user: { name: 'has-secret', password: secrets[0] } },
  });
  await cloud.request('POST', '/identity/v3/auth/tokens', {
    body: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'nobody', domain: { id: 'default' }, password: secrets[0] } },
        },
      },
    },
  });
  await cloud.request('POST', '/compute/v2.1/servers', {
    token: member.token,
    body: { server: { name: 's', imageRef: 'x', flavorRef: '1', user_data: secrets[1], adminPass: secrets[2] } },
  });
  await cloud.request('POST', '/compute/v2.1/os-keypairs', {
    token: member.token,
    body: { keypair: { name: 'k', public_key: `ssh-rsa ${secrets[3]} me@here` } },
  });
  await cloud.controller.deps.audit.idle();
  const rows = await cloud.controller.store.db.selectFrom('audit_events').selectAll().execute();
  assert.ok(rows.length >= 4);
  const stored = JSON.stringify(rows);
  for (const s of secrets) assert.ok(!stored.includes(s), `a secret reached the audit trail: ${s}`);
  assert.ok(stored.includes('/identity/v3/auth/tokens'), 'the failed login is recorded (without its password)');
});

test('pages with limit and marker, filters by time and action, refuses bad times', async () => {
  const all = await events('limit=1000');
  assert.ok(all.length >= 3);
  const first = await cloud.request('GET', '/audit/v1/events?limit=2', { token: cloud.adminToken });
  assert.equal(first.json.events.length, 2);
  assert.match(first.json.links[0].href, /marker=/);
  const second = await cloud.request('GET', `/audit/v1/events?limit=2&marker=${first.json.events[1].id}`, {
    token: cloud.adminToken,
  });
  assert.deepEqual(
    second.json.events.map((e: { id: string }) => e.id),
    all.slice(2, 4).map((e) => e.id),
  );
  assert.equal((await events('since=2999-01-01T00:00:00Z')).length, 0);
  assert.equal((await events('until=2000-01-01')).length, 0);
  const network = await events('action=network:*');
  assert.ok(network.length > 0 && network.every((e) => e.action.startsWith('network:')));
  for (const bad of ['since=yesterday', 'limit=0', 'outcome=maybe', 'method=GET', 'colour=red']) {
    const r = await cloud.request('GET', `/audit/v1/events?${bad}`, { token: cloud.adminToken });
    assert.equal(r.status, 400, `${bad}: ${r.text}`);
  }
  const r = await cloud.request('GET', '/audit/v1/events?marker=nope', { token: cloud.adminToken });
  assert.equal(r.status, 404);
});

test('retention deletes only events older than the configured age', async () => {
  const audit = cloud.controller.deps.audit;
  await audit.idle();
  const count = async () => (await cloud.controller.store.db.selectFrom('audit_events').select('id').execute()).length;
  const before = await count();
  assert.equal(await audit.prune(), 0, 'nothing is 90 days old');
  assert.equal(await audit.prune(new Date(Date.now() + 91 * 86_400_000)), before);
  assert.equal(await count(), 0);
});
