import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { makeImage, waitFor, V } from './helpers.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

test('accessIPv4/accessIPv6 are validated on create and update, and IPv6 is normalised', async () => {
  const tk = cloud.adminToken;
  const headers = { 'OpenStack-API-Version': 'compute 2.37' };
  const imageRef = await makeImage(cloud);
  const server = (extra: Record<string, unknown>) => ({
    server: { name: 'aip', imageRef, flavorRef: '42', networks: 'none', ...extra },
  });
  const bad4 = await cloud.request('POST', `${V}/servers`, {
    token: tk,
    headers,
    body: server({ accessIPv4: '300.1.2.3' }),
  });
  assert.equal(bad4.status, 400);
  assert.equal(bad4.json.badRequest.code, 400);
  assert.equal(
    (await cloud.request('POST', `${V}/servers`, { token: tk, headers, body: server({ accessIPv6: 'not-an-ip' }) }))
      .status,
    400,
  );
  const ok = await cloud.request('POST', `${V}/servers`, {
    token: tk,
    headers,
    body: server({ accessIPv4: '192.0.2.7', accessIPv6: '2001:DB8:0:0::1' }),
  });
  assert.equal(ok.status, 202, ok.text);
  const shown = await waitFor(cloud, tk, ok.json.server.id, 'ACTIVE');
  assert.equal(shown.accessIPv4, '192.0.2.7');
  assert.equal(shown.accessIPv6, '2001:db8::1');
  const id = ok.json.server.id;
  assert.equal(
    (
      await cloud.request('PUT', `${V}/servers/${id}`, {
        token: tk,
        headers,
        body: { server: { accessIPv4: '1.2.3' } },
      })
    ).status,
    400,
  );
  const upd = await cloud.request('PUT', `${V}/servers/${id}`, {
    token: tk,
    headers,
    body: { server: { accessIPv6: '2001:db8:0::2' } },
  });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.json.server.accessIPv6, '2001:db8::2');
});
