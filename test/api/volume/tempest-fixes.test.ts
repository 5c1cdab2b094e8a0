// Cinder behaviours Tempest's volume suite checks: hosts, pools and capabilities of the backend; a type asking for
// capabilities the backend lacks puts the volume in error with a user message; paging links; legacy sort keys;
// os-update_snapshot_status; size 0 and a null snapshot volume_id refused; the services host filter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { requireOrSkip } from '../../helpers/requirements.js';
import { createProject, createUser } from '../identity/fixtures.js';
import { hasQemuImg, projectOf, waitStatus } from './helpers.js';

let c: TestCloud;
let V: string;
before(async () => {
  c = await createTestCloud();
  V = `/volume/v3/${await projectOf(c, c.adminToken)}`;
});
after(async () => {
  await c.controller.deps.volume.idle();
  await c.close();
});

const req = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  c.request(method, `${V}${path}`, {
    token: c.adminToken,
    ...(body === undefined ? {} : { body }),
    ...(headers ? { headers } : {}),
  });

test('os-hosts, get_pools and capabilities describe the one backend; members are refused', async () => {
  const hosts = await req('GET', '/os-hosts');
  assert.equal(hosts.status, 200, hosts.text);
  assert.equal(hosts.json.hosts.length, 3);
  const vol = hosts.json.hosts.find((h: any) => h.service === 'cinder-volume');
  assert.match(vol.host_name, /@file$/);
  const show = await req('GET', `/os-hosts/${vol.host_name}`);
  assert.equal(show.status, 200, show.text);
  assert.equal(show.json.host[0].resource.project, '(total)');
  assert.equal(typeof show.json.host[0].resource.volume_count, 'string');
  assert.equal((await req('GET', '/os-hosts/nowhere')).status, 404);

  const brief = await req('GET', '/scheduler-stats/get_pools');
  assert.deepEqual(brief.json.pools, [{ name: `${vol.host_name}#file` }]);
  const pools = await req('GET', '/scheduler-stats/get_pools?detail=True');
  const caps = pools.json.pools[0].capabilities;
  assert.equal(caps.vendor_name, 'Gureum');
  assert.equal(caps.volume_backend_name, 'file');
  assert.ok(caps.total_capacity_gb >= caps.free_capacity_gb);
  const cap = await req('GET', `/capabilities/${vol.host_name}`);
  assert.equal(cap.status, 200, cap.text);
  assert.equal(cap.json.storage_protocol, caps.storage_protocol);
  assert.match(cap.json.namespace, /^OS::Storage::Capabilities::/);

  const filtered = await req('GET', `/os-services?host=${vol.host_name.split('@')[0]}`);
  assert.equal(filtered.json.services.length, 3, filtered.text);
  const ext = await req('GET', '/extensions');
  assert.ok(ext.json.extensions.some((e: any) => e.name === 'Hosts'));

  const proj = await createProject(c);
  const member = await createUser(c, proj.id, proj.name, ['member']);
  const denied = await c.request('GET', `/volume/v3/${proj.id}/scheduler-stats/get_pools`, { token: member.token });
  assert.equal(denied.status, 403, denied.text);
});

test('a type asking for another vendor or protocol: the volume goes to error with a user message', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const type = await req('POST', '/types', {
    volume_type: { name: 'elsewhere', extra_specs: { storage_protocol: 'iSCSI', vendor_name: 'Acme' } },
  });
  assert.equal(type.status, 200, type.text);
  const v = await req('POST', '/volumes', { volume: { size: 1, volume_type: 'elsewhere' } });
  assert.equal(v.status, 202, v.text);
  await waitStatus(c, c.adminToken, `${V}/volumes/${v.json.volume.id}`, 'volume', 'error');
  const msgs = await req('GET', '/messages', undefined, { 'openstack-api-version': 'volume 3.3' });
  const m = msgs.json.messages.find((x: any) => x.resource_uuid === v.json.volume.id);
  assert.ok(m, msgs.text);
  assert.match(m.user_message, /No valid backend/);
  assert.match(m.request_id, /^req-[0-9a-f-]{36}$/, 'a user message names a request id, never null');
  const fits = await req('POST', '/types', {
    volume_type: {
      name: 'here',
      extra_specs: { 'capabilities:storage_protocol': 'FILE', volume_backend_name: 'file' },
    },
  });
  const ok = await req('POST', '/volumes', { volume: { size: 1, volume_type: fits.json.volume_type.id } });
  await waitStatus(c, c.adminToken, `${V}/volumes/${ok.json.volume.id}`, 'volume', 'available');
});

