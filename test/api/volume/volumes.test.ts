// Cinder v3 on the in-process cloud: versions, volumes (blank, from snapshot, volume, image), snapshots, types,
// quotas, limits and policy, with the file backend writing real qcow2 files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { requireOrSkip } from '../../helpers/requirements.js';
import { createProject, createUser } from '../identity/fixtures.js';
import { makeImage } from '../compute/helpers.js';
import { hasQemuImg, projectOf, waitStatus } from './helpers.js';

let c: TestCloud;
let P: string;
let V: string;
before(async () => {
  c = await createTestCloud();
  P = await projectOf(c, c.adminToken);
  V = `/volume/v3/${P}`;
});
after(async () => {
  await c.controller.deps.volume.idle();
  await c.close();
});

const mv = (v: string) => ({ 'openstack-api-version': `volume ${v}` });

test('version discovery answers 300 at the root and the v3 document with microversions', async () => {
  const root = await c.request('GET', '/volume/');
  assert.equal(root.status, 300);
  assert.equal(root.json.versions[0].id, 'v3.0');
  assert.equal(root.json.versions[0].min_version, '3.0');
  const v3 = await c.request('GET', '/volume/v3/');
  assert.equal(v3.status, 200);
  const r = await c.request('GET', `${V}/volumes`, { token: c.adminToken, headers: mv('3.50') });
  assert.equal(r.headers['openstack-api-version'], 'volume 3.50');
  const bad = await c.request('GET', `${V}/volumes`, { token: c.adminToken, headers: mv('3.999') });
  assert.equal(bad.status, 406);
  assert.ok(bad.json.notAcceptable ?? bad.json.computeFault ?? bad.json, bad.text);
});

test('the catalog has block-storage and volumev3 with the project in the URL', async () => {
  const r = await c.request('GET', '/identity/v3/auth/catalog', { token: c.adminToken });
  const types = r.json.catalog.map((s: any) => s.type);
  assert.ok(types.includes('block-storage') && types.includes('volumev3'), types.join(','));
  const ep = r.json.catalog.find((s: any) => s.type === 'volumev3').endpoints[0].url as string;
  assert.match(ep, /\/volume\/v3\/[0-9a-f]{32}$/);
});

