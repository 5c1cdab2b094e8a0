// A driver's facts about a guest (SSH forward, guest addresses) never enter the user's server metadata; the
// diagnostics (free-form view before 2.48) show them as gureum:* keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { V, makeImage, privateNet, waitFor } from './helpers.js';

test('driver facts: metadata stays exactly what the user set; diagnostics carry gureum:* keys', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const tok = c.adminToken;
  // The fake driver has no facts to tell; give it some, as the QEMU driver has (its SSH forward).
  const driver = c.controller.deps.compute.driver as unknown as {
    details?: (host: string, id: string) => Promise<Record<string, string>>;
  };
  driver.details = async () => ({ ssh: '127.0.0.1:2222', guest_network: 'user networking' });
  const req = (m: string, u: string, body?: unknown, ver = '2.1') =>
    c.request(m, u, { token: tok, body, headers: { 'X-OpenStack-Nova-API-Version': ver } });
  const imageId = await makeImage(c);
  const net = await privateNet(c);
  const r = await req('POST', `${V}/servers`, {
    server: { name: 'facts', imageRef: imageId, flavorRef: '1', networks: [{ uuid: net }], metadata: { owner: 'me' } },
  });
  assert.equal(r.status, 202, r.text);
  const id = r.json.server.id as string;
  const active = await waitFor(c, tok, id, 'ACTIVE');
  assert.deepEqual(active.metadata, { owner: 'me' });
  assert.equal((await req('POST', `${V}/servers/${id}/action`, { reboot: { type: 'SOFT' } })).status, 202);
  await waitFor(c, tok, id, 'ACTIVE');
  assert.deepEqual((await req('GET', `${V}/servers/${id}/metadata`)).json.metadata, { owner: 'me' });

  const diag = await req('GET', `${V}/servers/${id}/diagnostics`);
  assert.equal(diag.status, 200, diag.text);
  assert.equal(diag.json['gureum:ssh'], '127.0.0.1:2222');
  assert.equal(diag.json['gureum:guest_network'], 'user networking');
  const strict = await req('GET', `${V}/servers/${id}/diagnostics`, undefined, '2.48');
  assert.equal(strict.status, 200, strict.text);
  assert.equal('gureum:ssh' in strict.json, false, 'the 2.48 view keeps its fixed schema');
});