test('paging ends with a next link when the list divides by the limit; display_name sorts snapshots', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const proj = await createProject(c);
  const member = await createUser(c, proj.id, proj.name, ['member']);
  const U = `/volume/v3/${proj.id}`;
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await c.request('POST', `${U}/volumes`, { token: member.token, body: { volume: { size: 1 } } });
    ids.push(r.json.volume.id);
  }
  const page1 = await c.request('GET', `${U}/volumes?limit=1`, { token: member.token });
  assert.ok(page1.json.volumes_links?.[0]?.href.includes('marker='), page1.text);
  const all = await c.request('GET', `${U}/volumes?limit=2`, { token: member.token });
  assert.equal(all.json.volumes.length, 2);
  assert.ok(all.json.volumes_links, 'a full page links to the (empty) next one, as Cinder');
  const last = await c.request('GET', `${U}/volumes?limit=2&marker=${all.json.volumes[1].id}`, {
    token: member.token,
  });
  assert.deepEqual(last.json.volumes, []);
  assert.equal(last.json.volumes_links, undefined);
  const sorted = await c.request('GET', `${U}/snapshots?sort_key=display_name&sort_dir=asc`, { token: member.token });
  assert.equal(sorted.status, 200, sorted.text);
  for (const id of ids) await waitStatus(c, member.token, `${U}/volumes/${id}`, 'volume', 'available');
});

test('size 0 and a null snapshot volume_id are refused; os-update_snapshot_status from creating', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  assert.equal((await req('POST', '/volumes', { volume: { size: '0' } })).status, 400);
  assert.equal((await req('POST', '/volumes', { volume: { size: 0 } })).status, 400);
  assert.equal((await req('POST', '/snapshots', { snapshot: { volume_id: null } })).status, 404);
  const v = await req('POST', '/volumes', { volume: { size: 1 } });
  await waitStatus(c, c.adminToken, `${V}/volumes/${v.json.volume.id}`, 'volume', 'available');
  const s = await req('POST', '/snapshots', { snapshot: { volume_id: v.json.volume.id } });
  await waitStatus(c, c.adminToken, `${V}/snapshots/${s.json.snapshot.id}`, 'snapshot', 'available');
  const act = (body: unknown) => req('POST', `/snapshots/${s.json.snapshot.id}/action`, body);
  assert.equal((await act({ 'os-update_snapshot_status': { status: 'error' } })).status, 400);
  assert.equal((await act({ 'os-reset_status': { status: 'creating' } })).status, 202);
  assert.equal((await act({ 'os-update_snapshot_status': { status: 'deleting' } })).status, 400);
  assert.equal((await act({ 'os-update_snapshot_status': { status: 'error', progress: '80%' } })).status, 202);
  const shown = (await req('GET', `/snapshots/${s.json.snapshot.id}`)).json.snapshot;
  assert.equal(shown.status, 'error');
  assert.equal(shown['os-extended-snapshot-attributes:progress'], '80%');
});

test('os-services actions: unknown host or binary 404, no reason 400, freeze of an unknown host 400', async () => {
  const host = c.controller.deps.volume.stats.volumeHost;
  const put = (action: string, body: unknown) => req('PUT', `/os-services/${action}`, body);
  assert.equal((await put('enable', { host: 'nowhere', binary: 'cinder-volume' })).status, 404);
  assert.equal((await put('disable', { host, binary: 'cinder-nothing' })).status, 404);
  const noReason = await put('disable-log-reason', { host, binary: 'cinder-volume', disabled_reason: null });
  assert.equal(noReason.status, 400, noReason.text);
  assert.equal((await put('freeze', { host: 'nowhere' })).status, 400);
  assert.equal((await put('thaw', { host: 'nowhere' })).status, 400);
  const en = await put('enable', { host, binary: 'cinder-volume' });
  assert.equal(en.status, 200, en.text);
  assert.equal(en.json.status, 'enabled');
});

