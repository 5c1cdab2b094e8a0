// Cinder features Gureum does not offer yet answer empty lists (Horizon lists them on its volume pages), and a
// type's encryption is an empty object; the type must exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { projectOf } from './helpers.js';

test('groups, group snapshots and types and transfers list empty; encryption of a type is {}', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const V = `/volume/v3/${await projectOf(c, c.adminToken)}`;
  const get = (path: string) =>
    c.request('GET', `${V}${path}`, { token: c.adminToken, headers: { 'openstack-api-version': 'volume 3.60' } });
  const lists: [string, string][] = [
    ['/groups/detail', 'groups'],
    ['/group_snapshots/detail', 'group_snapshots'],
    ['/group_types?is_public=None', 'group_types'],
    ['/os-volume-transfer/detail', 'transfers'],
    ['/volume-transfers/detail', 'transfers'],
  ];
  for (const [path, key] of lists) {
    const r = await get(path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.deepEqual(r.json, { [key]: [] });
  }
  const types = (await get('/types')).json.volume_types;
  assert.ok(types.length > 0);
  const enc = await get(`/types/${types[0].id}/encryption`);
  assert.equal(enc.status, 200, enc.text);
  assert.deepEqual(enc.json, {});
  assert.equal((await get('/types/00000000-0000-0000-0000-000000000000/encryption')).status, 404);
});
