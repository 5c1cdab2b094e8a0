// Horizon as a judge: Debian's stock openstack-dashboard, run with Django's own server on loopback against a fresh
// `gureum up`, logs in as a member and as admin and loads every panel page its navigation offers (Horizon shows only
// panels for services in the catalog). Every page must answer 200 with no error or warning message, and Overview must
// show its usage table for a project with servers (it used to loop forever on os-simple-tenant-usage paging).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, getToken, startServer } from '../helpers/server.js';
import { request } from '../helpers/http.js';
import { REPO_ROOT, requireOrSkip } from '../helpers/requirements.js';
import { DEBIAN_PYTHON } from '../helpers/openstack.js';

const MANAGE_PY = '/usr/share/openstack-dashboard/manage.py';
const CRAWL_PY = join(REPO_ROOT, 'test', 'compat', 'horizon', 'crawl.py');

interface Page {
  url: string;
  status: number | null;
  seconds: number;
  errors: string[];
  title: string;
  found: string[];
}
interface Report {
  login: { status: number; url: string; errors?: string[] };
  pages: Page[];
}

/** Horizon's settings for this run: the package's own, pointed at the test server, with nothing written to /etc. */
function settingsModule(dir: string): void {
  writeFileSync(
    join(dir, 'gureum_horizon_settings.py'),
    [
      'import os',
      'from openstack_dashboard.settings import *  # noqa: F401,F403 (the package settings, then ours)',
      "OPENSTACK_KEYSTONE_URL = os.environ['GUREUM_KEYSTONE_URL']",
      "SECRET_KEY = os.environ['GUREUM_HORIZON_SECRET']",
      "ALLOWED_HOSTS = ['127.0.0.1']",
      'DEBUG = False',
      "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}",
      // Sessions in signed cookies: no database and no memcached for a test.
      "SESSION_ENGINE = 'django.contrib.sessions.backends.signed_cookies'",
      '',
    ].join('\n'),
  );
}

