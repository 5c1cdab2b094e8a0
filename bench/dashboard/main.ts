// The web dashboard in Debian's Chromium on loopback: first page load cold and warm (navigation timing and time until
// the login form is on screen), the gzipped size of what the first page loads, and how long the instance list takes
// to show 1,000 servers (fake driver; its first page of 100 rows, the pager counting all 1,000). Env:
// BENCH_DASH_SERVERS (1000), BENCH_DASH_RUNS (5).
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createController } from '../../src/app/index.js';
import { dashboardDir } from '../../src/api/dashboard/index.js';
import { launchChromium } from '../../test/helpers/browser.js';

const SERVERS = Number(process.env.BENCH_DASH_SERVERS ?? 1000);
const RUNS = Number(process.env.BENCH_DASH_RUNS ?? 5);
const PASSWORD = 'bench-admin-pw';

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? 0;
};
const ms = (n: number) => `${n.toFixed(0)} ms`;

/** Bytes of the first page's files, raw and gzipped (what index.html names). */
function firstPageSize(): { js: [number, number]; css: [number, number]; html: number } {
  const dir = dashboardDir();
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const out = { js: [0, 0] as [number, number], css: [0, 0] as [number, number], html: html.length };
  for (const f of readdirSync(join(dir, 'assets'))) {
    if (!html.includes(`/assets/${f}`)) continue;
    const data = readFileSync(join(dir, 'assets', f));
    const slot = f.endsWith('.css') ? out.css : out.js;
    slot[0] += data.length;
    slot[1] += gzipSync(data, { level: 9 }).length;
  }
  return out;
}

/** Navigation timing and the moment the login form was on screen, read in the page. */
const LOAD_TIMING = `(async () => {
  while (!document.querySelector('form.login')) await new Promise((r) => requestAnimationFrame(r));
  const shown = performance.now();
  const n = performance.getEntriesByType('navigation')[0];
  const fromCache = performance.getEntriesByType('resource').filter((r) => r.transferSize === 0 && r.decodedBodySize > 0).length;
  return { interactive: n.domInteractive, loaded: n.loadEventEnd || n.domComplete, shown, fromCache };
})()`;

/** Rows per page of the instance list (dashboard/src/pages/Instances.tsx PAGE_SIZE). */
const PAGE_SIZE = 100;

/**
 * Switches to the instance list and resolves when its first page is on screen with the pager counting all `total`
 * servers (so the whole list has arrived and been filtered): API fetch + render, measured in the page.
 */
const LIST_RENDER = (total: number) => `(async () => {
  const t0 = performance.now();
  location.hash = '#/instances';
  const done = () => document.querySelectorAll('table.instances tbody tr').length >= ${Math.min(total, PAGE_SIZE)}
    && (${total} <= ${PAGE_SIZE} || (document.querySelector('.pager span')?.textContent ?? '').includes('${total}'));
  while (!done()) await new Promise((r) => requestAnimationFrame(r));
  return performance.now() - t0;
})()`;

