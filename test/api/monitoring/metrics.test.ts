// GET /metrics: never open (401 without credentials, 403 for a non-admin), an admin token or the generated scrape
// credential (DATA_DIR/metrics-token, 0600) reads Prometheus's text format with control-plane, host and per-instance
// figures; the request counter matches the requests made; a deleted instance's labels are gone at the next scrape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCloud } from '../../helpers/cloud.js';
import { createProject, createUser } from '../identity/fixtures.js';
import { V, makeImage, privateNet, waitFor } from '../compute/helpers.js';

/** The value of one sample line (`name{labels} value`) whose text contains every fragment; undefined when none. */
function sampleValue(text: string, name: string, ...fragments: string[]): number | undefined {
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && fragments.every((f) => l.includes(f)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('/metrics: credentials, exposition format, request counters, instance labels', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const dataDir = c.controller.deps.config.dataDir;

  // Never open: no credentials → 401 in Keystone's body; a wrong bearer → 401; a member's token → 403.
  const none = await c.request('GET', '/metrics');
  assert.equal(none.status, 401, none.text);
  assert.equal(none.json.error.code, 401);
  const wrong = await c.request('GET', '/metrics', { headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.status, 401);
  const other = await createProject(c);
  const member = await createUser(c, other.id, other.name, ['member']);
  assert.equal((await c.request('GET', '/metrics', { token: member.token })).status, 403);

  const tokenFile = join(dataDir, 'metrics-token');
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  const scrape = readFileSync(tokenFile, 'utf8').trim();

  const imageId = await makeImage(c);
  const net = await privateNet(c);
  const r = await c.request('POST', `${V}/servers`, {
    token: c.adminToken,
    body: { server: { name: 'scraped', imageRef: imageId, flavorRef: '1', networks: [{ uuid: net }] } },
  });
  assert.equal(r.status, 202, r.text);
  const id = r.json.server.id as string;
  await waitFor(c, c.adminToken, id, 'ACTIVE');

  for (let i = 0; i < 7; i++)
    assert.equal((await c.request('GET', `${V}/flavors`, { token: c.adminToken })).status, 200);
  const m = await c.request('GET', '/metrics', { headers: { authorization: `Bearer ${scrape}` } });
  assert.equal(m.status, 200, m.text);
  assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const text = m.text;
  assert.equal(
    sampleValue(text, 'gureum_http_requests_total', 'route="/compute/v2.1/flavors"', 'method="GET"', 'status="200"'),
    7,
    'the request counter matches the requests made',
  );
  assert.ok(
    (sampleValue(text, 'gureum_http_request_duration_seconds_count', 'route="/compute/v2.1/flavors"') ?? 0) === 7,
  );
  assert.ok((sampleValue(text, 'gureum_tokens_total', 'event="issued"') ?? 0) >= 1);
  assert.ok((sampleValue(text, 'gureum_image_bytes_total', 'direction="in"') ?? 0) >= 4096, 'the image upload');
  assert.ok((sampleValue(text, 'gureum_host_vcpus') ?? 0) > 0);
  assert.ok((sampleValue(text, 'gureum_host_vcpus_allocated') ?? 0) >= 1);
  assert.ok(sampleValue(text, 'gureum_host_cpu_allocation_ratio') !== undefined);
  assert.equal(sampleValue(text, 'gureum_host_instances', 'state="active"'), 1);
  assert.ok(sampleValue(text, 'gureum_task_queue_depth', 'state="queued"') !== undefined);
  assert.ok(sampleValue(text, 'gureum_image_cache_bytes') !== undefined);
  assert.ok((sampleValue(text, 'gureum_scheduler_decisions_total', 'result="placed"') ?? 0) >= 1);
  assert.ok((sampleValue(text, 'gureum_db_query_duration_seconds_count', 'kind="select"') ?? 0) > 0);
  const labels = [`instance_id="${id}"`, 'name="scraped"', `project_id="${c.controller.bootstrap.adminProjectId}"`];
  assert.equal(sampleValue(text, 'gureum_instance_up', ...labels), 1);
  assert.ok((sampleValue(text, 'gureum_instance_cpu_seconds_total', ...labels) ?? 0) > 0);
  assert.ok((sampleValue(text, 'gureum_instance_disk_read_bytes_total', ...labels, 'device="disk0"') ?? 0) > 0);
  assert.ok((sampleValue(text, 'gureum_instance_network_receive_bytes_total', ...labels) ?? 0) > 0);
  // Every line is a comment or `name{labels} value`.
  for (const l of text.trimEnd().split('\n'))
    assert.match(l, /^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{.*\})? (-?[\d.e+-]+|NaN|\+Inf))$/, l);

  // An admin's token reads it too; a deleted instance's labels are gone.
  assert.equal((await c.request('DELETE', `${V}/servers/${id}`, { token: c.adminToken })).status, 204);
  await waitFor(c, c.adminToken, id, 'DELETED');
  const after = await c.request('GET', '/metrics', { token: c.adminToken });
  assert.equal(after.status, 200);
  assert.equal(after.text.includes(id), false);
});
