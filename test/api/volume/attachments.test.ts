// Volumes on servers (fake driver): Nova's os-volume_attachments, the volume's status machine around it, and
// Cinder's record-only attach actions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { requireOrSkip } from '../../helpers/requirements.js';
import { makeImage, waitFor } from '../compute/helpers.js';
import { hasQemuImg, projectOf, waitStatus } from './helpers.js';

let c: TestCloud;
let V: string;
const N = '/compute/v2.1';
let image: string;
before(async () => {
  c = await createTestCloud();
  V = `/volume/v3/${await projectOf(c, c.adminToken)}`;
  image = await makeImage(c, { name: 'att-img' });
});
after(async () => {
  await c.controller.deps.volume.idle();
  await c.close();
});

async function server(name: string): Promise<string> {
  const r = await c.request('POST', `${N}/servers`, {
    token: c.adminToken,
    body: { server: { name, imageRef: image, flavorRef: '42', networks: 'none' } },
    headers: { 'x-openstack-nova-api-version': '2.37' },
  });
  assert.equal(r.status, 202, r.text);
  await waitFor(c, c.adminToken, r.json.server.id, 'ACTIVE');
  return r.json.server.id as string;
}

async function volume(size = 1): Promise<string> {
  const r = await c.request('POST', `${V}/volumes`, { token: c.adminToken, body: { volume: { size } } });
  assert.equal(r.status, 202, r.text);
  await waitStatus(c, c.adminToken, `${V}/volumes/${r.json.volume.id}`, 'volume', 'available');
  return r.json.volume.id as string;
}

const nova = (v: string) => ({ 'x-openstack-nova-api-version': v });

test('attach through Nova: device named, volume in-use, shown on the server; detach returns it', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const sid = await server('att1');
  const vid = await volume();
  const att = await c.request('POST', `${N}/servers/${sid}/os-volume_attachments`, {
    token: c.adminToken,
    body: { volumeAttachment: { volumeId: vid } },
  });
  assert.equal(att.status, 200, att.text);
  assert.equal(att.json.volumeAttachment.device, '/dev/vdb');
  assert.equal(att.json.volumeAttachment.serverId, sid);
  const v = await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'in-use');
  assert.equal(v.attachments[0].server_id, sid);
  assert.equal(v.attachments[0].device, '/dev/vdb');

  const list = await c.request('GET', `${N}/servers/${sid}/os-volume_attachments`, { token: c.adminToken });
  assert.deepEqual(
    list.json.volumeAttachments.map((a: any) => a.volumeId),
    [vid],
  );
  const show = await c.request('GET', `${N}/servers/${sid}`, { token: c.adminToken, headers: nova('2.3') });
  assert.deepEqual(show.json.server['os-extended-volumes:volumes_attached'], [
    { id: vid, delete_on_termination: false },
  ]);

  const twice = await c.request('POST', `${N}/servers/${sid}/os-volume_attachments`, {
    token: c.adminToken,
    body: { volumeAttachment: { volumeId: vid } },
  });
  assert.equal(twice.status, 400, twice.text);
  const del = await c.request('DELETE', `${V}/volumes/${vid}`, { token: c.adminToken });
  assert.equal(del.status, 400, del.text);
  const other = await server('att2');
  const elsewhere = await c.request('POST', `${N}/servers/${other}/os-volume_attachments`, {
    token: c.adminToken,
    body: { volumeAttachment: { volumeId: vid } },
  });
  assert.equal(elsewhere.status, 400, elsewhere.text);

  // online extend (3.42): the fake has no file to grow, so the backend grows it
  const ext = await c.request('POST', `${V}/volumes/${vid}/action`, {
    token: c.adminToken,
    body: { 'os-extend': { new_size: 2 } },
    headers: { 'openstack-api-version': 'volume 3.42' },
  });
  assert.equal(ext.status, 202, ext.text);
  const grown = await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'in-use');
  assert.equal(grown.size, 2);
  // Nova's side records it as the server's extend_volume action (Tempest waits for it)
  const acts = await c.request('GET', `${N}/servers/${sid}/os-instance-actions`, { token: c.adminToken });
  assert.ok(
    acts.json.instanceActions.some((a: any) => a.action === 'extend_volume'),
    acts.text,
  );

  const det = await c.request('DELETE', `${N}/servers/${sid}/os-volume_attachments/${vid}`, { token: c.adminToken });
  assert.equal(det.status, 202, det.text);
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'available');
  const gone = await c.request('GET', `${N}/servers/${sid}/os-volume_attachments/${vid}`, { token: c.adminToken });
  assert.equal(gone.status, 404);

  // the second server now takes it
  const again = await c.request('POST', `${N}/servers/${other}/os-volume_attachments`, {
    token: c.adminToken,
    body: { volumeAttachment: { volumeId: vid } },
  });
  assert.equal(again.status, 200, again.text);
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'in-use');
  // deleting the server frees the volume (delete_on_termination false keeps it)
  const sdel = await c.request('DELETE', `${N}/servers/${other}`, { token: c.adminToken });
  assert.equal(sdel.status, 204, sdel.text);
  await waitFor(c, c.adminToken, other, 'DELETED');
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'available');
});

test('delete_on_termination (2.79) deletes the volume with the server; unknown volumes are 404', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const sid = await server('att3');
  const vid = await volume();
  const old = await c.request('POST', `${N}/servers/${sid}/os-volume_attachments`, {
    token: c.adminToken,
    body: { volumeAttachment: { volumeId: vid, delete_on_termination: true } },
  });
  assert.equal(old.status, 400, old.text);
  const att = await c.request('POST', `${N}/servers/${sid}/os-volume_attachments`, {
    token: c.adminToken,
    body: { volumeAttachment: { volumeId: vid, delete_on_termination: true, tag: 'data' } },
    headers: nova('2.79'),
  });
  assert.equal(att.status, 200, att.text);
  assert.equal(att.json.volumeAttachment.delete_on_termination, true);
  assert.equal(att.json.volumeAttachment.tag, 'data');
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'in-use');
  const missing = await c.request('POST', `${N}/servers/${sid}/os-volume_attachments`, {
    token: c.adminToken,
    body: { volumeAttachment: { volumeId: '00000000-0000-0000-0000-000000000000' } },
  });
  assert.equal(missing.status, 404, missing.text);
  await c.request('DELETE', `${N}/servers/${sid}`, { token: c.adminToken });
  await waitFor(c, c.adminToken, sid, 'DELETED');
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'DELETED');
});

test("Cinder's record-only actions: reserve, unreserve, attach, begin/roll detaching, detach", async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const vid = await volume();
  const act = (body: unknown) => c.request('POST', `${V}/volumes/${vid}/action`, { token: c.adminToken, body });
  assert.equal((await act({ 'os-reserve': null })).status, 202);
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'attaching');
  assert.equal((await act({ 'os-unreserve': null })).status, 202);
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'available');
  const sid = '11111111-2222-3333-4444-555555555555';
  assert.equal((await act({ 'os-attach': { instance_uuid: sid, mountpoint: '/dev/vdc' } })).status, 202);
  const v = await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'in-use');
  assert.equal(v.attachments[0].device, '/dev/vdc');
  assert.equal((await act({ 'os-begin_detaching': null })).status, 202);
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'detaching');
  assert.equal((await act({ 'os-roll_detaching': null })).status, 202);
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'in-use');
  assert.equal((await act({ 'os-detach': {} })).status, 202);
  await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'available');
  await c.request('DELETE', `${V}/volumes/${vid}`, { token: c.adminToken });
});
