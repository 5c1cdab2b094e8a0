// /monitoring/v1: graphs from the built-in store, read with the user's own token; another project's server is a 404,
// absurd time ranges a 400, no token a 401. The fake driver's counters grow at fixed rates, so the collector's rates
// are real numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { createProject, createUser } from '../identity/fixtures.js';
import { V, makeImage, privateNet, waitFor } from '../compute/helpers.js';

test('monitoring API: per-server and per-project graphs, tenant isolation, bad ranges', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const imageId = await makeImage(c);
  const net = await privateNet(c);
  const r = await c.request('POST', `${V}/servers`, {
    token: c.adminToken,
    body: { server: { name: 'graphed', imageRef: imageId, flavorRef: '1', networks: [{ uuid: net }] } },
  });
  assert.equal(r.status, 202, r.text);
  const id = r.json.server.id as string;
  await waitFor(c, c.adminToken, id, 'ACTIVE');

  const mon = c.controller.deps.monitoring;
  assert.equal(await mon.sampleOnce(), 1);
  // Two readings a few milliseconds apart make a rate (the fake's counters are a function of time).
  await new Promise((res) => setTimeout(res, 5));
  assert.equal(await mon.sampleOnce(), 1);

  const adminProject = c.controller.bootstrap.adminProjectId;
  const reader = await createUser(c, adminProject, 'admin', ['reader']);
  const other = await createProject(c);
  const stranger = await createUser(c, other.id, other.name, ['member']);

  const get = (url: string, token?: string) => c.request('GET', url, { token });
  const cpu = await get(`/monitoring/v1/servers/${id}?metric=cpu`, reader.token);
  assert.equal(cpu.status, 200, cpu.text);
  assert.equal(cpu.json.server.id, id);
  assert.equal(cpu.json.step, 60);
  assert.equal(cpu.json.units.cpu_percent, 'percent');
  const points = cpu.json.series.cpu_percent as [number, number | null][];
  assert.ok(points.length >= 60 && points.length <= 61, `an hour of minutes by default: ${points.length}`);
  const last = points.filter((p) => p[1] !== null);
  assert.equal(last.length, 1, 'one sampled minute');
  assert.ok((last[0]?.[1] ?? 0) > 0, 'CPU % from the counters');

  const net1 = await get(`/monitoring/v1/servers/${id}?metric=net`, c.adminToken);
  assert.equal(net1.status, 200, net1.text);
  assert.ok(net1.json.series.net_rx_bytes_per_sec.some((p: [number, number | null]) => (p[1] ?? 0) > 0));
  const all = await get(`/monitoring/v1/servers/${id}`, c.adminToken);
  assert.deepEqual(Object.keys(all.json.series).length, 11);

  const proj = await get(`/monitoring/v1/projects/${adminProject}?metric=disk`, reader.token);
  assert.equal(proj.status, 200, proj.text);
  assert.deepEqual(
    proj.json.servers.map((s: { id: string }) => s.id),
    [id],
  );
  assert.ok('disk_write_bytes_per_sec' in proj.json.servers[0].series);

  // Tenant isolation: another project's server is not found; another project's graphs are refused.
  assert.equal((await get(`/monitoring/v1/servers/${id}?metric=cpu`, stranger.token)).status, 404);
  assert.equal((await get(`/monitoring/v1/projects/${adminProject}`, stranger.token)).status, 403);
  assert.equal((await get(`/monitoring/v1/servers/${id}`)).status, 401);

  // Absurd ranges and bad input: 400 in Nova's body.
  const now = Math.floor(Date.now() / 1000);
  for (const q of [
    `start=${now}&end=${now - 60}`,
    `start=${now - 2 * 86400}&end=${now}`,
    'start=yesterday',
    'end=2026-13-45T99:00:00Z',
    'metric=temperature',
    'bogus=1',
  ]) {
    const bad = await get(`/monitoring/v1/servers/${id}?${q}`, c.adminToken);
    assert.equal(bad.status, 400, `${q}: ${bad.text}`);
    assert.equal(bad.json.badRequest.code, 400, q);
  }
  const iso = new Date(Date.now() - 600_000).toISOString();
  const ok = await get(`/monitoring/v1/servers/${id}?metric=memory&start=${encodeURIComponent(iso)}`, c.adminToken);
  assert.equal(ok.status, 200, ok.text);
  assert.ok(ok.json.series.memory_rss_bytes.length >= 10);

  // A deleted server's history goes with it.
  assert.equal((await c.request('DELETE', `${V}/servers/${id}`, { token: c.adminToken })).status, 204);
  await waitFor(c, c.adminToken, id, 'DELETED');
  await mon.sampleOnce();
  assert.equal(mon.store.has(id), false);
  assert.equal((await get(`/monitoring/v1/servers/${id}`, c.adminToken)).status, 404);
});