test('a blank volume is a 0600 qcow2 file; list, show, update, metadata, extend, delete', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const cr = await c.request('POST', `${V}/volumes`, {
    token: c.adminToken,
    body: { volume: { size: 1, name: 'v1', metadata: { a: 'b' } } },
  });
  assert.equal(cr.status, 202, cr.text);
  assert.equal(cr.json.volume.status, 'creating');
  // Cinder's extension attributes are on show and detail only; Tempest's create and update schemas refuse them.
  assert.equal(cr.json.volume['os-vol-tenant-attr:tenant_id'], undefined);
  assert.equal(cr.json.volume['os-vol-host-attr:host'], undefined);
  const id = cr.json.volume.id as string;
  const v = await waitStatus(c, c.adminToken, `${V}/volumes/${id}`, 'volume', 'available');
  assert.equal(v.size, 1);
  assert.equal(v.volume_type, '__DEFAULT__');
  assert.equal(v.bootable, 'false');
  assert.deepEqual(v.attachments, []);
  assert.match(v['os-vol-host-attr:host'], /.+@file#file/);
  assert.equal(v['os-vol-tenant-attr:tenant_id'], P);
  const file = join(c.config.dataDir, 'volumes', `volume-${id}`);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(c.config.dataDir, 'volumes')).mode & 0o777, 0o700);

  const list = await c.request('GET', `${V}/volumes?name=v1`, { token: c.adminToken });
  assert.deepEqual(
    list.json.volumes.map((x: any) => x.id),
    [id],
  );
  assert.deepEqual(Object.keys(list.json.volumes[0]).sort(), ['id', 'links', 'name']);
  const upd = await c.request('PUT', `${V}/volumes/${id}`, {
    token: c.adminToken,
    body: { volume: { name: 'v1b', description: 'd' } },
  });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.json.volume['os-vol-tenant-attr:tenant_id'], undefined);
  assert.equal(upd.json.volume.name, 'v1b');
  const meta = await c.request('POST', `${V}/volumes/${id}/metadata`, {
    token: c.adminToken,
    body: { metadata: { c: 'd' } },
  });
  assert.deepEqual(meta.json.metadata, { a: 'b', c: 'd' });
  const byMeta = await c.request('GET', `${V}/volumes/detail?metadata=${encodeURIComponent('{"c":"d"}')}`, {
    token: c.adminToken,
  });
  assert.equal(byMeta.json.volumes.length, 1);

  const small = await c.request('POST', `${V}/volumes/${id}/action`, {
    token: c.adminToken,
    body: { 'os-extend': { new_size: 1 } },
  });
  assert.equal(small.status, 400, small.text);
  assert.ok(small.json.badRequest.message.includes('greater than current size'));
  const ext = await c.request('POST', `${V}/volumes/${id}/action`, {
    token: c.adminToken,
    body: { 'os-extend': { new_size: 2 } },
  });
  assert.equal(ext.status, 202, ext.text);
  const grown = await waitStatus(c, c.adminToken, `${V}/volumes/${id}`, 'volume', 'available');
  assert.equal(grown.size, 2);
  const boot = await c.request('POST', `${V}/volumes/${id}/action`, {
    token: c.adminToken,
    body: { 'os-set_bootable': { bootable: true } },
  });
  assert.equal(boot.status, 200, boot.text);

  const sum = await c.request('GET', `${V}/volumes/summary`, { token: c.adminToken, headers: mv('3.12') });
  assert.equal(sum.status, 200, sum.text);
  assert.ok(sum.json['volume-summary'].total_count >= 1);

  const del = await c.request('DELETE', `${V}/volumes/${id}`, { token: c.adminToken });
  assert.equal(del.status, 202, del.text);
  await waitStatus(c, c.adminToken, `${V}/volumes/${id}`, 'volume', 'DELETED');
  assert.throws(() => statSync(file));
});

test(
  'snapshots, a volume from a snapshot and a clone; a volume with snapshots is only deleted with ' + 'cascade',
  async (t) => {
    if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
    const cr = await c.request('POST', `${V}/volumes`, { token: c.adminToken, body: { volume: { size: 1 } } });
    const id = cr.json.volume.id as string;
    await waitStatus(c, c.adminToken, `${V}/volumes/${id}`, 'volume', 'available');
    const sn = await c.request('POST', `${V}/snapshots`, {
      token: c.adminToken,
      body: { snapshot: { volume_id: id, name: 's1' } },
    });
    assert.equal(sn.status, 202, sn.text);
    const sid = sn.json.snapshot.id as string;
    const s = await waitStatus(c, c.adminToken, `${V}/snapshots/${sid}`, 'snapshot', 'available');
    assert.equal(s['os-extended-snapshot-attributes:progress'], '100%');

    const tooSmall = await c.request('POST', `${V}/volumes`, {
      token: c.adminToken,
      body: { volume: { size: 1, snapshot_id: sid } },
    });
    assert.equal(tooSmall.status, 202, tooSmall.text);
    const fromSnap = await c.request('POST', `${V}/volumes`, {
      token: c.adminToken,
      body: { volume: { snapshot_id: sid, size: 2 } },
    });
    assert.equal(fromSnap.status, 202, fromSnap.text);
    const fs = await waitStatus(c, c.adminToken, `${V}/volumes/${fromSnap.json.volume.id}`, 'volume', 'available');
    assert.equal(fs.snapshot_id, sid);
    assert.equal(fs.size, 2);
    const clone = await c.request('POST', `${V}/volumes`, {
      token: c.adminToken,
      body: { volume: { source_volid: id } },
    });
    assert.equal(clone.status, 202, clone.text);
    await waitStatus(c, c.adminToken, `${V}/volumes/${clone.json.volume.id}`, 'volume', 'available');

    const refused = await c.request('DELETE', `${V}/volumes/${id}`, { token: c.adminToken });
    assert.equal(refused.status, 400, refused.text);
    // the snapshot's clone survives the snapshot's deletion (its base is a hard link)
    const cascade = await c.request('DELETE', `${V}/volumes/${id}?cascade=true`, { token: c.adminToken });
    assert.equal(cascade.status, 202, cascade.text);
    await waitStatus(c, c.adminToken, `${V}/volumes/${id}`, 'volume', 'DELETED');
    await waitStatus(c, c.adminToken, `${V}/snapshots/${sid}`, 'snapshot', 'DELETED');
    const still = await c.request('GET', `${V}/volumes/${fromSnap.json.volume.id}`, { token: c.adminToken });
    assert.equal(still.json.volume.status, 'available');
    for (const v of [fromSnap.json.volume.id, clone.json.volume.id, tooSmall.json.volume.id]) {
      await waitStatus(c, c.adminToken, `${V}/volumes/${v}`, 'volume', 'available');
      await c.request('DELETE', `${V}/volumes/${v}`, { token: c.adminToken });
    }
    await c.controller.deps.volume.idle();
  },
);

