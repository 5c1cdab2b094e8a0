// OS-DCF:diskConfig is the server's own setting: kept across create, update, rebuild and resize (Tempest's
// test_disk_config), whatever the driver; anything but AUTO or MANUAL is a 400.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { V, makeImage, privateNet, waitFor } from './helpers.js';

test('OS-DCF:diskConfig is kept through create, update, rebuild and resize', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const tok = c.adminToken;
  const req = (m: string, u: string, body?: unknown) => c.request(m, u, { token: tok, body });
  const imageId = await makeImage(c);
  const net = await privateNet(c);
  const dc = async (id: string) => (await req('GET', `${V}/servers/${id}`)).json.server['OS-DCF:diskConfig'];

  const made = await req('POST', `${V}/servers`, {
    server: { name: 'dc', imageRef: imageId, flavorRef: '1', networks: [{ uuid: net }], 'OS-DCF:diskConfig': 'AUTO' },
  });
  assert.equal(made.status, 202, made.text);
  assert.equal(made.json.server['OS-DCF:diskConfig'], 'AUTO');
  const id = made.json.server.id as string;
  await waitFor(c, tok, id, 'ACTIVE');
  assert.equal(await dc(id), 'AUTO');

  const upd = await req('PUT', `${V}/servers/${id}`, { server: { 'OS-DCF:diskConfig': 'MANUAL' } });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.json.server['OS-DCF:diskConfig'], 'MANUAL');
  assert.equal(await dc(id), 'MANUAL');

  const rb = await req('POST', `${V}/servers/${id}/action`, {
    rebuild: { imageRef: imageId, 'OS-DCF:diskConfig': 'AUTO' },
  });
  assert.equal(rb.status, 202, rb.text);
  await waitFor(c, tok, id, 'ACTIVE');
  assert.equal(await dc(id), 'AUTO');

  const rs = await req('POST', `${V}/servers/${id}/action`, {
    resize: { flavorRef: '2', 'OS-DCF:diskConfig': 'MANUAL' },
  });
  assert.equal(rs.status, 202, rs.text);
  await waitFor(c, tok, id, 'VERIFY_RESIZE');
  assert.equal((await req('POST', `${V}/servers/${id}/action`, { confirmResize: null })).status, 204);
  await waitFor(c, tok, id, 'ACTIVE');
  assert.equal(await dc(id), 'MANUAL');

  for (const bad of [{ server: { 'OS-DCF:diskConfig': 'auto' } }, { server: { 'OS-DCF:diskConfig': 1 } }]) {
    const r = await req('PUT', `${V}/servers/${id}`, bad);
    assert.equal(r.status, 400, r.text);
    assert.ok(r.json.badRequest, r.text);
  }
  assert.equal(
    (await req('POST', `${V}/servers/${id}/action`, { rebuild: { imageRef: imageId, 'OS-DCF:diskConfig': 'X' } }))
      .status,
    400,
  );
  assert.equal(await dc(id), 'MANUAL', 'a refused request changes nothing');
});
