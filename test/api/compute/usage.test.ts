// os-simple-tenant-usage as Horizon's Overview and novaclient use it: paging by marker/limit (2.40+) and no
// charge for time that has not happened yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { V, makeImage, privateNet, waitFor } from './helpers.js';

test('simple tenant usage: paging and the end of the period', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const tok = c.adminToken;
  const req = (m: string, u: string, body?: unknown, ver = '2.40') =>
    c.request(m, u, { token: tok, body, headers: { 'X-OpenStack-Nova-API-Version': ver } });
  const imageId = await makeImage(c);
  const net = await privateNet(c);
  const ids: string[] = [];
  for (const name of ['usage-a', 'usage-b', 'usage-c']) {
    const r = await req('POST', `${V}/servers`, {
      server: { name, imageRef: imageId, flavorRef: '1', networks: [{ uuid: net }] },
    });
    assert.equal(r.status, 202, r.text);
    ids.push((await waitFor(c, tok, r.json.server.id, 'ACTIVE')).id);
  }
  const project = (await req('GET', `${V}/servers/${ids[0]}`)).json.server.tenant_id as string;
  const start = new Date(Date.now() - 3600_000).toISOString().replace(/Z$/, '');
  const end = new Date(Date.now() + 10 * 3600_000).toISOString().replace(/Z$/, '');
  const window = `start=${start}&end=${end}`;

  await t.test('a marker walks the pages to an empty one, each server once (show and index)', async () => {
    const walk = async (path: string, pick: (body: any) => any[]) => {
      const seen: string[] = [];
      let marker: string | undefined;
      for (let page = 0; page < 10; page++) {
        const r = await req('GET', `${V}/${path}?${window}&detailed=1&limit=1${marker ? `&marker=${marker}` : ''}`);
        assert.equal(r.status, 200, r.text);
        const servers = pick(r.json);
        if (servers.length === 0) return seen;
        assert.equal(servers.length, 1);
        seen.push(servers[0].instance_id);
        marker = servers[0].instance_id;
      }
      assert.fail(`no empty page after 10 pages; seen ${seen.join(',')}`);
    };
    const shown = await walk(`os-simple-tenant-usage/${project}`, (b) => b.tenant_usage.server_usages ?? []);
    assert.deepEqual([...shown].sort(), [...ids].sort());
    const listed = await walk('os-simple-tenant-usage', (b) => b.tenant_usages.flatMap((u: any) => u.server_usages));
    assert.deepEqual([...listed].sort(), [...ids].sort());
  });

  await t.test('a full page carries a next link with the last instance as marker', async () => {
    const r = await req('GET', `${V}/os-simple-tenant-usage/${project}?${window}&limit=2`);
    assert.equal(r.status, 200, r.text);
    const last = r.json.tenant_usage.server_usages[1].instance_id;
    const next = r.json.tenant_usage_links?.[0];
    assert.equal(next?.rel, 'next');
    assert.match(next.href, new RegExp(`/os-simple-tenant-usage/${project}\\?.*marker=${last}`));
  });

  await t.test('an unknown marker is a 400; before 2.40 marker and limit are ignored', async () => {
    const bad = await req(
      'GET',
      `${V}/os-simple-tenant-usage/${project}?${window}&marker=00000000-0000-0000-0000-000000000000`,
    );
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json.badRequest.message, /Marker .* could not be found/);
    const old = await req('GET', `${V}/os-simple-tenant-usage/${project}?${window}&limit=1`, undefined, '2.39');
    assert.equal(old.status, 200);
    assert.equal(old.json.tenant_usage.server_usages.length, 3);
  });

  await t.test('usage stops at now, not at a future end', async () => {
    const r = await req('GET', `${V}/os-simple-tenant-usage/${project}?${window}`);
    assert.equal(r.status, 200, r.text);
    const u = r.json.tenant_usage;
    // Three servers that ran for seconds: far below one hour in total (a future end would give ~30 hours).
    assert.ok(u.total_hours < 1, `total_hours ${u.total_hours}`);
    assert.ok(Date.parse(`${u.stop}Z`) <= Date.now(), `stop ${u.stop} is in the future`);
  });
});