/** Runs the crawler as one user; resolves with its report. */
function crawl(base: string, username: string, password: string, lookFor: string[]): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(DEBIAN_PYTHON, [CRAWL_PY, base, username], {
      env: {
        ...process.env,
        HORIZON_PASSWORD: password,
        HORIZON_LOOK_FOR: lookFor.join(','),
        PYTHONWARNINGS: 'ignore',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`crawl.py exited ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out) as Report);
      } catch {
        reject(new Error(`crawl.py printed no report: ${out.slice(0, 500)} ${err.slice(-1000)}`));
      }
    });
  });
}

async function waitHttp(url: string, child: ChildProcess, logs: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Horizon exited ${child.exitCode}: ${logs()}`);
    const ok = await fetch(url).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Horizon did not answer ${url}: ${logs()}`);
}

test('Horizon (Debian openstack-dashboard) renders every panel for a member and for admin', {
  timeout: 900_000,
}, async (t) => {
  if (
    !requireOrSkip(
      t,
      existsSync(MANAGE_PY) && existsSync(DEBIAN_PYTHON),
      'needs Debian openstack-dashboard (node scripts/prepare.mjs --for test installs it)',
    )
  )
    return;
  const server = await startServer({ env: { GUREUM_HYPERVISOR: 'fake' }, readyTimeoutMs: 120_000 });
  const work = mkdtempSync(join(tmpdir(), 'gureum-horizon-'));
  let horizon: ChildProcess | undefined;
  t.after(async () => {
    if (horizon && horizon.exitCode === null) {
      horizon.kill('SIGTERM');
      await new Promise((r) => horizon!.once('close', r));
    }
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  // A member in a project of their own with two servers; admin's project gets one.
  const api = server.baseUrl;
  const admin = await getToken(api, server.admin);
  const call = async (token: string, method: string, path: string, json?: unknown, want?: number) => {
    const r = await request(method, `${api}${path}`, { token, json });
    if (want !== undefined) assert.equal(r.status, want, `${method} ${path}: ${r.status} ${r.text}`);
    return r.body as any;
  };
  const suffix = randomBytes(3).toString('hex');
  const project = (
    await call(admin, 'POST', '/identity/v3/projects', { project: { name: `hz-${suffix}`, domain_id: 'default' } }, 201)
  ).project;
  const memberPassword = `pw-${randomBytes(8).toString('hex')}`;
  const user = (
    await call(
      admin,
      'POST',
      '/identity/v3/users',
      { user: { name: `hz-member-${suffix}`, password: memberPassword, default_project_id: project.id } },
      201,
    )
  ).user;
  const memberRole = (await call(admin, 'GET', '/identity/v3/roles?name=member', undefined, 200)).roles[0].id;
  await call(admin, 'PUT', `/identity/v3/projects/${project.id}/users/${user.id}/roles/${memberRole}`, undefined, 204);
  const member = await getToken(api, {
    username: user.name,
    password: memberPassword,
    projectName: project.name,
    domainName: 'Default',
  });
  const image = (
    await call(
      admin,
      'POST',
      '/image/v2/images',
      { name: 'hz-image', disk_format: 'raw', container_format: 'bare', visibility: 'public' },
      201,
    )
  ).id;
  const up = await fetch(`${api}/image/v2/images/${image}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': admin, 'Content-Type': 'application/octet-stream' },
    body: new Uint8Array(4096),
  });
  assert.equal(up.status, 204);
  const boot = async (token: string, name: string) => {
    // networks 'auto' (2.37) gives the member's project a network of its own.
    const made = await request('POST', `${api}/compute/v2.1/servers`, {
      token,
      json: { server: { name, imageRef: image, flavorRef: '1', networks: 'auto' } },
      headers: { 'OpenStack-API-Version': 'compute 2.37' },
    });
    assert.equal(made.status, 202, made.text);
    const r = made.body as any;
    for (let i = 0; i < 300; i++) {
      const s = (await call(token, 'GET', `/compute/v2.1/servers/${r.server.id}`, undefined, 200)).server;
      if (s.status === 'ACTIVE') return;
      assert.notEqual(s.status, 'ERROR', JSON.stringify(s.fault));
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.fail(`${name} did not become ACTIVE`);
  };
  const memberServers = [`hz-m1-${suffix}`, `hz-m2-${suffix}`];
  for (const n of memberServers) await boot(member, n);
  const adminServer = `hz-a1-${suffix}`;
  await boot(admin, adminServer);

  settingsModule(work);
  const port = await freePort();
  let logs = '';
  horizon = spawn(DEBIAN_PYTHON, [MANAGE_PY, 'runserver', '--noreload', `127.0.0.1:${port}`], {
    cwd: work,
    env: {
      ...process.env,
      PYTHONPATH: work,
      DJANGO_SETTINGS_MODULE: 'gureum_horizon_settings',
      PYTHONWARNINGS: 'ignore',
      GUREUM_KEYSTONE_URL: server.authUrl,
      GUREUM_HORIZON_SECRET: randomBytes(24).toString('hex'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    logs = (logs + d.toString()).slice(-20_000);
  };
  horizon.stdout!.on('data', keep);
  horizon.stderr!.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  await waitHttp(`${base}/auth/login/`, horizon, () => logs, 180_000);

  const judge = (who: string, report: Report, servers: string[], dashboards: string[]) => {
    assert.equal(report.login.status, 200, `${who} login: ${JSON.stringify(report.login)}`);
    assert.ok(
      !report.login.url.startsWith('/auth/login'),
      `${who} could not log in: ${JSON.stringify(report.login)}\n${logs.slice(-3000)}`,
    );
    const bad = report.pages.filter((p) => p.status !== 200 || p.errors.length > 0);
    assert.deepEqual(
      bad.map((p) => `${p.url} ${p.status} ${p.errors.join(' | ')}`),
      [],
      `${who}: pages with errors\n${logs.slice(-3000)}`,
    );
    for (const d of dashboards)
      assert.ok(
        report.pages.some((p) => p.url.startsWith(`/${d}/`)),
        `${who} sees no ${d} pages`,
      );
    const overview = report.pages.find((p) => p.url === '/project/');
    assert.ok(overview, `${who}: Overview not offered`);
    assert.deepEqual(
      [...overview.found].sort(),
      [...servers].sort(),
      `${who}: Overview's usage table lists the project's servers`,
    );
    t.diagnostic(`${who}: ${report.pages.length} pages, slowest ${Math.max(...report.pages.map((p) => p.seconds))} s`);
  };
  const asMember = await crawl(base, user.name, memberPassword, [...memberServers, adminServer]);
  judge('member', asMember, memberServers, ['project']);
  assert.ok(!asMember.pages.some((p) => p.url.startsWith('/admin/')), 'a member is offered no admin panels');
  const asAdmin = await crawl(base, server.admin.username, server.admin.password, [...memberServers, adminServer]);
  judge('admin', asAdmin, [adminServer], ['project', 'admin', 'identity']);
  const adminInstances = asAdmin.pages.find((p) => p.url === '/admin/instances/');
  assert.deepEqual(
    [...(adminInstances?.found ?? [])].sort(),
    [...memberServers, adminServer].sort(),
    "admin sees every project's servers",
  );
  t.diagnostic(`horizon pages: member ${asMember.pages.length}, admin ${asAdmin.pages.length}`);
});
