// Nova's admin reports served from service queries: tenant usage, what runs on a host, migrations, external
// events, and clearing a server's password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { V, makeImage, privateNet, waitFor } from './helpers.js';

test('admin reports over instances and migrations', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const req = (m: string, u: string, body?: unknown, mv = '2.1') =>
    c.request(m, u, { token: c.adminToken, body, headers: { 'OpenStack-API-Version': `compute ${mv}` } });
  const image = await makeImage(c);
  const net = await privateNet(c);
  const made = await req('POST', `${V}/servers`, {
    server: { name: 'rep1', imageRef: image, flavorRef: '1', networks: [{ uuid: net }] },
  });
  assert.equal(made.status, 202, made.text);
  const id = made.json.server.id as string;
  const server = await waitFor(c, c.adminToken, id, 'ACTIVE');
  const host = server['OS-EXT-SRV-ATTR:host'] as string;
  const project = server.tenant_id as string;

  await t.test('os-simple-tenant-usage counts the server in its project only', async () => {
    const all = (await req('GET', `${V}/os-simple-tenant-usage?detailed=1`)).json.tenant_usages;
    const mine = all.find((u: any) => u.tenant_id === project);
    assert.ok(mine.server_usages.some((s: any) => s.instance_id === id && s.flavor === 'm1.tiny'));
    const one = (await req('GET', `${V}/os-simple-tenant-usage/${project}`)).json.tenant_usage;
    assert.ok(one.server_usages.some((s: any) => s.instance_id === id));
    const before = (await req('GET', `${V}/os-simple-tenant-usage?start=2001-01-01T00:00:00&end=2001-01-02T00:00:00`))
      .json;
    assert.deepEqual(before.tenant_usages, []);
    const other = (await req('GET', `${V}/os-simple-tenant-usage/00000000000000000000000000000000`)).json;
    assert.deepEqual(other.tenant_usage, {});
  });

  await t.test('os-hosts show sums the project and os-hypervisors lists the server', async () => {
    const rows = (await req('GET', `${V}/os-hosts/${host}`)).json.host.map((r: any) => r.resource);
    const mine = rows.find((r: any) => r.project === project);
    assert.equal(mine.cpu, 1);
    assert.equal(mine.memory_mb, 512);
    assert.equal(rows.find((r: any) => r.project === '(used_max)').cpu, 1);
    const hv = (await req('GET', `${V}/os-hypervisors/detail?with_servers=true`, undefined, '2.53')).json.hypervisors;
    assert.ok(hv.some((h: any) => (h.servers ?? []).some((s: any) => s.uuid === id && s.name === 'rep1')));
  });

  await t.test('os-migrations filters, servers/{id}/migrations lists live ones in progress', async () => {
    assert.deepEqual((await req('GET', `${V}/os-migrations?instance_uuid=${id}`)).json.migrations, []);
    assert.deepEqual((await req('GET', `${V}/servers/${id}/migrations`, undefined, '2.23')).json.migrations, []);
  });

  await t.test('os-server-external-events: 200 for a placed server, 404 when none exists', async () => {
    const ok = await req('POST', `${V}/os-server-external-events`, {
      events: [{ name: 'network-changed', server_uuid: id }],
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.events[0].code, 200);
    const gone = await req('POST', `${V}/os-server-external-events`, {
      events: [{ name: 'network-changed', server_uuid: '11111111-2222-3333-4444-555555555555' }],
    });
    assert.equal(gone.status, 404);
  });

  await t.test('os-server-password: delete blanks what the guest posted', async () => {
    assert.equal(await c.controller.deps.metadata.setPassword(id, 'secret-from-guest'), 'stored');
    assert.equal((await req('GET', `${V}/servers/${id}/os-server-password`)).json.password, 'secret-from-guest');
    assert.equal((await req('DELETE', `${V}/servers/${id}/os-server-password`)).status, 204);
    assert.equal((await req('GET', `${V}/servers/${id}/os-server-password`)).json.password, '');
  });
});
