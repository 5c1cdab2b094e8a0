// Neutron's metering extension: labels and rules (admin only), Neutron's fields, validation 400s, 404s and the
// overlap 409; a label's rules reach every router of its project (shared: every router) through the data plane's
// router events; the extension is listed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser, type TestUser } from '../identity/fixtures.js';
import type { NoopNetDriver } from '../../../src/net/index.js';

const L = '/network/v2.0/metering/metering-labels';
const R = '/network/v2.0/metering/metering-label-rules';
let cloud: TestCloud;
let member: TestUser;
before(async () => {
  cloud = await createTestCloud();
  const p = await createProject(cloud);
  member = await createUser(cloud, p.id, p.name, ['member']);
});
after(async () => {
  await cloud.close();
});
const admin = (method: string, url: string, body?: unknown) =>
  cloud.request(method, url, { token: cloud.adminToken, body });

test('labels and rules: create, show, list with filters, delete; Neutron fields', async () => {
  const l = await admin('POST', L, { metering_label: { name: 'web', description: 'd' } });
  assert.equal(l.status, 201, l.text);
  const label = l.json.metering_label;
  assert.deepEqual(Object.keys(label).sort(), ['description', 'id', 'name', 'project_id', 'shared', 'tenant_id']);
  assert.equal(label.shared, false);
  assert.equal(label.tenant_id, label.project_id);
  const r = await admin('POST', R, {
    metering_label_rule: { metering_label_id: label.id, remote_ip_prefix: '10.0.0.0/24', direction: 'ingress' },
  });
  assert.equal(r.status, 201, r.text);
  const rule = r.json.metering_label_rule;
  assert.equal(rule.excluded, false);
  assert.equal(rule.metering_label_id, label.id);
  assert.equal(rule.source_ip_prefix, null);
  const v6 = await admin('POST', R, {
    metering_label_rule: { metering_label_id: label.id, remote_ip_prefix: 'fd02::/64', direction: 'egress' },
  });
  assert.equal(v6.status, 201, v6.text);
  assert.equal((await admin('GET', `${L}/${label.id}`)).json.metering_label.name, 'web');
  assert.equal((await admin('GET', `${R}/${rule.id}`)).json.metering_label_rule.remote_ip_prefix, '10.0.0.0/24');
  assert.equal((await admin('GET', `${L}?id=33`)).json.metering_labels.length, 0);
  assert.equal((await admin('GET', `${L}?id=${label.id}`)).json.metering_labels.length, 1);
  assert.equal((await admin('GET', `${R}?id=${rule.id}`)).json.metering_label_rules.length, 1);
  assert.equal((await admin('DELETE', `${R}/${rule.id}`)).status, 204);
  assert.equal((await admin('GET', `${R}/${rule.id}`)).status, 404);
  assert.equal((await admin('DELETE', `${L}/${label.id}`)).status, 204);
  assert.equal((await admin('GET', `${R}/${v6.json.metering_label_rule.id}`)).status, 404, 'rules go with the label');
  const gone = await admin('GET', `${L}/${label.id}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.json.NeutronError.type, 'MeteringLabelNotFound');
});

test('admin only: a member gets 403 for every metering operation', async () => {
  const label = (await admin('POST', L, { metering_label: { name: 'x' } })).json.metering_label;
  for (const [method, url, body] of [
    ['GET', L],
    ['POST', L, { metering_label: { name: 'mine' } }],
    ['GET', `${L}/${label.id}`],
    ['DELETE', `${L}/${label.id}`],
    ['GET', R],
    ['POST', R, { metering_label_rule: { metering_label_id: label.id, remote_ip_prefix: '10.0.0.0/8' } }],
  ] as [string, string, unknown?][]) {
    const res = await cloud.request(method, url, { token: member.token, body });
    assert.equal(res.status, 403, `${method} ${url}: ${res.text}`);
    assert.ok(res.json.NeutronError);
  }
});

test('bad input is a 400, a missing label a 404, an overlapping rule a 409', async () => {
  const label = (await admin('POST', L, { metering_label: { name: 'v' } })).json.metering_label;
  const rule = (b: Record<string, unknown>) => admin('POST', R, { metering_label_rule: b });
  for (const b of [
    { metering_label_id: label.id, remote_ip_prefix: 'not-a-cidr' },
    { metering_label_id: label.id, remote_ip_prefix: '10.0.0.0/8', direction: 'sideways' },
    { metering_label_id: label.id, remote_ip_prefix: '10.0.0.0/8', source_ip_prefix: '10.1.0.0/16' },
    { metering_label_id: label.id },
    { metering_label_id: label.id, remote_ip_prefix: '10.0.0.0/8', excluded: 'maybe' },
    { metering_label_id: label.id, remote_ip_prefix: '10.0.0.0/8', colour: 'red' },
    { remote_ip_prefix: '10.0.0.0/8' },
  ]) {
    const res = await rule(b);
    assert.equal(res.status, 400, `${JSON.stringify(b)}: ${res.text}`);
    assert.ok(res.json.NeutronError);
  }
  assert.equal((await admin('POST', L, { metering_label: { name: 7 } })).status, 400);
  assert.equal((await admin('POST', L, { metering_label: { shared: 'perhaps' } })).status, 400);
  const missing = await rule({
    metering_label_id: '00000000-0000-4000-8000-000000000000',
    remote_ip_prefix: '10.0.0.0/8',
  });
  assert.equal(missing.status, 404);
  assert.equal((await rule({ metering_label_id: label.id, remote_ip_prefix: '10.0.0.0/8' })).status, 201);
  const overlap = await rule({ metering_label_id: label.id, remote_ip_prefix: '10.1.0.0/16' });
  assert.equal(overlap.status, 409, overlap.text);
  assert.equal(overlap.json.NeutronError.type, 'MeteringLabelRuleOverlaps');
  assert.equal(
    (await rule({ metering_label_id: label.id, remote_ip_prefix: '10.1.0.0/16', excluded: true })).status,
    201,
  );
  assert.equal((await admin('DELETE', `${L}/00000000-0000-4000-8000-000000000000`)).status, 404);
});

test('a label reaches its project routers through the data plane, and the extension is listed', async () => {
  const router = await cloud.request('POST', '/network/v2.0/routers', {
    token: member.token,
    body: { router: { name: 'metered' } },
  });
  assert.equal(router.status, 201, router.text);
  const routerId = router.json.router.id as string;
  const label = (await admin('POST', L, { metering_label: { name: 'proj', project_id: member.projectId } })).json
    .metering_label;
  const r = await admin('POST', R, {
    metering_label_rule: { metering_label_id: label.id, direction: 'egress', destination_ip_prefix: '0.0.0.0/0' },
  });
  assert.equal(r.status, 201, r.text);
  await cloud.controller.deps.network.events.drain();
  const driver = cloud.controller.deps.network.events.driver as NoopNetDriver;
  const last = driver.events.filter((e) => e.kind === 'router' && e.id === routerId).at(-1);
  assert.deepEqual(last?.object.metering_labels, [
    { id: label.id, rules: [{ direction: 'egress', source: null, destination: '0.0.0.0/0', excluded: false }] },
  ]);
  // Not an API field.
  assert.equal((await admin('GET', `/network/v2.0/routers/${routerId}`)).json.router.metering_labels, undefined);
  const traffic = await cloud.controller.deps.network.meteringTraffic();
  assert.ok(traffic.some((x) => x.labelId === label.id && x.bytes === 0));
  const ext = await admin('GET', '/network/v2.0/extensions/metering');
  assert.equal(ext.status, 200);
});

test('/metrics exports each label bytes and packets as counters', async () => {
  const l = await admin('POST', L, { metering_label: { name: 'scraped' } });
  assert.equal(l.status, 201, l.text);
  const m = await cloud.request('GET', '/metrics', { token: cloud.adminToken });
  assert.equal(m.status, 200, m.text);
  assert.match(m.text, /# TYPE gureum_metering_label_bytes_total counter/);
  const id = l.json.metering_label.id;
  assert.match(m.text, new RegExp(`gureum_metering_label_bytes_total\\{label_id="${id}",name="scraped",[^}]*\\} \\d+`));
  assert.match(m.text, new RegExp(`gureum_metering_label_packets_total\\{label_id="${id}"[^}]*\\} \\d+`));
});
