// The dashboard with a real guest: a member launches the default tiny image through the wizard in Chromium, sees
// it turn ACTIVE without a reload, the console log reach the guest's finished line, and the embedded noVNC console
// draw the guest's screen (a screenshot is kept under .artifacts/dashboard-console/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINISHED_MARK } from '../../src/imaging/tiny/index.js';
import { registerTinyImage } from '../../src/imaging/tiny/register.js';
import { defaults } from '../../src/config.js';
import { requireCommands, requireOrSkip } from '../helpers/requirements.js';
import { artifactsDir, launchChromium } from '../helpers/browser.js';
import { V, qemuCloud, waitStatus } from './qemu-fixture.js';

const CACHE = process.env.GUREUM_TINY_CACHE || join(tmpdir(), 'gureum-tiny-cache');
const PASSWORD = 'console-e2e-Secret-1';

/** Counts the canvas pixels that are not black: the guest's screen drawn by noVNC (run inside the console frame). */
const LIT_PIXELS = `(() => {
  const c = document.querySelector('canvas');
  if (!c || c.width < 100) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 60) n++;
  return n;
})()`;

test('dashboard console: launch tiny in the wizard, ACTIVE, console log finished, noVNC drawn', {
  timeout: 900_000,
}, async (t) => {
  if (!requireCommands(t, ['chromium', 'mke2fs'])) return;
  if (
    !requireOrSkip(
      t,
      existsSync(join(defaults.console.novncDir, 'vnc_lite.html')),
      'needs noVNC (Debian package novnc)',
    )
  )
    return;
  const env = await qemuCloud(t);
  if (!env) return;
  const { c } = env;
  const reg = await registerTinyImage(c.controller.deps.image, {
    adminProjectId: c.controller.bootstrap.adminProjectId,
    cacheDir: CACHE,
  });
  if (reg.status === 'skipped') assert.fail(`the tiny image was not built (a product failure): ${reg.reason}`);
  await c.controller.server.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(c.controller.server.server.address() as AddressInfo).port}`;
  c.controller.deps.metadata.setControllerUrl(base);

  // A project with a member, and a network of its own.
  const admin = c.adminToken;
  const project = (
    await c.request('POST', '/identity/v3/projects', {
      token: admin,
      body: { project: { name: 'console-p', domain_id: 'default' } },
    })
  ).json.project;
  const user = (
    await c.request('POST', '/identity/v3/users', {
      token: admin,
      body: { user: { name: 'carol', password: PASSWORD, domain_id: 'default', default_project_id: project.id } },
    })
  ).json.user;
  const member = (await c.request('GET', '/identity/v3/roles?name=member', { token: admin })).json.roles[0];
  assert.equal(
    (
      await c.request('PUT', `/identity/v3/projects/${project.id}/users/${user.id}/roles/${member.id}`, {
        token: admin,
      })
    ).status,
    204,
  );
  const carol = await c.login('carol', PASSWORD, 'console-p');
  const net = (await c.request('POST', '/network/v2.0/networks', { token: carol, body: { network: { name: 'cnet' } } }))
    .json.network;
  assert.equal(
    (
      await c.request('POST', '/network/v2.0/subnets', {
        token: carol,
        body: { subnet: { network_id: net.id, cidr: '192.168.77.0/24', ip_version: 4 } },
      })
    ).status,
    201,
  );

  const chrome = await launchChromium();
  t.after(() => chrome.close());
  const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const shots = artifactsDir('dashboard-console');
  let serverId = '';
  try {
    await page.goto(`${base}/`);
    await page.getByLabel('User name').fill('carol');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview: console-p' }).waitFor();

    await page.evaluate('location.hash = "#/launch"');
    await page.locator('input[name="instance-name"]').fill('tiny1');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: 'tiny', exact: true }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: 'm1.nano' }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: /cnet/ }).check();
    await page.getByRole('button', { name: '8. Summary' }).click();
    await page.getByRole('button', { name: 'Launch', exact: true }).click();

    // ACTIVE on screen, without a reload.
    await page.locator('tr[data-name="tiny1"] [data-status="ACTIVE"]').waitFor({ timeout: 240_000 });
    await page.locator('tr[data-name="tiny1"] a').first().click();
    serverId = page.url().split('/instances/')[1] ?? '';
    assert.match(serverId, /^[0-9a-f-]{36}$/);

    await page.getByRole('tab', { name: 'Console log' }).click();
    await page.locator('pre.console-log').getByText(FINISHED_MARK).waitFor({ timeout: 240_000 });
    assert.match(await page.locator('pre.console-log').innerText(), /hostname=tiny1/);

    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    const frame = page.frameLocator('iframe.vnc');
    await frame.locator('canvas').waitFor({ timeout: 60_000 });
    const handle = await page.locator('iframe.vnc').elementHandle();
    const inner = await handle!.contentFrame();
    let lit = 0;
    for (let i = 0; i < 120 && lit < 500; i++) {
      lit = Number(await inner!.evaluate(LIT_PIXELS));
      if (lit < 500) await page.waitForTimeout(500);
    }
    // Let the login prompt arrive before the picture is kept.
    await page.waitForTimeout(3000);
    await page.screenshot({ path: join(shots, 'console.png') });
    assert.ok(lit >= 500, `the noVNC canvas stayed dark (${lit} lit pixels)`);
  } catch (e) {
    await page.screenshot({ path: join(shots, 'FAILED.png') }).catch(() => {});
    throw e;
  } finally {
    // Here, not in t.after: the cloud (registered first) closes before later after-hooks run.
    if (serverId) {
      await c.request('DELETE', `${V}/servers/${serverId}`, { token: admin });
      await waitStatus(c, serverId, 'DELETED').catch(() => {});
    }
  }
});
