// The remote console: Nova's console APIs hand out noVNC URLs with single-instance tokens, and /console/websockify
// bridges a websocket to the guest's VNC socket. The fake driver is given per-instance stand-in VNC servers here
// (each greets with RFB 003.008 and names its instance) so the bridge can be checked without QEMU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { V, makeImage, waitFor } from '../compute/helpers.js';

/** Opens a websocket; resolves with the first message, or rejects with the HTTP status of a refused upgrade. */
function firstMessage(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary']);
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.once('error', reject);
    ws.once('message', (data: Buffer) => {
      resolve(Buffer.from(data));
      ws.close();
    });
  });
}

/**
 * Sends a websocket upgrade as Tempest's test_novnc_bad_token does (a raw socket) and resolves with every byte the
 * server sent before it closed the connection.
 */
function rawUpgrade(port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('connect', () =>
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ' +
          'binary\r\n\r\n',
      ),
    );
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(got)));
  });
}

async function create(c: TestCloud, image: string, name: string): Promise<string> {
  const r = await c.request('POST', `${V}/servers`, {
    token: c.adminToken,
    body: { server: { name, imageRef: image, flavorRef: '1', networks: 'none' } },
    headers: { 'OpenStack-API-Version': 'compute 2.37' },
  });
  assert.equal(r.status, 202, r.text);
  await waitFor(c, c.adminToken, r.json.server.id, 'ACTIVE');
  return r.json.server.id as string;
}

const tokenOf = (url: string): string =>
  new URLSearchParams(decodeURIComponent(new URL(url).searchParams.get('path')!).split('?')[1]).get('token')!;

