// Cinder's QoS specs: CRUD with Cinder's checks, keys, association with volume types, admin-only; and a front-end
// spec reaching the hypervisor when a volume of the type is attached (fake driver).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { requireOrSkip } from '../../helpers/requirements.js';
import { createProject, createUser } from '../identity/fixtures.js';
import { makeImage, waitFor } from '../compute/helpers.js';
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

const admin = (method: string, path: string, body?: unknown) =>
  c.request(method, `${V}${path}`, { token: c.adminToken, ...(body === undefined ? {} : { body }) });

async function volumeType(name: string): Promise<string> {
  const r = await admin('POST', '/types', { volume_type: { name } });
  assert.equal(r.status, 200, r.text);
  return r.json.volume_type.id as string;
}

test('create, show, list, set and unset keys, delete; Cinder 400/404/409s', async () => {
  const cr = await admin('POST', '/qos-specs', {
    qos_specs: { name: ' gold ', consumer: 'front-end', read_iops_sec: '2000' },
  });
  assert.equal(cr.status, 200, cr.text);
  const q = cr.json.qos_specs;
  assert.deepEqual(
    { name: q.name, consumer: q.consumer, specs: q.specs },
    { name: 'gold', consumer: 'front-end', specs: { read_iops_sec: '2000' } },
  );
  assert.ok(cr.json.links.some((l: any) => l.href.endsWith(`/qos-specs/${q.id}`)));
  const list = await admin('GET', '/qos-specs');
  assert.deepEqual(
    list.json.qos_specs.find((x: any) => x.id === q.id),
    q,
  );
  assert.deepEqual((await admin('GET', `/qos-specs/${q.id}`)).json.qos_specs, q);
  const back = await admin('POST', '/qos-specs', { qos_specs: { name: 'silver' } });
  assert.equal(back.json.qos_specs.consumer, 'back-end');

  assert.equal((await admin('POST', '/qos-specs', { qos_specs: { name: 'gold' } })).status, 409);
  assert.equal((await admin('POST', '/qos-specs', { qos_specs: { consumer: 'both' } })).status, 400);
  assert.equal((await admin('POST', '/qos-specs', { qos_specs: { name: '   ' } })).status, 400);
  const badConsumer = await admin('POST', '/qos-specs', { qos_specs: { name: 'x', consumer: 'middle' } });
  assert.equal(badConsumer.status, 400, badConsumer.text);
  assert.match(badConsumer.json.badRequest.message, /Consumer middle/);
  const notInt = await admin('POST', '/qos-specs', { qos_specs: { name: 'x', total_iops_sec: 'fast' } });
  assert.equal(notInt.status, 400, notInt.text);
  const both = await admin('POST', '/qos-specs', {
    qos_specs: { name: 'x', total_bytes_sec: '1', read_bytes_sec: '1' },
  });
  assert.equal(both.status, 400, both.text);

  const set = await admin('PUT', `/qos-specs/${q.id}`, { qos_specs: { iops_bytes: '500' } });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.json, { qos_specs: { iops_bytes: '500' } });
  assert.equal((await admin('GET', `/qos-specs/${q.id}`)).json.qos_specs.specs.iops_bytes, '500');
  assert.equal((await admin('PUT', `/qos-specs/${q.id}`, { qos_specs: { consumer: 'nope' } })).status, 400);
  assert.equal((await admin('PUT', `/qos-specs/${q.id}/delete_keys`, { keys: ['iops_bytes'] })).status, 202);
  assert.equal((await admin('PUT', `/qos-specs/${q.id}/delete_keys`, { keys: ['iops_bytes'] })).status, 400);
  assert.deepEqual((await admin('GET', `/qos-specs/${q.id}`)).json.qos_specs.specs, { read_iops_sec: '2000' });

  assert.equal((await admin('DELETE', `/qos-specs/${back.json.qos_specs.id}`)).status, 202);
  assert.equal((await admin('GET', `/qos-specs/${back.json.qos_specs.id}`)).status, 404);
  assert.equal((await admin('GET', '/qos-specs/00000000-0000-4000-8000-000000000000')).status, 404);
});

