// The web dashboard in a real Chromium against a real `gureum up` (fake hypervisor: this test is about the browser
// side; dashboard-console.test.ts boots the real tiny guest). One scenario, step by step, as a member, a second
// project's member and the admin would use it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requireCommands } from '../helpers/requirements.js';
import { startServer, getToken, type TestServer } from '../helpers/server.js';
import { request } from '../helpers/http.js';
import { artifactsDir, launchChromium } from '../helpers/browser.js';

const PASSWORD = 'dash-e2e-Secret-1';

interface World {
  srv: TestServer;
  adminToken: string;
  files: string;
  browser: Browser;
  shots: string;
}

async function api(w: World, method: string, path: string, json?: unknown, token = w.adminToken) {
  const r = await request(method, `${w.srv.baseUrl}${path}`, { token, ...(json !== undefined ? { json } : {}) });
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

/** A project with one member user. */
async function projectWithMember(w: World, project: string, user: string): Promise<void> {
  const p = (await api(w, 'POST', '/identity/v3/projects', { project: { name: project, domain_id: 'default' } }))
    .project;
  const u = (
    await api(w, 'POST', '/identity/v3/users', {
      user: { name: user, password: PASSWORD, domain_id: 'default', default_project_id: p.id },
    })
  ).user;
  const roles = (await api(w, 'GET', '/identity/v3/roles?name=member')).roles;
  await api(w, 'PUT', `/identity/v3/projects/${p.id}/users/${u.id}/roles/${roles[0].id}`);
}

async function signIn(page: Page, user: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function go(page: Page, _w: World, hash: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.locator('main h1').first().waitFor();
}

/** The row of a named item, once it shows a given status. */
const statusOf = (page: Page, name: string, status: string) =>
  page.locator(`tr[data-name="${name}"] [data-status="${status}"]`);

test('dashboard in Chromium: member, second project, admin', { timeout: 600_000 }, async (t: TestContext) => {
  if (!requireCommands(t, ['chromium', 'qemu-img'])) return;
  const srv = await startServer({
    env: { GUREUM_HYPERVISOR: 'fake', GUREUM_TINY_IMAGE: '0', GUREUM_LOG_LEVEL: 'warn' },
  });
  t.after(() => srv.stop());
  const files = mkdtempSync(join(tmpdir(), 'gureum-dash-e2e-'));
  t.after(() => rmSync(files, { recursive: true, force: true }));
  const chrome = await launchChromium();
  t.after(() => chrome.close());
  const w: World = {
    srv,
    adminToken: await getToken(srv.baseUrl, srv.admin),
    files,
    browser: chrome.browser,
    shots: artifactsDir('dashboard'),
  };
  await projectWithMember(w, 'dash-p1', 'alice');
  await projectWithMember(w, 'dash-p2', 'bob');
  // A private image of the admin project, and a hostile file: a qcow2 whose backing file is a host path.
  writeFileSync(join(files, 'disk.raw'), Buffer.alloc(2 * 1024 * 1024));
  execFileSync('qemu-img', [
    'create',
    '-q',
    '-f',
    'qcow2',
    '-b',
    '/etc/passwd',
    '-F',
    'raw',
    join(files, 'evil.qcow2'),
    '1M',
  ]);

  const context = await w.browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    locale: 'en-US',
  });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  // Confirmations are accepted; a prompt (the volume's new size) gets the answer a step sets up beforehand.
  let promptAnswer = '';
  page.on('dialog', (d) => void d.accept(d.type() === 'prompt' ? promptAnswer : undefined));
  // The token the page sends, to check where it is (not) kept and that logout revokes it.
  let seenToken = '';
  page.on('request', (r) => {
    const tok = r.headers()['x-auth-token'];
    if (tok) seenToken = tok;
  });
  const shot = (name: string) => page.screenshot({ path: join(w.shots, `${name}.png`) });
  /** One step; on failure a screenshot of the moment is kept next to the others. */
  const step = (name: string, fn: () => Promise<void>) =>
    t.test(name, async () => {
      try {
        await fn();
      } catch (e) {
        await page
          .screenshot({ path: join(w.shots, `FAILED-${name.replace(/\W+/g, '-').slice(0, 60)}.png`) })
          .catch(() => {});
        throw e;
      }
    });

  await step('wrong password is said plainly', async () => {
    await page.goto(`${srv.baseUrl}/`);
    await signIn(page, 'alice', 'not-the-password');
    await page.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor();
  });

  await step('member signs in; the token is in no storage and no cookie', async () => {
    await signIn(page, 'alice');
    await page.getByRole('heading', { name: 'Overview: dash-p1' }).waitFor();
    await page.locator('.meter').first().waitFor();
    assert.ok(seenToken.length > 10);
    const stored = String(
      await page.evaluate(
        'JSON.stringify(Object.assign({}, localStorage)) + JSON.stringify(Object.assign({}, sessionStorage)) + ' +
          'document.cookie',
      ),
    );
    assert.ok(!stored.includes(seenToken), 'token found in web storage or cookies');
    assert.deepEqual(await context.cookies(), []);
    await shot('overview');
  });

  await step('image upload with a progress bar, to active', async () => {
    await go(page, w, '#/images');
    await page.locator('input[name="image-file"]').setInputFiles(join(files, 'disk.raw'));
    await page.locator('input[name="image-name"]').fill('e2e-raw');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.locator('progress').waitFor();
    await page.getByText('Uploaded: the image is active').waitFor({ timeout: 60_000 });
    await statusOf(page, 'e2e-raw', 'active').waitFor({ timeout: 30_000 });
  });

  await step("a hostile qcow2 shows the inspector's refusal and leaves nothing behind", async () => {
    await page.locator('input[name="image-file"]').setInputFiles(join(files, 'evil.qcow2'));
    await page.locator('input[name="image-name"]').fill('evil');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByText('The cloud refused this image file.').waitFor({ timeout: 60_000 });
    const alert = page.getByRole('alert').filter({ hasText: /backing file/ });
    await alert.waitFor();
    assert.match(await alert.innerText(), /Request ID: req-/);
    await shot('images-refused');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('tr[data-name="evil"]').count(), 0, 'the refused image was deleted');
  });

  await step('network + subnet + router with gateway and interface', async () => {
    await go(page, w, '#/networks');
    await page.locator('input[name="network-name"]').fill('net1');
    await page.locator('input[name="subnet-cidr"]').fill('192.168.50.0/24');
    await page.getByRole('button', { name: 'Create' }).first().click();
    await page.locator('tr[data-name="net1"]').waitFor();
    await page.locator('input[name="router-name"]').fill('r1');
    await page.locator('select[name="router-subnet"]').selectOption({ label: 'net1-subnet (192.168.50.0/24)' });
    await page.getByRole('button', { name: 'Create' }).nth(1).click();
    await page.locator('tr[data-name="r1"]').waitFor();
    await page.locator('tr[data-name="r1"]').getByText('192.168.50.1').waitFor();
  });

  await step('launch through the wizard; ACTIVE on screen without a reload', async () => {
    await go(page, w, '#/instances');
    await page.getByRole('link', { name: 'Launch instance' }).click();
    await page.locator('input[name="instance-name"]').fill('web1');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: 'e2e-raw' }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: 'm1.nano' }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: /net1/ }).check();
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Next' }).click();
    await shot('launch-summary');
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    await page.getByRole('heading', { name: 'Instances' }).waitFor();
    await statusOf(page, 'web1', 'ACTIVE').waitFor({ timeout: 60_000 });
    await shot('instances');
  });

  await step('pause and unpause from the table; a 409 is a message and the table stays true', async () => {
    const row = page.locator('tr[data-name="web1"]');
    await row.locator('summary').click();
    await row.getByRole('button', { name: 'Pause', exact: true }).click();
    await statusOf(page, 'web1', 'PAUSED').waitFor({ timeout: 30_000 });
    await row.locator('summary').click();
    await row.getByRole('button', { name: 'Unpause', exact: true }).click();
    await statusOf(page, 'web1', 'ACTIVE').waitFor({ timeout: 30_000 });
    // The menu offers Pause; meanwhile someone pauses the server through the API: the click answers 409.
    await row.locator('summary').click();
    const id = (await api(w, 'GET', '/compute/v2.1/servers?name=web1&all_tenants=1')).servers[0].id as string;
    await api(w, 'POST', `/compute/v2.1/servers/${id}/action`, { pause: null });
    await row.getByRole('button', { name: 'Pause', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Not possible right now' });
    await alert.waitFor();
    assert.match(await alert.innerText(), /Request ID: req-/);
    await statusOf(page, 'web1', 'PAUSED').waitFor({ timeout: 30_000 });
    await row.locator('summary').click();
    await row.getByRole('button', { name: 'Unpause', exact: true }).click();
    await statusOf(page, 'web1', 'ACTIVE').waitFor({ timeout: 30_000 });
  });

  await step('floating IP on the instance; network, router, instance and FIP on the topology', async () => {
    await go(page, w, '#/networks');
    await page.locator('select[name="fip-port"] option', { hasText: 'web1' }).first().waitFor({ state: 'attached' });
    const value = await page
      .locator('select[name="fip-port"] option', { hasText: 'web1' })
      .first()
      .getAttribute('value');
    await page.locator('select[name="fip-port"]').selectOption(value!);
    await page.getByRole('button', { name: 'Allocate' }).click();
    await page
      .locator('td', { hasText: /^192\.168\.50\./ })
      .first()
      .waitFor();
    await go(page, w, '#/topology');
    const svg = page.locator('svg.topology');
    await svg.locator('[data-network="net1"]').waitFor();
    await svg.locator('[data-network="public"]').waitFor();
    await svg.locator('[data-device="r1"]').waitFor();
    await svg
      .locator('[data-device="web1"]')
      .getByText(/FIP 172\.24\.4\./)
      .waitFor();
    await shot('topology');
  });

  await step('expired token mid-wizard: back to login, the wizard keeps its input', async () => {
    await go(page, w, '#/launch');
    await page.locator('input[name="instance-name"]').fill('keepme');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: 'e2e-raw' }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: 'm1.nano' }).check();
    await page.getByRole('button', { name: '8. Summary' }).click();
    await request('DELETE', `${srv.baseUrl}/identity/v3/auth/tokens`, {
      token: w.adminToken,
      headers: { 'X-Subject-Token': seenToken },
    });
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    await page.getByText('Your session expired').waitFor();
    await signIn(page, 'alice');
    await page.getByRole('button', { name: '1. Details' }).click();
    assert.equal(await page.locator('input[name="instance-name"]').inputValue(), 'keepme');
    await page.getByRole('button', { name: '8. Summary' }).click();
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    await statusOf(page, 'keepme', 'ACTIVE').waitFor({ timeout: 60_000 });
  });

  await step('delete from the table', async () => {
    const row = page.locator('tr[data-name="keepme"]');
    await row.locator('summary').click();
    await row.getByRole('button', { name: 'Delete', exact: true }).click();
    await row.waitFor({ state: 'detached', timeout: 60_000 });
  });

  await step('volumes: create, extend, snapshot', async () => {
    promptAnswer = '2';
    await go(page, w, '#/volumes');
    await page.locator('input[name="volume-name"]').fill('vol1');
    await page.getByRole('button', { name: 'Create' }).click();
    const row = page.locator('tr[data-name="vol1"]');
    await row.locator('[data-status="available"]').waitFor({ timeout: 60_000 });
    await row.getByRole('button', { name: 'Extend' }).click();
    await row.getByText('2 GiB').waitFor({ timeout: 60_000 });
    await row.locator('[data-status="available"]').waitFor({ timeout: 60_000 });
    await row.getByRole('button', { name: 'Snapshot' }).click();
    await page.locator('tr[data-name="vol1-snap"] [data-status="available"]').waitFor({ timeout: 60_000 });
    await shot('volumes');
  });

  await step('the pages fit 390 px', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await go(page, w, '#/instances');
    await statusOf(page, 'web1', 'ACTIVE').waitFor();
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth'));
    assert.ok(overflow <= 390, `page is ${overflow} px wide at 390`);
    await shot('instances-390');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await step('Korean: the instance page translated', async () => {
    await page.getByLabel('Language').first().selectOption('ko');
    await page.getByRole('heading', { name: '인스턴스' }).waitFor();
    await page.getByRole('columnheader', { name: '상태' }).waitFor();
    await statusOf(page, 'web1', 'ACTIVE').getByText('활성').waitFor();
    await shot('instances-ko');
    await page.getByLabel('언어').first().selectOption('en');
  });

  await step('logout revokes the token', async () => {
    const token = seenToken;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const check = await request('GET', `${srv.baseUrl}/identity/v3/auth/tokens`, {
      token: w.adminToken,
      headers: { 'X-Subject-Token': token },
    });
    assert.equal(check.status, 404, 'the token still validates after logout');
  });

  await step("a second project's member sees none of the first project's resources", async () => {
    await signIn(page, 'bob');
    await page.getByRole('heading', { name: 'Overview: dash-p2' }).waitFor();
    await go(page, w, '#/instances');
    await page.getByText('No instances.').waitFor();
    await go(page, w, '#/networks');
    await page.locator('tr[data-name="public"]').waitFor();
    assert.equal(await page.locator('tr[data-name="net1"]').count(), 0);
    assert.equal(await page.locator('tr[data-name="r1"]').count(), 0);
    await go(page, w, '#/images');
    await page.locator('table').waitFor();
    assert.equal(await page.locator('tr[data-name="e2e-raw"]').count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Hypervisors' }).count(), 0, 'admin pages offered to a member');
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  await step('admin: hypervisors and all instances with their host', async () => {
    await signIn(page, 'admin', srv.admin.password);
    await page.getByRole('heading', { name: 'Overview: admin' }).waitFor();
    await go(page, w, '#/admin/hypervisors');
    await page.locator('[data-hypervisor]').first().waitFor();
    await shot('admin-hypervisors');
    await go(page, w, '#/admin/instances');
    const row = page.locator('tr[data-name="web1"]');
    await row.waitFor();
    assert.notEqual((await row.locator('td').nth(6).innerText()).trim(), '', 'no host shown');
    await shot('admin-instances');
    for (const p of ['networks', 'images', 'security-groups', 'api-access', 'keypairs']) {
      await go(page, w, `#/${p}`);
      await page.waitForTimeout(300);
      await shot(p);
    }
  });

  assert.deepEqual(cspViolations, [], 'the page broke its own Content-Security-Policy');
});