test('remote console tokens and the websocket bridge', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gureum-console-test-'));
  const c = await createTestCloud({ config: { console: { novncDir: join(dir, 'novnc') } } });
  const servers: Server[] = [];
  t.after(async () => {
    for (const s of servers) s.close();
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const image = await makeImage(c);
  const a = await create(c, image, 'console-a');
  const b = await create(c, image, 'console-b');
  const getVnc = (id: string, body: unknown = { 'os-getVNCConsole': { type: 'novnc' } }) =>
    c.request('POST', `${V}/servers/${id}/action`, { token: c.adminToken, body });

  await t.test('a driver without consoles answers ConsoleTypeUnavailable; serial is never enabled', async () => {
    const r = await getVnc(a);
    assert.equal(r.status, 400);
    assert.equal(r.json.badRequest.message, 'Unavailable console type novnc.');
    const s = await getVnc(a, { 'os-getSerialConsole': { type: 'serial' } });
    assert.equal(s.status, 400);
    assert.equal(s.json.badRequest.message, 'Unavailable console type serial.');
    const rc = await c.request('POST', `${V}/servers/${a}/remote-consoles`, {
      token: c.adminToken,
      body: { remote_console: { protocol: 'serial', type: 'serial' } },
      headers: { 'OpenStack-API-Version': 'compute 2.6' },
    });
    assert.equal(rc.status, 400);
    assert.equal(rc.json.badRequest.message, 'Unavailable console type serial.');
  });

  // Stand-in VNC servers, one per instance, behind the fake driver.
  const driver = c.controller.deps.compute.driver!;
  const sockets = new Map<string, string>();
  for (const id of [a, b]) {
    const path = join(dir, `${id.slice(0, 8)}.vnc`);
    const srv = createServer((sock) => {
      sock.write(`RFB 003.008\n${id}\n`);
      sock.on('data', (d) => sock.write(Buffer.concat([Buffer.from('echo:'), d])));
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => srv.listen(path, () => r()));
    servers.push(srv);
    sockets.set(id, path);
  }
  Object.defineProperty(driver, 'consoleProtocols', { value: ['vnc'] });
  driver.consoleSocket = async (_host, id) => sockets.get(id) ?? null;
  await c.controller.server.listen({ host: '127.0.0.1', port: 0 });
  const port = (c.controller.server.server.address() as { port: number }).port;
  const wsUrl = (token: string) => `ws://127.0.0.1:${port}/console/websockify?token=${encodeURIComponent(token)}`;

  let tokenA = '';
  let tokenB = '';
  await t.test('os-getVNCConsole and remote-consoles return a noVNC URL on the main port', async () => {
    const r = await getVnc(a);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.console.type, 'novnc');
    assert.match(
      r.json.console.url,
      /^http:\/\/gureum\.test\/console\/vnc_lite\.html\?path=console%2Fwebsockify%3Ftoken%3D[A-Za-z0-9_-]{43}$/,
    );
    tokenA = tokenOf(r.json.console.url);
    const rc = await c.request('POST', `${V}/servers/${b}/remote-consoles`, {
      token: c.adminToken,
      body: { remote_console: { protocol: 'vnc', type: 'novnc' } },
      headers: { 'OpenStack-API-Version': 'compute 2.6' },
    });
    assert.equal(rc.status, 200, rc.text);
    assert.deepEqual([rc.json.remote_console.protocol, rc.json.remote_console.type], ['vnc', 'novnc']);
    tokenB = tokenOf(rc.json.remote_console.url);
    assert.notEqual(tokenA, tokenB);
    const rows = await c.controller.store.db.selectFrom('console_auth_tokens').selectAll().execute();
    assert.ok(
      rows.every((row) => row.token_hash !== tokenA && row.token_hash !== tokenB),
      'tokens are stored hashed',
    );
    const xvp = await getVnc(a, { 'os-getVNCConsole': { type: 'xvpvnc' } });
    assert.equal(xvp.status, 400);
  });

  await t.test("a token opens its own instance's VNC socket and no other", async () => {
    const ma = (await firstMessage(wsUrl(tokenA))).toString();
    assert.equal(ma, `RFB 003.008\n${a}\n`);
    const mb = (await firstMessage(wsUrl(tokenB))).toString();
    assert.equal(mb, `RFB 003.008\n${b}\n`);
    // Client bytes reach the guest's socket (binary frames both ways).
    const echoed = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(wsUrl(tokenA), ['binary']);
      let got = '';
      ws.on('error', reject);
      ws.on('open', () => ws.send(Buffer.from([0x52, 0x46, 0x42])));
      ws.on('message', (d: Buffer) => {
        got += d.toString();
        if (got.includes('echo:RFB')) {
          ws.close();
          resolve(got);
        }
      });
    });
    assert.ok(echoed.includes(a) && !echoed.includes(b));
  });

  await t.test(
    'a wrong or expired token: the connection is closed without a byte sent (Tempest test_novnc_bad_token)',
    async () => {
      const refused = async (token: string | null) =>
        assert.equal(
          (await rawUpgrade(port, `/console/websockify${token === null ? '' : `?token=${encodeURIComponent(token)}`}`))
            .length,
          0,
        );
      await refused('not-a-token');
      await refused(null);
      await refused(`bad${tokenA}`);
      const plain = await c.request('GET', `/console/websockify?token=${encodeURIComponent(tokenA)}`);
      assert.equal(plain.status, 426, 'a valid token without an upgrade is told to upgrade');
      assert.equal((await c.request('GET', '/console/websockify?token=nope')).status, 401);
      await c.controller.store.db
        .updateTable('console_auth_tokens')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .execute();
      await refused(tokenA);
      assert.equal((await c.request('GET', `/console/websockify?token=${encodeURIComponent(tokenB)}`)).status, 401);
      assert.equal(await c.controller.deps.console.purgeExpired(), 2);
    },
  );

  await t.test(
    "a stopped instance has no console (409); a deleted one's token is refused (closed unanswered)",
    async () => {
      const r = await getVnc(a);
      const t1 = tokenOf(r.json.console.url);
      await c.request('POST', `${V}/servers/${a}/action`, { token: c.adminToken, body: { 'os-stop': null } });
      await waitFor(c, c.adminToken, a, 'SHUTOFF');
      await assert.rejects(firstMessage(wsUrl(t1)), (e: any) => e.status === 409);
      assert.equal((await getVnc(a)).status, 409, 'no console for a stopped server');
      const rb = await getVnc(b);
      const t2 = tokenOf(rb.json.console.url);
      assert.equal((await c.request('DELETE', `${V}/servers/${b}`, { token: c.adminToken })).status, 204);
      await waitFor(c, c.adminToken, b, 'DELETED');
      assert.equal((await rawUpgrade(port, `/console/websockify?token=${encodeURIComponent(t2)}`)).length, 0);
    },
  );

  await t.test('a user of another project cannot get a console for the server', async () => {
    const other = await c.request('POST', '/identity/v3/projects', {
      token: c.adminToken,
      body: { project: { name: 'console-other', domain_id: 'default' } },
    });
    const u = await c.request('POST', '/identity/v3/users', {
      token: c.adminToken,
      body: { user: { name: 'console-user', password: 'pw-console-1', default_project_id: other.json.project.id } },
    });
    const roles = await c.request('GET', '/identity/v3/roles?name=member', { token: c.adminToken });
    await c.request(
      'PUT',
      `/identity/v3/projects/${other.json.project.id}/users/${u.json.user.id}/roles/${roles.json.roles[0].id}`,
      { token: c.adminToken },
    );
    const tok = await c.login('console-user', 'pw-console-1', 'console-other');
    const r = await c.request('POST', `${V}/servers/${a}/action`, {
      token: tok,
      body: { 'os-getVNCConsole': { type: 'novnc' } },
    });
    assert.equal(r.status, 404);
  });

  await t.test('noVNC files are served from disk; traversal and links out of the folder are refused', async () => {
    const root = join(dir, 'novnc');
    mkdirSync(join(root, 'core'), { recursive: true });
    writeFileSync(join(root, 'vnc_lite.html'), '<html>lite</html>');
    writeFileSync(join(root, 'core', 'rfb.js'), 'export default 1;');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    symlinkSync(join(dir, 'secret.txt'), join(root, 'escape.html'));
    symlinkSync('vnc_lite.html', join(root, 'vnc_auto.html'));
    {
      const page = await c.request('GET', '/console/vnc_lite.html?path=console%2Fwebsockify%3Ftoken%3Dx');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /text\/html/);
      assert.equal(page.text, '<html>lite</html>');
      const js = await c.request('GET', '/console/core/rfb.js');
      assert.match(String(js.headers['content-type']), /javascript/);
      assert.equal((await c.request('GET', '/console/vnc_auto.html')).status, 200, 'a link inside the folder is fine');
      for (const bad of [
        '/console/escape.html',
        '/console/..%2fsecret.txt',
        '/console/%2e%2e/secret.txt',
        '/console/core/..%2f..%2fsecret.txt',
        '/console/core%5c..%5c..%5csecret.txt',
        '/console/nothing.js',
        '/console/core',
      ]) {
        const r = await c.request('GET', bad);
        assert.equal(r.status, 404, bad);
        assert.ok(!r.text.includes('secret'), bad);
      }
      renameSync(root, join(dir, 'novnc-gone'));
      const none = await c.request('GET', '/console/vnc_lite.html');
      assert.equal(none.status, 404);
      assert.match(none.text, /novnc/);
    }
  });

  await t.test('console routes are not in the service catalog', async () => {
    const r = await c.request('GET', '/identity/v3/services', { token: c.adminToken });
    assert.ok(!r.json.services.some((s: any) => s.type === 'console'));
  });
});