test('associate with types (one QoS per type), associations, disassociate, delete in use needs force', async () => {
  const q = (await admin('POST', '/qos-specs', { qos_specs: { name: 'assoc', consumer: 'both' } })).json.qos_specs;
  const other = (await admin('POST', '/qos-specs', { qos_specs: { name: 'assoc2' } })).json.qos_specs;
  const t1 = await volumeType('qos-t1');
  const t2 = await volumeType('qos-t2');
  for (const t of [t1, t2])
    assert.equal((await admin('GET', `/qos-specs/${q.id}/associate?vol_type_id=${t}`)).status, 202);
  assert.equal((await admin('GET', `/qos-specs/${q.id}/associate?vol_type_id=${t1}`)).status, 202);
  const taken = await admin('GET', `/qos-specs/${other.id}/associate?vol_type_id=${t1}`);
  assert.equal(taken.status, 400, taken.text);
  assert.equal((await admin('GET', `/qos-specs/${q.id}/associate`)).status, 400);
  assert.equal((await admin('GET', `/qos-specs/${q.id}/associate?vol_type_id=nope`)).status, 404);
  const assoc = await admin('GET', `/qos-specs/${q.id}/associations`);
  assert.equal(assoc.status, 200, assoc.text);
  assert.deepEqual(
    assoc.json.qos_associations.map((a: any) => [a.association_type, a.id]).sort(),
    [
      ['volume_type', t1],
      ['volume_type', t2],
    ].sort(),
  );
  assert.equal((await admin('GET', `/types/${t1}`)).json.volume_type.qos_specs_id, q.id);

  assert.equal((await admin('GET', `/qos-specs/${q.id}/disassociate?vol_type_id=${t1}`)).status, 202);
  assert.deepEqual(
    (await admin('GET', `/qos-specs/${q.id}/associations`)).json.qos_associations.map((a: any) => a.id),
    [t2],
  );
  const inUse = await admin('DELETE', `/qos-specs/${q.id}`);
  assert.equal(inUse.status, 400, inUse.text);
  assert.equal((await admin('GET', `/qos-specs/${q.id}/disassociate_all`)).status, 202);
  assert.deepEqual((await admin('GET', `/qos-specs/${q.id}/associations`)).json.qos_associations, []);
  assert.equal((await admin('GET', `/qos-specs/${other.id}/associate?vol_type_id=${t1}`)).status, 202);
  assert.equal((await admin('DELETE', `/qos-specs/${other.id}?force=True`)).status, 202);
  assert.equal((await admin('GET', `/types/${t1}`)).json.volume_type.qos_specs_id, null);
});

test('QoS specs are for admins only', async () => {
  const proj = await createProject(c);
  const member = await createUser(c, proj.id, proj.name, ['member']);
  const U = `/volume/v3/${proj.id}`;
  const list = await c.request('GET', `${U}/qos-specs`, { token: member.token });
  assert.equal(list.status, 403, list.text);
  const cr = await c.request('POST', `${U}/qos-specs`, { token: member.token, body: { qos_specs: { name: 'm' } } });
  assert.equal(cr.status, 403, cr.text);
});

test('a front-end spec reaches the hypervisor on attach; per-GB keys scale; back-end does not', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const image = await makeImage(c, { name: 'qos-img' });
  const srv = await c.request('POST', '/compute/v2.1/servers', {
    token: c.adminToken,
    body: { server: { name: 'qos-vm', imageRef: image, flavorRef: '42', networks: 'none' } },
    headers: { 'x-openstack-nova-api-version': '2.37' },
  });
  assert.equal(srv.status, 202, srv.text);
  const sid = srv.json.server.id as string;
  await waitFor(c, c.adminToken, sid, 'ACTIVE');
  const attached = async (consumer: string, specs: Record<string, string>, size: number) => {
    const q = (await admin('POST', '/qos-specs', { qos_specs: { name: `fe-${consumer}-${size}`, consumer, ...specs } }))
      .json.qos_specs;
    const type = await volumeType(`fe-type-${consumer}-${size}`);
    assert.equal((await admin('GET', `/qos-specs/${q.id}/associate?vol_type_id=${type}`)).status, 202);
    const v = await admin('POST', '/volumes', { volume: { size, volume_type: type } });
    assert.equal(v.status, 202, v.text);
    const vid = v.json.volume.id as string;
    await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'available');
    const att = await c.request('POST', `/compute/v2.1/servers/${sid}/os-volume_attachments`, {
      token: c.adminToken,
      body: { volumeAttachment: { volumeId: vid } },
    });
    assert.equal(att.status, 200, att.text);
    await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'in-use');
    const log = await c.request('POST', `/compute/v2.1/servers/${sid}/action`, {
      token: c.adminToken,
      body: { 'os-getConsoleOutput': { length: 50 } },
    });
    return (log.json.output as string).split('\n').find((l) => l.includes(`attached (${vid})`)) ?? '';
  };
  const fe = await attached('front-end', { read_iops_sec: '300', write_bytes_sec: '1048576' }, 1);
  assert.match(fe, / read_iops_sec=300/);
  assert.match(fe, / write_bytes_sec=1048576/);
  const perGb = await attached('both', { total_iops_sec_per_gb: '50' }, 2);
  assert.match(perGb, / total_iops_sec=100$/);
  const be = await attached('back-end', { read_iops_sec: '300' }, 1);
  assert.ok(be && !be.includes('read_iops_sec'), be);
});
