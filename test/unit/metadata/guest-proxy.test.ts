// The guest proxy as QEMU runs it (a child process per connection, the guest's socket on stdin/stdout) against a
// fake controller that checks the signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  GUEST_PROXY_PATH,
  metadataProxyCommand,
  guestfwdOption,
  shellWord,
} from '../../../src/services/metadata/index.js';
import { readGuestRequest, safePath, BadGuestRequest } from '../../../src/services/metadata/guest-proxy.js';
import { verifyInstanceId } from '../../../src/services/metadata/signing.js';

const SECRET = 'f'.repeat(64);

async function fakeController(): Promise<{
  url: string;
  seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}> {
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const id = String(req.headers['x-instance-id'] ?? '');
      if (!verifyInstanceId(SECRET, id, String(req.headers['x-instance-id-signature'] ?? ''))) {
        res.writeHead(403).end('no');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello ${id} ${req.url}`);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

function runProxy(argv: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => {
      out += c;
    });
    p.on('error', reject);
    p.on('exit', () => resolve(out));
    p.stdin.end(input);
  });
}

test("the proxy forwards the guest's request signed for its own instance, whatever the guest claims", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-'));
  const ctl = await fakeController();
  t.after(async () => {
    await ctl.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const keyFile = join(dir, 'secret');
  writeFileSync(keyFile, `${SECRET}\n`, { mode: 0o600 });
  const argv = metadataProxyCommand({ instanceId: 'inst-A', controllerUrl: ctl.url, secretFile: keyFile });
  assert.equal(argv[1], GUEST_PROXY_PATH);
  const out = await runProxy(
    argv,
    'GET /openstack/latest/meta_data.json HTTP/1.1\r\nHost: 169.254.169.254\r\nX-Instance-ID: ' +
      'inst-B\r\nX-Instance-ID-Signature: 00\r\n\r\n',
  );
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out, /Connection: close\r\n/);
  assert.ok(out.endsWith('hello inst-A /metadata-internal/openstack/latest/meta_data.json'), out);
  assert.equal(ctl.seen[0]!.headers['x-instance-id'], 'inst-A');

  const post = await runProxy(argv, 'POST /openstack/latest/password HTTP/1.0\r\nContent-Length: 6\r\n\r\nsecret');
  assert.match(post, /^HTTP\/1\.1 200/);
  assert.equal(ctl.seen[1]!.method, 'POST');
  assert.equal(ctl.seen[1]!.body, 'secret');

  const bad = await runProxy(argv, 'GET /../identity/v3 HTTP/1.1\r\n\r\n');
  assert.match(bad, /^HTTP\/1\.1 400 /);
  assert.equal(ctl.seen.length, 2, 'a bad path never reaches the controller');
});

test('a wrong key file gives the guest a 403 from the controller; no controller gives a 502', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-'));
  const ctl = await fakeController();
  t.after(async () => {
    await ctl.close();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'other'), `${'0'.repeat(64)}\n`);
  const wrong = await runProxy(
    metadataProxyCommand({ instanceId: 'inst-A', controllerUrl: ctl.url, secretFile: join(dir, 'other') }),
    'GET / HTTP/1.1\r\n\r\n',
  );
  assert.match(wrong, /^HTTP\/1\.1 403 /);
  await ctl.close();
  const down = await runProxy(
    metadataProxyCommand({ instanceId: 'inst-A', controllerUrl: ctl.url, secretFile: join(dir, 'other') }),
    'GET / HTTP/1.1\r\n\r\n',
  );
  assert.match(down, /^HTTP\/1\.1 502 /);
  const nokey = await runProxy(
    metadataProxyCommand({ instanceId: 'inst-A', controllerUrl: ctl.url, secretFile: join(dir, 'missing') }),
    'GET / HTTP/1.1\r\n\r\n',
  );
  assert.match(nokey, /^HTTP\/1\.1 500 /);
});

test('request parsing: split packets, bodies, limits, malformed lines', async () => {
  const s = new PassThrough();
  const p = readGuestRequest(s);
  s.write('POST /x HTTP/1.1\r\nContent-Ty');
  s.write('pe: text/plain\r\nContent-Length: 3\r\n\r\nab');
  s.end('c');
  assert.deepEqual(await p, { method: 'POST', path: '/x', contentType: 'text/plain', body: Buffer.from('abc') });
  const cases = [
    'garbage\r\n\r\n',
    'GET /x HTTP/1.1\r\nContent-Length: 999999\r\n\r\n',
    'GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab',
  ];
  for (const c of cases) {
    const st = new PassThrough();
    const r = readGuestRequest(st);
    st.end(c);
    await assert.rejects(r, BadGuestRequest, JSON.stringify(c));
  }
  assert.equal(safePath('http://169.254.169.254/latest/meta-data/'), '/latest/meta-data/');
  for (const bad of ['x', '/a/%2e%2e/b', '/a/../b', '/a#b', '/a\\b'])
    assert.throws(() => safePath(bad), BadGuestRequest, bad);
});

test('guestfwd option: words quoted for GLib, commas doubled for QEMU', () => {
  assert.equal(shellWord('/usr/bin/node'), '/usr/bin/node');
  assert.equal(shellWord("it's a,b"), "'it'\\''s a,b'");
  assert.equal(guestfwdOption(['/n', '--url', 'http://x/a,b']), "tcp:169.254.169.254:80-cmd:/n --url 'http://x/a,,b'");
});
