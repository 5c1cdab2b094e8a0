import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dialects } from '../../helpers/dialects.js';
import { createTestCloud } from '../../helpers/cloud.js';

// The same behaviour on both dialects: one code path, one migration history.
for (const d of dialects) {
  test(`store on ${d.name}: migrations, bootstrap, uniqueness, cascades and transactions`, async (t) => {
    const db = await d.open(t);
    if (!db) return;
    const cloud = await createTestCloud({ databaseUrl: db.url });
    try {
      const admin = cloud.adminToken;
      const r = (m: string, u: string, body?: unknown) =>
        cloud.request(m, u, { token: admin, ...(body ? { body } : {}) });

      // Bootstrap is idempotent: a second bootstrap on the same database changes nothing.
      const { bootstrapIdentity } = await import('../../../src/services/identity/bootstrap.js');
      const again = await bootstrapIdentity(cloud.controller.deps.identity);
      assert.equal(again.generatedPassword, undefined);
      assert.equal((await r('GET', '/identity/v3/users?name=admin')).json.users.length, 1);

      // Unique names per domain are enforced by the database and reported as 409.
      assert.equal((await r('POST', '/identity/v3/projects', { project: { name: 'dup' } })).status, 201);
      const dup = await r('POST', '/identity/v3/projects', { project: { name: 'dup' } });
      assert.equal(dup.status, 409);
      assert.equal(dup.json.error.code, 409);

      // Concurrent creates of the same name: exactly one wins.
      const results = await Promise.all(
        Array.from({ length: 8 }, () => r('POST', '/identity/v3/users', { user: { name: 'racer' } })),
      );
      assert.equal(results.filter((x) => x.status === 201).length, 1);
      assert.equal(results.filter((x) => x.status === 409).length, 7);

      // Deleting a domain cascades to its projects, users and grants, in one transaction.
      const dom = (await r('POST', '/identity/v3/domains', { domain: { name: 'd-cascade' } })).json.domain;
      const p = (await r('POST', '/identity/v3/projects', { project: { name: 'p', domain_id: dom.id } })).json.project;
      const u = (await r('POST', '/identity/v3/users', { user: { name: 'u', domain_id: dom.id } })).json.user;
      const member = (await r('GET', '/identity/v3/roles?name=member')).json.roles[0];
      assert.equal((await r('PUT', `/identity/v3/projects/${p.id}/users/${u.id}/roles/${member.id}`)).status, 204);
      assert.equal(
        (await r('DELETE', `/identity/v3/domains/${dom.id}`)).status,
        403,
        'an enabled domain cannot be deleted',
      );
      assert.equal((await r('PATCH', `/identity/v3/domains/${dom.id}`, { domain: { enabled: false } })).status, 200);
      assert.equal((await r('DELETE', `/identity/v3/domains/${dom.id}`)).status, 204);
      assert.equal((await r('GET', `/identity/v3/projects/${p.id}`)).status, 404);
      assert.equal((await r('GET', `/identity/v3/users/${u.id}`)).status, 404);
      const left = await r('GET', `/identity/v3/role_assignments?role.id=${member.id}`);
      assert.equal(left.json.role_assignments.filter((a: { user?: { id: string } }) => a.user?.id === u.id).length, 0);
    } finally {
      await cloud.close();
      await db.drop();
    }
  });
}