test('a volume from an image is bootable, carries the image metadata and is a cheap overlay', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const image = await makeImage(c, { name: 'vol-src' });
  const cr = await c.request('POST', `${V}/volumes`, {
    token: c.adminToken,
    body: { volume: { size: 1, imageRef: image } },
  });
  assert.equal(cr.status, 202, cr.text);
  const v = await waitStatus(c, c.adminToken, `${V}/volumes/${cr.json.volume.id}`, 'volume', 'available');
  assert.equal(v.bootable, 'true');
  assert.equal(v.volume_image_metadata.image_id, image);
  // Cinder shows the image metadata on show and detail only; Tempest's create and update schemas refuse it.
  assert.equal(cr.json.volume.volume_image_metadata, undefined, cr.text);
  const renamed = await c.request('PUT', `${V}/volumes/${v.id}`, {
    token: c.adminToken,
    body: { volume: { name: 'from-image' } },
  });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.json.volume.volume_image_metadata, undefined, renamed.text);
  const file = statSync(join(c.config.dataDir, 'volumes', `volume-${v.id}`));
  assert.ok(file.size < 1024 * 1024, `overlay is small (${file.size} bytes)`);
  const missing = await c.request('POST', `${V}/volumes`, {
    token: c.adminToken,
    body: { volume: { size: 1, imageRef: '00000000-0000-0000-0000-000000000000' } },
  });
  assert.equal(missing.status, 400, missing.text);
  await c.request('DELETE', `${V}/volumes/${v.id}`, { token: c.adminToken });
  await c.controller.deps.volume.idle();
});

