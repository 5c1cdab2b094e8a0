// What the dashboard's Chromium tests share: a fake-hypervisor `gureum up`, projects with member users, a browser
// page that records CSP violations, sign-in, hash navigation and named steps that keep a screenshot on failure.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifactsDir, launchChromium } from './browser.js';
import { request } from './http.js';
import { getToken, startServer, type TestServer } from './server.js';

export const PASSWORD = 'dash-e2e-Secret-1';

export interface DashWorld {
  srv: TestServer;
  adminToken: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  shots: string;
  cspViolations: string[];
  /** What the next window.prompt() is answered with. */
  promptAnswer: { value: string };
  api(method: string, path: string, json?: unknown, token?: string): Promise<any>;
  tokenOf(user: string, project: string): Promise<string>;
  step(name: string, fn: () => Promise<void>): Promise<void>;
  shot(name: string): Promise<unknown>;
}

/** Starts the server (fake hypervisor) and Chromium, both stopped by t.after. */
export async function dashWorld(
  t: TestContext,
  artifacts: string,
  env: Record<string, string> = {},
): Promise<DashWorld> {
  const srv = await startServer({
    env: { GUREUM_HYPERVISOR: 'fake', GUREUM_TINY_IMAGE: '0', GUREUM_LOG_LEVEL: 'warn', ...env },
  });
  t.after(() => srv.stop());
  const chrome = await launchChromium();
  t.after(() => chrome.close());
  const context = await chrome.browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    locale: 'en-US',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.baseUrl });
  const page = await context.newPage();
  const shots = artifactsDir(artifacts);
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  const promptAnswer = { value: '' };
  page.on('dialog', (d) => void d.accept(d.type() === 'prompt' ? promptAnswer.value : undefined));
  const adminToken = await getToken(srv.baseUrl, srv.admin);
  const api = async (method: string, path: string, json?: unknown, token = adminToken) => {
    const r = await request(method, `${srv.baseUrl}${path}`, { token, ...(json !== undefined ? { json } : {}) });
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  };
  return {
    srv,
    adminToken,
    browser: chrome.browser,
    context,
    page,
    shots,
    cspViolations,
    promptAnswer,
    api,
    tokenOf: (user, project) =>
      getToken(srv.baseUrl, { username: user, password: PASSWORD, projectName: project, domainName: 'Default' }),
    shot: (name) => page.screenshot({ path: join(shots, `${name}.png`) }),
    step: (name, fn) =>
      t.test(name, async () => {
        try {
          await fn();
        } catch (e) {
          await page
            .screenshot({ path: join(shots, `FAILED-${name.replace(/\W+/g, '-').slice(0, 60)}.png`) })
            .catch(() => {});
          throw e;
        }
      }),
  };
}

/** A project with one member user; returns the project id. */
export async function projectWithMember(w: DashWorld, project: string, user: string, role = 'member'): Promise<string> {
  const p = (await w.api('POST', '/identity/v3/projects', { project: { name: project, domain_id: 'default' } }))
    .project;
  const u = (
    await w.api('POST', '/identity/v3/users', {
      user: { name: user, password: PASSWORD, domain_id: 'default', default_project_id: p.id },
    })
  ).user;
  const roles = (await w.api('GET', `/identity/v3/roles?name=${role}`)).roles;
  await w.api('PUT', `/identity/v3/projects/${p.id}/users/${u.id}/roles/${roles[0].id}`);
  return p.id as string;
}

/** A raw image of `bytes` zero bytes, active: public unless `fields` says otherwise (extra fields are properties). */
export async function rawImage(
  w: DashWorld,
  fields: Record<string, unknown> & { name: string },
  token = w.adminToken,
  bytes = 1024 * 1024,
): Promise<string> {
  const img = await w.api(
    'POST',
    '/image/v2/images',
    { disk_format: 'raw', container_format: 'bare', visibility: 'public', ...fields },
    token,
  );
  const r = await fetch(`${w.srv.baseUrl}/image/v2/images/${img.id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream' },
    body: new Uint8Array(bytes),
  });
  assert.equal(r.status, 204, await r.text());
  return img.id as string;
}

/** A public raw image of `bytes` zero bytes, active. */
export const publicRawImage = (w: DashWorld, name: string, bytes = 1024 * 1024) =>
  rawImage(w, { name }, w.adminToken, bytes);

/** A network with a subnet in the project of `token`. */
export async function projectNetwork(w: DashWorld, token: string, name: string, cidr: string): Promise<string> {
  const net = (await w.api('POST', '/network/v2.0/networks', { network: { name } }, token)).network;
  await w.api(
    'POST',
    '/network/v2.0/subnets',
    { subnet: { network_id: net.id, cidr, ip_version: 4, name: `${name}-subnet` } },
    token,
  );
  return net.id as string;
}

export async function signIn(page: Page, user: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Wait until the shell is signed in: a page opened earlier would load its data before the token exists, and
  // show it only at its next poll (up to 30 s later).
  await page.getByRole('button', { name: 'Sign in' }).waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

/** Opens a dashboard page by its hash and waits for its heading. */
export async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.locator('main h1').first().waitFor();
}

/** The status cell of a named row once it shows `status` (rows carry data-name, status cells data-status). */
export const statusOf = (page: Page, name: string, status: string, scope = 'main') =>
  page.locator(`${scope} tr[data-name="${name}"] [data-status="${status}"]`);
