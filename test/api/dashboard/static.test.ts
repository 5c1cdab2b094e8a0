import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { DASHBOARD_CSP, registerDashboard } from '../../../src/api/dashboard/index.js';
import { createTestCloud } from '../../helpers/cloud.js';

async function fakeBundle(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gureum-dash-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-abc.js"></script>');
  await writeFile(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
  await writeFile(join(dir, 'secret.txt'), 'not an asset');
  return dir;
}

test('serves index.html with a strict CSP and no caching', async (t) => {
  const dir = await fakeBundle();
  const app = Fastify();
  t.after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });
  registerDashboard(app, dir);
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/html/);
  assert.equal(res.headers['content-security-policy'], DASHBOARD_CSP);
  assert.match(DASHBOARD_CSP, /script-src 'self'(;|$)/, 'no inline or eval script allowed');
  assert.doesNotMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval|\*/);
  assert.match(DASHBOARD_CSP, /frame-ancestors 'none'/);
  assert.equal(res.headers['cache-control'], 'no-cache');
  assert.equal(res.headers['x-frame-options'], 'DENY');
});

test('hashed assets are cached for a year; anything else below the bundle is not served', async (t) => {
  const dir = await fakeBundle();
  const app = Fastify();
  t.after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });
  registerDashboard(app, dir);
  const js = await app.inject({ method: 'GET', url: '/assets/index-abc.js' });
  assert.equal(js.statusCode, 200);
  assert.match(String(js.headers['content-type']), /text\/javascript/);
  assert.match(String(js.headers['cache-control']), /max-age=31536000, immutable/);
  for (const url of [
    '/assets/..%2Fsecret.txt',
    '/assets/../secret.txt',
    '/assets/.hidden',
    '/assets/missing.js',
    '/secret.txt',
  ]) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
  }
});

test('without a built bundle / answers 503 with what to do', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gureum-dash-empty-'));
  const app = Fastify();
  t.after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });
  registerDashboard(app, dir);
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /npm run build/);
});

test('the dashboard does not shadow the API prefixes or /healthz', async (t) => {
  const cloud = await createTestCloud();
  t.after(() => cloud.close());
  assert.equal((await cloud.request('GET', '/healthz')).status, 200);
  assert.equal((await cloud.request('GET', '/identity/v3')).status, 200);
  const root = await cloud.request('GET', '/');
  assert.ok([200, 503].includes(root.status), `GET / answered ${root.status}`);
  // An unknown path is still the API's 404 body, not the dashboard's page.
  const missing = await cloud.request('GET', '/no-such-thing');
  assert.equal(missing.status, 404);
});
