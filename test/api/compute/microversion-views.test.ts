// Response shapes Tempest checks per microversion (rebuild, update, migrations, usage, list filters) and createBackup
// rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { V, makeImage, privateNet, waitFor } from './helpers.js';

test('compute views by microversion and backup rotation', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const tok = c.adminToken;
  const req = (m: string, u: string, body?: unknown, ver = '2.1') =>
    c.request(m, u, { token: tok, body, headers: { 'X-OpenStack-Nova-API-Version': ver } });
  const imageId = await makeImage(c);
  const net = await privateNet(c);
  const boot = async (name: string) => {
    const r = await req('POST', `${V}/servers`, {
      server: { name, imageRef: imageId, flavorRef: '1', networks: [{ uuid: net }] },
    });
    assert.equal(r.status, 202, r.text);
    return waitFor(c, tok, r.json.server.id, 'ACTIVE');
  };
  const s = await boot('views-vm');

  await t.test(
    'rebuild: key_name from 2.54, user_data from 2.57, server_groups from 2.71, the full view from 2.75',
    async () => {
      const at = async (ver: string) => {
        const r = await req('POST', `${V}/servers/${s.id}/action`, { rebuild: { imageRef: imageId } }, ver);
        assert.equal(r.status, 202, r.text);
        await waitFor(c, tok, s.id, 'ACTIVE');
        return r.json.server;
      };
      const v253 = await at('2.53');
      assert.equal('key_name' in v253, false);
      const v254 = await at('2.54');
      assert.equal(v254.key_name, null);
      assert.equal('user_data' in v254, false);
      const v257 = await at('2.57');
      assert.equal(v257.user_data, null);
      assert.equal('server_groups' in v257, false);
      const v271 = await at('2.71');
      assert.deepEqual(v271.server_groups, []);
      const v275 = await at('2.75');
      assert.ok('OS-EXT-STS:vm_state' in v275 && 'user_data' in v275);
      assert.equal('OS-EXT-SRV-ATTR:user_data' in v275, false);
      assert.ok(v275.adminPass);
    },
  );

  await t.test('update and show carry server_groups from 2.71; update is the full view from 2.75', async () => {
    const u = (await req('PUT', `${V}/servers/${s.id}`, { server: { name: 'renamed' } }, '2.75')).json.server;
    assert.deepEqual(u.server_groups, []);
    assert.ok('OS-EXT-STS:vm_state' in u);
    const old = (await req('PUT', `${V}/servers/${s.id}`, { server: { name: 'renamed2' } }, '2.74')).json.server;
    assert.equal('OS-EXT-STS:vm_state' in old, false);
    assert.deepEqual((await req('GET', `${V}/servers/${s.id}`, undefined, '2.71')).json.server.server_groups, []);
    assert.equal('server_groups' in (await req('GET', `${V}/servers/${s.id}`, undefined, '2.70')).json.server, false);
    assert.equal(
      'server_groups' in (await req('GET', `${V}/servers/detail`, undefined, '2.71')).json.servers[0],
      false,
    );
  });

  await t.test('migrations have no region fields; usage for an empty project id is 404', async () => {
    const r = await req('POST', `${V}/servers/${s.id}/action`, { resize: { flavorRef: '2' } });
    assert.equal(r.status, 202, r.text);
    await waitFor(c, tok, s.id, 'VERIFY_RESIZE');
    const m = (await req('GET', `${V}/os-migrations`)).json.migrations;
    assert.ok(m.length >= 1);
    assert.equal('source_region' in m[0] || 'dest_region' in m[0], false);
    assert.equal((await req('POST', `${V}/servers/${s.id}/action`, { confirmResize: null })).status, 204);
    await waitFor(c, tok, s.id, 'ACTIVE');
    assert.equal((await req('GET', `${V}/os-simple-tenant-usage/?start=2020-01-01T00:00:00`)).status, 404);
  });

  await t.test('server lists: tenant_id needs all_tenants; changes-since must be ISO 8601', async () => {
    const project = (await req('GET', `${V}/servers/${s.id}`)).json.server.tenant_id;
    const other =
      (await c.request('GET', '/identity/v3/projects?name=service', { token: tok })).json.projects?.[0]?.id ??
      'not-a-project';
    const own = (await req('GET', `${V}/servers?tenant_id=${other}`)).json.servers;
    assert.ok(
      own.some((x: any) => x.id === s.id),
      'without all_tenants the filter is ignored',
    );
    const filtered = (await req('GET', `${V}/servers?all_tenants=&tenant_id=${other}`)).json.servers;
    assert.equal(
      filtered.some((x: any) => x.id === s.id),
      other === project,
    );
    const bad = await req('GET', `${V}/servers?changes-since=2011/01/01`);
    assert.equal(bad.status, 400);
    assert.equal((await req('GET', `${V}/servers?changes-since=2011-01-01T00:00:00Z`)).status, 200);
  });

  await t.test('createBackup keeps the `rotation` newest backups; bad rotation is 400', async () => {
    const names: string[] = [];
    for (const n of [1, 2, 3]) {
      const r = await req(
        'POST',
        `${V}/servers/${s.id}/action`,
        { createBackup: { name: `bk-${n}`, backup_type: 'daily', rotation: 2 } },
        '2.45',
      );
      assert.equal(r.status, 202, r.text);
      names.push(r.json.image_id);
      await waitFor(c, tok, s.id, 'ACTIVE');
      await new Promise((res) => setTimeout(res, 1100)); // distinct created_at seconds, as backups taken apart are
    }
    const list = (
      await c.request(
        'GET',
        `/image/v2/images?instance_uuid=${s.id}&image_type=backup&backup_type=daily&sort_key=created_at&sort_dir=asc`,
        { token: tok },
      )
    ).json.images;
    assert.deepEqual(
      list.map((i: any) => i.id),
      names.slice(1),
    );
    assert.equal(
      (
        await req('POST', `${V}/servers/${s.id}/action`, {
          createBackup: { name: 'x', backup_type: 'daily', rotation: -1 },
        })
      ).status,
      400,
    );
    assert.equal(
      (await req('POST', `${V}/servers/${s.id}/action`, { createBackup: { name: 'x', rotation: 1 } })).status,
      400,
    );
  });
});