async function main(): Promise<void> {
  const size = firstPageSize();
  console.log(
    `first page: JS ${(size.js[0] / 1024).toFixed(1)} KiB (${(size.js[1] / 1024).toFixed(1)} KiB gzipped), CSS ` +
      `${(size.css[0] / 1024).toFixed(1)} KiB (${(size.css[1] / 1024).toFixed(1)} KiB gzipped), total gzipped ` +
      `${((size.js[1] + size.css[1]) / 1024).toFixed(1)} KiB (goal < 250 KiB)`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-bench-dash-'));
  const base = loadConfig({ dataDir, databaseUrl: 'sqlite', logLevel: 'silent' }, {});
  // No data plane: the dashboard's cost, not the network's (and the run leaves no bridges behind).
  const config = Object.freeze({
    ...base,
    net: { ...base.net, dataPlane: 'user' as const },
    hypervisor: 'fake' as const,
    tinyImage: false,
    passwordHash: { N: 1024, r: 8, p: 1 },
  });
  const ctl = await createController(config, { adminPassword: PASSWORD });
  await ctl.server.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(ctl.server.server.address() as AddressInfo).port}`;
  const chrome = await launchChromium();
  try {
    // Cold: a fresh context (empty cache) per run. Warm: a reload in a context that has the assets cached.
    const cold: { interactive: number; shown: number }[] = [];
    const warm: { interactive: number; shown: number; fromCache: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const ctx = await chrome.browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${url}/`);
      cold.push((await page.evaluate(LOAD_TIMING)) as { interactive: number; shown: number });
      await page.goto(`${url}/`);
      warm.push((await page.evaluate(LOAD_TIMING)) as { interactive: number; shown: number; fromCache: number });
      await ctx.close();
    }
    console.log(
      `first load, cold cache (median of ${RUNS}): DOM interactive ${ms(median(cold.map((x) => x.interactive)))}, ` +
        `login form on screen ${ms(median(cold.map((x) => x.shown)))}`,
    );
    console.log(
      `first load, warm cache (median of ${RUNS}): DOM interactive ${ms(median(warm.map((x) => x.interactive)))}, ` +
        `login form on screen ${ms(median(warm.map((x) => x.shown)))}, assets from cache ` +
        `${median(warm.map((x) => x.fromCache))}`,
    );

    // 1,000 servers in the admin project (fake driver), created through the API in batches.
    const inject = async (method: string, path: string, token?: string, body?: unknown) => {
      const r = await ctl.server.inject({
        method: method as 'GET',
        url: path,
        headers: {
          ...(token ? { 'x-auth-token': token } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: r.statusCode, headers: r.headers, json: () => JSON.parse(r.body) };
    };
    const auth = await inject('POST', '/identity/v3/auth/tokens', undefined, {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { name: 'Default' }, password: PASSWORD } },
        },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    });
    const token = String(auth.headers['x-subject-token']);
    const projectId = auth.json().token.project.id as string;
    await inject('PUT', `/compute/v2.1/os-quota-sets/${projectId}`, token, {
      quota_set: { instances: -1, cores: -1, ram: -1 },
    });
    await inject('PUT', `/network/v2.0/quotas/${projectId}`, token, { quota: { port: -1 } });
    const img = (
      await inject('POST', '/image/v2/images', token, { name: 'bench', disk_format: 'raw', container_format: 'bare' })
    ).json();
    await ctl.server.inject({
      method: 'PUT',
      url: `/image/v2/images/${img.id}/file`,
      headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(4096),
    });
    const net = (await inject('GET', '/network/v2.0/networks?name=private', token)).json().networks[0].id as string;
    const t0 = Date.now();
    for (let made = 0; made < SERVERS; ) {
      const n = Math.min(50, SERVERS - made);
      const r = await inject('POST', '/compute/v2.1/servers', token, {
        server: {
          name: 'bench',
          imageRef: img.id,
          flavorRef: '42',
          min_count: n,
          max_count: n,
          networks: [{ uuid: net }],
        },
      });
      if (r.status !== 202) throw new Error(`server create answered ${r.status}`);
      made += n;
    }
    console.log(`(setup: ${SERVERS} servers created in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

    const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${url}/`);
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.meter').first().waitFor({ timeout: 60_000 });
    const first = Number(await page.evaluate(LIST_RENDER(SERVERS)));
    const again: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await page.evaluate('location.hash = "#/"');
      await page.locator('.meter').first().waitFor();
      again.push(Number(await page.evaluate(LIST_RENDER(SERVERS))));
    }
    console.log(
      `instance list with ${SERVERS} servers: first show (API + render) ${ms(first)}; shown again from the cache, ` +
        `median of ${RUNS}: ${ms(median(again))} (goal < 500 ms)`,
    );
  } finally {
    await chrome.close();
    await ctl.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