test('GET /volumes/ is a show without an id (404); readonly shows in metadata once set', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  assert.equal((await req('GET', '/volumes/')).status, 404);
  const v = await req('POST', '/volumes', { volume: { size: 1, metadata: { a: '1' } } });
  const id = v.json.volume.id as string;
  await waitStatus(c, c.adminToken, `${V}/volumes/${id}`, 'volume', 'available');
  assert.deepEqual((await req('GET', `/volumes/${id}`)).json.volume.metadata, { a: '1' });
  for (const flag of [true, false]) {
    const r = await req('POST', `/volumes/${id}/action`, { 'os-update_readonly_flag': { readonly: flag } });
    assert.equal(r.status, 202, r.text);
    const shown = (await req('GET', `/volumes/${id}`)).json.volume.metadata;
    assert.deepEqual(shown, { a: '1', readonly: flag ? 'True' : 'False' });
  }
  // admin metadata is not user metadata: the metadata sub-resource keeps only the user's keys
  assert.deepEqual((await req('GET', `/volumes/${id}/metadata`)).json.metadata, { a: '1' });
});

test('os-quota-class-sets/default can be updated and is every project default', async () => {
  const before = (await req('GET', '/os-quota-class-sets/default')).json.quota_class_set;
  const upd = await req('PUT', '/os-quota-class-sets/default', { quota_class_set: { volumes: 7, snapshots: '9' } });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.json.quota_class_set.volumes, 7);
  assert.equal(upd.json.quota_class_set.snapshots, 9);
  const proj = await createProject(c);
  const q = await req('GET', `/os-quota-sets/${proj.id}`);
  assert.equal(q.json.quota_set.volumes, 7);
  assert.equal((await req('PUT', '/os-quota-class-sets/gold', { quota_class_set: { volumes: 1 } })).status, 400);
  assert.equal((await req('PUT', '/os-quota-class-sets/default', { quota_class_set: { nope: 1 } })).status, 400);
  await req('PUT', '/os-quota-class-sets/default', {
    quota_class_set: { volumes: before.volumes, snapshots: before.snapshots },
  });
});

test('a member of the project reports a snapshot status (Cinder default); another project gets 404', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const proj = await createProject(c);
  const member = await createUser(c, proj.id, proj.name, ['member']);
  const other = await createProject(c);
  const stranger = await createUser(c, other.id, other.name, ['member']);
  const U = `/volume/v3/${proj.id}`;
  const as = (token: string, method: string, path: string, body?: unknown) =>
    c.request(method, path, { token, ...(body === undefined ? {} : { body }) });
  const v = await as(member.token, 'POST', `${U}/volumes`, { volume: { size: 1 } });
  assert.equal(v.status, 202, v.text);
  await waitStatus(c, member.token, `${U}/volumes/${v.json.volume.id}`, 'volume', 'available');
  const s = await as(member.token, 'POST', `${U}/snapshots`, { snapshot: { volume_id: v.json.volume.id } });
  await waitStatus(c, member.token, `${U}/snapshots/${s.json.snapshot.id}`, 'snapshot', 'available');
  const reset = { 'os-reset_status': { status: 'creating' } };
  const r = await req('POST', `/snapshots/${s.json.snapshot.id}/action`, reset);
  assert.equal(r.status, 202, r.text);
  const upd = { 'os-update_snapshot_status': { status: 'available', progress: '100%' } };
  const foreign = await as(
    stranger.token,
    'POST',
    `/volume/v3/${other.id}/snapshots/${s.json.snapshot.id}/action`,
    upd,
  );
  assert.equal(foreign.status, 404, foreign.text);
  const mine = await as(member.token, 'POST', `${U}/snapshots/${s.json.snapshot.id}/action`, upd);
  assert.equal(mine.status, 202, mine.text);
  await waitStatus(c, member.token, `${U}/snapshots/${s.json.snapshot.id}`, 'snapshot', 'available');
});
