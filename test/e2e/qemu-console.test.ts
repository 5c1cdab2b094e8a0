// The remote console on real QEMU (TCG): the API's noVNC URL carries a token; the websocket behind it reaches the
// guest's own VNC server (QEMU's RFB greeting), and noVNC's page is served from Debian's novnc package when present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { WebSocket } from 'ws';
import { V, qemuCloud, registerGuest, waitStatus } from './qemu-fixture.js';
import { defaults } from '../../src/config.js';

test("a QEMU guest's VNC console through the API's noVNC URL", { timeout: 300_000 }, async (t) => {
  const env = await qemuCloud(t);
  if (!env) return;
  const { c, guest } = env;
  const imageId = await registerGuest(c, guest);
  const create = await c.request('POST', `${V}/servers`, {
    token: c.adminToken,
    body: { server: { name: 'vnc1', imageRef: imageId, flavorRef: '42', networks: 'none' } },
    headers: { 'OpenStack-API-Version': 'compute 2.37' },
  });
  assert.equal(create.status, 202, create.text);
  const id = create.json.server.id as string;
  await waitStatus(c, id, 'ACTIVE');

  const r = await c.request('POST', `${V}/servers/${id}/remote-consoles`, {
    token: c.adminToken,
    body: { remote_console: { protocol: 'vnc', type: 'novnc' } },
    headers: { 'OpenStack-API-Version': 'compute 2.6' },
  });
  assert.equal(r.status, 200, r.text);
  const url = new URL(r.json.remote_console.url);
  assert.equal(url.pathname, '/console/vnc_lite.html');
  const path = url.searchParams.get('path')!;
  assert.match(path, /^console\/websockify\?token=[A-Za-z0-9_-]+$/);

  await c.controller.server.listen({ host: '127.0.0.1', port: 0 });
  const port = (c.controller.server.server.address() as { port: number }).port;
  const greeting = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/${path}`, ['binary']);
    let got = Buffer.alloc(0);
    ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
    ws.on('message', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 12) {
        ws.close();
        resolve(got.subarray(0, 12).toString('latin1'));
      }
    });
  });
  assert.equal(greeting, 'RFB 003.008\n');

  // A wrong token: the proxy closes the connection without sending a byte, as Tempest's test_novnc_bad_token expects.
  const bad = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/console/websockify?token=wrong`, ['binary']);
    ws.once('unexpected-response', (_q, res) => {
      resolve(`HTTP ${res.statusCode}`);
      ws.terminate();
    });
    ws.once('open', () => reject(new Error('a wrong token opened the console')));
    ws.once('error', () => resolve('closed'));
  });
  assert.equal(bad, 'closed');

  if (existsSync(`${defaults.console.novncDir}/vnc_lite.html`)) {
    const page = await c.request('GET', `/console/vnc_lite.html?path=${encodeURIComponent(path)}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /noVNC/);
    const rfb = await c.request('GET', '/console/core/rfb.js');
    assert.equal(rfb.status, 200);
  }

  const del = await c.request('DELETE', `${V}/servers/${id}`, { token: c.adminToken });
  assert.equal(del.status, 204);
  await waitStatus(c, id, 'DELETED');
});