test('bad input answers Cinder 4xx bodies and leaves nothing behind', async () => {
  const before = await c.request('GET', `${V}/volumes`, { token: c.adminToken });
  for (const body of [
    {},
    { volume: { size: 0 } },
    { volume: { size: -1 } },
    { volume: { size: 'abc' } },
    { volume: {} },
    { volume: { size: 1, availability_zone: 'mars' } },
  ]) {
    const r = await c.request('POST', `${V}/volumes`, { token: c.adminToken, body });
    assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.text}`);
    assert.ok(r.json.badRequest?.message, r.text);
  }
  const noType = await c.request('POST', `${V}/volumes`, {
    token: c.adminToken,
    body: { volume: { size: 1, volume_type: 'nope' } },
  });
  assert.equal(noType.status, 404, noType.text);
  assert.ok(noType.json.itemNotFound);
  const noSnap = await c.request('POST', `${V}/volumes`, {
    token: c.adminToken,
    body: { volume: { size: 1, snapshot_id: '00000000-0000-0000-0000-000000000000' } },
  });
  assert.equal(noSnap.status, 404, noSnap.text);
  const wrongProject = await c.request('GET', '/volume/v3/00000000000000000000000000000000/volumes', {
    token: c.adminToken,
  });
  assert.equal(wrongProject.status, 400);
  const badAction = await c.request('POST', `${V}/volumes/00000000-0000-0000-0000-000000000000/action`, {
    token: c.adminToken,
    body: { 'os-nothing': {} },
  });
  assert.equal(badAction.status, 400, badAction.text);
  const after = await c.request('GET', `${V}/volumes`, { token: c.adminToken });
  assert.equal(after.json.volumes.length, before.json.volumes.length);
});

test('quotas: per project and per type, over quota is 413 overLimit; limits and usage agree', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const proj = await createProject(c);
  const user = await createUser(c, proj.id, proj.name, ['member']);
  const U = `/volume/v3/${proj.id}`;
  const set = await c.request('PUT', `${V}/os-quota-sets/${proj.id}`, {
    token: c.adminToken,
    body: { quota_set: { volumes: 1, gigabytes: 3 } },
  });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.quota_set.volumes, 1);
  const big = await c.request('POST', `${U}/volumes`, { token: user.token, body: { volume: { size: 4 } } });
  assert.equal(big.status, 413, big.text);
  assert.ok(big.json.overLimit.message.includes('gigabytes'), big.text);
  const one = await c.request('POST', `${U}/volumes`, { token: user.token, body: { volume: { size: 1 } } });
  assert.equal(one.status, 202, one.text);
  const two = await c.request('POST', `${U}/volumes`, { token: user.token, body: { volume: { size: 1 } } });
  assert.equal(two.status, 413, two.text);
  const q = await c.request('GET', `${U}/os-quota-sets/${proj.id}?usage=True`, { token: user.token });
  assert.equal(q.status, 200, q.text);
  assert.deepEqual(q.json.quota_set.volumes, { limit: 1, in_use: 1, reserved: 0, allocated: 0 });
  assert.ok('volumes___DEFAULT__' in q.json.quota_set);
  const lim = await c.request('GET', `${U}/limits`, { token: user.token });
  assert.equal(lim.json.limits.absolute.totalVolumesUsed, 1);
  assert.equal(lim.json.limits.absolute.maxTotalVolumes, 1);
  // a member may not change quotas or see another project's
  const deny = await c.request('PUT', `${U}/os-quota-sets/${proj.id}`, {
    token: user.token,
    body: { quota_set: { volumes: 100 } },
  });
  assert.equal(deny.status, 403, deny.text);
  const other = await c.request('GET', `${U}/os-quota-sets/${P}`, { token: user.token });
  assert.equal(other.status, 403, other.text);
  await waitStatus(c, user.token, `${U}/volumes/${one.json.volume.id}`, 'volume', 'available');
  await c.request('DELETE', `${U}/volumes/${one.json.volume.id}`, { token: user.token });
  await c.controller.deps.volume.idle();
});

test('policy: readers read, members write their project, other projects see 404', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const proj = await createProject(c);
  const member = await createUser(c, proj.id, proj.name, ['member']);
  const reader = await createUser(c, proj.id, proj.name, ['reader']);
  const U = `/volume/v3/${proj.id}`;
  const cr = await c.request('POST', `${U}/volumes`, { token: member.token, body: { volume: { size: 1 } } });
  assert.equal(cr.status, 202, cr.text);
  const id = cr.json.volume.id as string;
  assert.equal(cr.json.volume['os-vol-host-attr:host'], undefined);
  const r1 = await c.request('GET', `${U}/volumes/${id}`, { token: reader.token });
  assert.equal(r1.status, 200);
  const r2 = await c.request('POST', `${U}/volumes`, { token: reader.token, body: { volume: { size: 1 } } });
  assert.equal(r2.status, 403, r2.text);
  const r3 = await c.request('DELETE', `${U}/volumes/${id}`, { token: reader.token });
  assert.equal(r3.status, 403, r3.text);
  const foreign = await c.request('GET', `${V}/volumes/${id}`, {
    token: (await createUser(c, P, 'admin', ['member'])).token,
  });
  assert.equal(foreign.status, 404, foreign.text);
  const types = await c.request('POST', `${U}/types`, { token: member.token, body: { volume_type: { name: 'x' } } });
  assert.equal(types.status, 403);
  const svcs = await c.request('GET', `${U}/os-services`, { token: member.token });
  assert.equal(svcs.status, 403);
  const reset = await c.request('POST', `${U}/volumes/${id}/action`, {
    token: member.token,
    body: { 'os-reset_status': { status: 'error' } },
  });
  assert.equal(reset.status, 403, reset.text);
  await waitStatus(c, member.token, `${U}/volumes/${id}`, 'volume', 'available');
  await c.request('DELETE', `${U}/volumes/${id}`, { token: member.token });
  await c.controller.deps.volume.idle();
});

test('volume types: create, extra specs, private access, in-use types cannot be deleted', async () => {
  const cr = await c.request('POST', `${V}/types`, {
    token: c.adminToken,
    body: { volume_type: { name: 'gold', extra_specs: { a: '1' } } },
  });
  assert.equal(cr.status, 200, cr.text);
  const id = cr.json.volume_type.id as string;
  const dup = await c.request('POST', `${V}/types`, { token: c.adminToken, body: { volume_type: { name: 'gold' } } });
  assert.equal(dup.status, 409);
  const es = await c.request('POST', `${V}/types/${id}/extra_specs`, {
    token: c.adminToken,
    body: { extra_specs: { b: '2' } },
  });
  // Cinder answers the specs it was given; the type keeps both.
  assert.deepEqual(es.json.extra_specs, { b: '2' });
  const all = await c.request('GET', `${V}/types/${id}/extra_specs`, { token: c.adminToken });
  assert.deepEqual(all.json.extra_specs, { a: '1', b: '2' });
  const priv = await c.request('POST', `${V}/types`, {
    token: c.adminToken,
    body: { volume_type: { name: 'secret', 'os-volume-type-access:is_public': false } },
  });
  const pid = priv.json.volume_type.id as string;
  const proj = await createProject(c);
  const user = await createUser(c, proj.id, proj.name, ['member']);
  const U = `/volume/v3/${proj.id}`;
  const hidden = await c.request('GET', `${U}/types`, { token: user.token });
  assert.ok(!hidden.json.volume_types.some((t: any) => t.id === pid));
  const add = await c.request('POST', `${V}/types/${pid}/action`, {
    token: c.adminToken,
    body: { addProjectAccess: { project: proj.id } },
  });
  assert.equal(add.status, 202, add.text);
  const shown = await c.request('GET', `${U}/types`, { token: user.token });
  assert.ok(shown.json.volume_types.some((t: any) => t.id === pid));
  const acc = await c.request('GET', `${V}/types/${pid}/os-volume-type-access`, { token: c.adminToken });
  assert.deepEqual(acc.json.volume_type_access, [{ volume_type_id: pid, project_id: proj.id }]);
  const def = await c.request('GET', `${V}/types/default`, { token: c.adminToken });
  assert.equal(def.json.volume_type.name, '__DEFAULT__');
  const delDef = await c.request('DELETE', `${V}/types/${def.json.volume_type.id}`, { token: c.adminToken });
  assert.equal(delDef.status, 400);
  const del = await c.request('DELETE', `${V}/types/${id}`, { token: c.adminToken });
  assert.equal(del.status, 202, del.text);
});

test('availability zones, services, messages and extensions', async () => {
  const az = await c.request('GET', `${V}/os-availability-zone`, { token: c.adminToken });
  assert.deepEqual(az.json.availabilityZoneInfo, [{ zoneName: 'nova', zoneState: { available: true } }]);
  const s = await c.request('GET', `${V}/os-services`, { token: c.adminToken });
  assert.ok(s.json.services.some((x: any) => x.binary === 'cinder-volume' && x.state === 'up'));
  const m0 = await c.request('GET', `${V}/messages`, { token: c.adminToken });
  assert.equal(m0.status, 404);
  const m = await c.request('GET', `${V}/messages`, { token: c.adminToken, headers: mv('3.3') });
  assert.equal(m.status, 200, m.text);
  const ext = await c.request('GET', `${V}/extensions`, { token: c.adminToken });
  assert.ok(ext.json.extensions.length > 0);
});
