// Refused compute requests: Nova's error bodies, and nothing half-made (no instance, port, usage or task left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { V, leftovers, makeImage, privateNet, waitFor } from './helpers.js';

/** A member user in a fresh project; returns its token and project id. */
async function memberUser(c: TestCloud): Promise<{ token: string; projectId: string }> {
  const admin = c.adminToken;
  const p = await c.request('POST', '/identity/v3/projects', {
    token: admin,
    body: { project: { name: 'p-bad', domain_id: 'default' } },
  });
  const u = await c.request('POST', '/identity/v3/users', {
    token: admin,
    body: { user: { name: 'u-bad', password: 'secret-pw-1', domain_id: 'default' } },
  });
  const roles = await c.request('GET', '/identity/v3/roles?name=member', { token: admin });
  await c.request(
    'PUT',
    `/identity/v3/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${roles.json.roles[0].id}`,
    { token: admin },
  );
  return { token: await c.login('u-bad', 'secret-pw-1', 'p-bad'), projectId: p.json.project.id };
}

test('compute refuses bad input cleanly', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const tok = c.adminToken;
  const req = (m: string, u: string, body?: unknown, headers?: Record<string, string>, token = tok) =>
    c.request(m, u, { token, body, headers });
  const image = await makeImage(c);
  const net = await privateNet(c);
  const clean = async () => assert.deepEqual(await leftovers(c), { instances: 0, ports: 0, usage: 0, tasks: 0 });
  const server = (extra: Record<string, unknown> = {}) => ({
    server: { name: 'x', imageRef: image, flavorRef: '42', networks: [{ uuid: net }], ...extra },
  });

  await t.test('malformed bodies are 400 badRequest', async () => {
    const notJson = await c.request('POST', `${V}/servers`, {
      token: tok,
      payload: '{"server": ',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.badRequest.code, 400);
    for (const body of [
      {},
      { server: 'x' },
      { server: { imageRef: image, flavorRef: '42' } },
      server({ name: '' }),
      server({ min_count: 0 }),
      server({ networks: [{ uuid: 'not-a-uuid' }] }),
      server({ bogus: 1 }),
      server({ metadata: { k: 5 } }),
      server({ flavorRef: null }),
    ]) {
      const r = await req('POST', `${V}/servers`, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status} ${r.text}`);
      assert.ok(r.json.badRequest.message, r.text);
    }
    const badAction = await req('POST', `${V}/servers/00000000-0000-0000-0000-000000000000/action`, {
      reboot: { type: 'SIDEWAYS' },
    });
    assert.ok(badAction.status === 400 || badAction.status === 404);
    await clean();
  });

  await t.test('unknown microversion is 406', async () => {
    const r = await req('POST', `${V}/servers`, server(), { 'OpenStack-API-Version': 'compute 2.1000' });
    assert.equal(r.status, 406);
    assert.equal(r.json.notAcceptable.code, 406);
    await clean();
  });

  await t.test('bad base64 user data and oversize user data are 400', async () => {
    const bad = await req('POST', `${V}/servers`, server({ user_data: 'not base64 !!' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.json.badRequest.message, 'User data needs to be valid base 64.');
    const big = await req('POST', `${V}/servers`, server({ user_data: Buffer.alloc(70_000, 1).toString('base64') }));
    assert.equal(big.status, 400);
    assert.match(big.json.badRequest.message, /User data too large/);
    await clean();
  });

  await t.test('10,000 metadata items are refused by quota (403)', async () => {
    const metadata: Record<string, string> = {};
    for (let i = 0; i < 10_000; i++) metadata[`k${i}`] = 'v';
    const r = await req('POST', `${V}/servers`, server({ metadata }));
    assert.equal(r.status, 403);
    assert.match(r.json.forbidden.message, /metadata_items/);
    await clean();
  });

  await t.test('flavor too small for the image is 400', async () => {
    const bigDisk = await makeImage(c, { minDisk: 5, name: 'needs-5g' });
    const r = await req('POST', `${V}/servers`, server({ imageRef: bigDisk }));
    assert.equal(r.status, 400);
    assert.match(r.json.badRequest.message, /Flavor's disk is too small for requested image/);
    const bigRam = await makeImage(c, { minRam: 1024, name: 'needs-1g-ram' });
    const m = await req('POST', `${V}/servers`, server({ imageRef: bigRam }));
    assert.equal(m.status, 400);
    assert.equal(m.json.badRequest.message, "Flavor's memory is too small for requested image.");
    await clean();
  });

  await t.test('unknown image, flavor, network, key are 400; nothing half-made', async () => {
    for (const extra of [
      { imageRef: '11111111-1111-1111-1111-111111111111' },
      { flavorRef: 'nope' },
      { networks: [{ uuid: '22222222-2222-2222-2222-222222222222' }] },
      { key_name: 'nokey' },
    ]) {
      const r = await req('POST', `${V}/servers`, server(extra));
      assert.equal(r.status, 400, `${JSON.stringify(extra)} -> ${r.text}`);
    }
    await clean();
  });

  await t.test('over quota is 403 and leaves nothing behind; concurrent creates never pass the limit', async () => {
    const me = await memberUser(c);
    await req('PUT', `${V}/os-quota-sets/${me.projectId}`, { quota_set: { instances: 2 } });
    const over = await req(
      'POST',
      `${V}/servers`,
      server({ min_count: 3, networks: 'none' }),
      { 'OpenStack-API-Version': 'compute 2.37' },
      me.token,
    );
    assert.equal(over.status, 403);
    assert.match(
      over.json.forbidden.message,
      /^Quota exceeded for instances: Requested 3, but already used 0 of 2 instances/,
    );
    await clean();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        req(
          'POST',
          `${V}/servers`,
          server({ name: `c${i}`, networks: 'none' }),
          { 'OpenStack-API-Version': 'compute 2.37' },
          me.token,
        ),
      ),
    );
    assert.equal(results.filter((r) => r.status === 202).length, 2);
    assert.equal(results.filter((r) => r.status === 403).length, 4);
    const ids = results.filter((r) => r.status === 202).map((r) => r.json.server.id as string);
    for (const id of ids) await waitFor(c, me.token, id, 'ACTIVE');

    // A locked server refuses its owner's changes; admin may act.
    const id = ids[0]!;
    assert.equal((await req('POST', `${V}/servers/${id}/action`, { lock: null })).status, 202);
    const refused = await req('POST', `${V}/servers/${id}/action`, { pause: null }, undefined, me.token);
    assert.equal(refused.status, 409);
    assert.equal(refused.json.conflictingRequest.message, `Instance ${id} is locked`);
    const delLocked = await req('DELETE', `${V}/servers/${id}`, undefined, undefined, me.token);
    assert.equal(delLocked.status, 409);
    const unlockByOwner = await req('POST', `${V}/servers/${id}/action`, { unlock: null }, undefined, me.token);
    assert.equal(unlockByOwner.status, 403);
    assert.equal((await req('POST', `${V}/servers/${id}/action`, { unlock: null })).status, 202);
    // Wrong state: start an ACTIVE server.
    const start = await req('POST', `${V}/servers/${id}/action`, { 'os-start': null }, undefined, me.token);
    assert.equal(start.status, 409);
    assert.equal(start.json.conflictingRequest.message, `Cannot 'start' instance ${id} while it is in vm_state active`);
    for (const x of ids) await req('DELETE', `${V}/servers/${x}`, undefined, undefined, me.token);
    for (const x of ids) await waitFor(c, me.token, x, 'DELETED');
    await clean();
  });

  await t.test("other users cannot see or act on a project's server", async () => {
    const r = await req('POST', `${V}/servers`, server({ name: 'private-one' }));
    const id = r.json.server.id;
    await waitFor(c, tok, id, 'ACTIVE');
    const me = await c.login('u-bad', 'secret-pw-1', 'p-bad');
    assert.equal((await req('GET', `${V}/servers/${id}`, undefined, undefined, me)).status, 404);
    assert.equal((await req('POST', `${V}/servers/${id}/action`, { pause: null }, undefined, me)).status, 404);
    assert.equal((await req('GET', `${V}/os-hypervisors`, undefined, undefined, me)).status, 403);
    assert.equal(
      (await req('POST', `${V}/flavors`, { flavor: { name: 'z', ram: 1, vcpus: 1, disk: 0 } }, undefined, me)).status,
      403,
    );
    await req('DELETE', `${V}/servers/${id}`);
    await waitFor(c, tok, id, 'DELETED');
  });
});
