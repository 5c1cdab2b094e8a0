// The instance page's graphs in a real Chromium, drawn from Gureum's built-in time-series store
// (/monitoring/v1): the fake hypervisor's counters grow, the collector samples every second here, and the CPU,
// disk and network charts get lines with units; Korean labels follow the language switch.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requireCommands } from '../helpers/requirements.js';
import { dashWorld, go, projectNetwork, projectWithMember, publicRawImage, signIn } from '../helpers/dashboard.js';

test('dashboard graphs in Chromium: CPU, disk and network from the built-in store', {
  timeout: 300_000,
}, async (t: TestContext) => {
  if (!requireCommands(t, ['chromium', 'qemu-img'])) return;
  const w = await dashWorld(t, 'dashboard-graphs', { GUREUM_MONITOR_SAMPLE_SECONDS: '1' });
  const { page, step, shot } = w;
  await projectWithMember(w, 'gr-p1', 'hana');
  const hana = await w.tokenOf('hana', 'gr-p1');
  const image = await publicRawImage(w, 'gr-img');
  const net = await projectNetwork(w, hana, 'gnet', '10.79.0.0/24');
  const flavor = (await w.api('GET', '/compute/v2.1/flavors')).flavors.find(
    (f: { name: string }) => f.name === 'm1.nano',
  );
  const server = (
    await w.api(
      'POST',
      '/compute/v2.1/servers',
      { server: { name: 'g1', imageRef: image, flavorRef: flavor.id, networks: [{ uuid: net }] } },
      hana,
    )
  ).server;

  await step('the graphs tab draws CPU, disk and network lines with units', async () => {
    await page.goto(`${w.srv.baseUrl}/`);
    await signIn(page, 'hana');
    await page.getByRole('heading', { name: 'Overview: gr-p1' }).waitFor();
    await go(page, `#/instances/${server.id}`);
    await page.locator('[data-status="ACTIVE"]').first().waitFor({ timeout: 60_000 });
    await page.getByRole('tab', { name: 'Graphs' }).click();
    for (const key of ['cpu_percent', 'disk_write_bytes_per_sec', 'net_rx_bytes_per_sec']) {
      // Polled every 20 s: the first poll may come before the second sample (rates need two).
      const line = page.locator(`path.line[data-series="${key}"]`);
      await line.waitFor({ state: 'attached', timeout: 90_000 });
      assert.match((await line.getAttribute('d')) ?? '', /^M[\d.]+,[\d.]+/);
    }
    const cpu = page.locator('.legend-item[data-series="cpu_percent"]');
    assert.match(await cpu.innerText(), /use: [\d.]+ %/);
    assert.match(
      await page.locator('.legend-item[data-series="net_rx_bytes_per_sec"]').innerText(),
      /(B|KiB|MiB|GiB)\/s/,
    );
    assert.equal(await page.getByText('No data yet').count(), 0);
    await shot('instance-graphs');
  });

  await step('Korean labels', async () => {
    await page.getByLabel('Language').first().selectOption('ko');
    await page.getByRole('tab', { name: '그래프' }).waitFor();
    await page.locator('.chart').getByText('네트워크').first().waitFor();
    await page.getByLabel('언어').first().selectOption('en');
  });

  assert.deepEqual(w.cspViolations, [], 'the page broke its own Content-Security-Policy');
});
