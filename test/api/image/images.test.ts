import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { V2, PATCH, OCTET, memberOf, createImage, upload, download } from './helpers.js';

let cloud: TestCloud;
let alt: { token: string; projectId: string };
before(async () => {
  cloud = await createTestCloud();
  alt = await memberOf(cloud, 'img-alt');
});
after(async () => {
  await cloud.close();
});

const imagesDir = () => join(cloud.config.dataDir, 'images');

test('versions document at /image and the catalog entry', async () => {
  const res = await cloud.request('GET', '/image/');
  assert.equal(res.status, 300);
  assert.ok(res.json.versions.some((v: { id: string; status: string }) => v.id === 'v2.17' && v.status === 'CURRENT'));
  const cat = await cloud.request('GET', '/identity/v3/auth/catalog', { token: cloud.adminToken });
  const img = cat.json.catalog.find((s: { type: string }) => s.type === 'image');
  assert.equal(img.name, 'glance');
  assert.ok(img.endpoints[0].url.endsWith('/image'));
});

test('create, upload, show, download with checksums and Range', async () => {
  const c = await createImage(cloud, cloud.adminToken, {
    name: 'img-1',
    min_disk: 1,
    min_ram: 64,
    tags: ['a', 'b'],
    ramdisk_id: 'x',
  });
  assert.equal(c.status, 201);
  const img = c.json;
  assert.equal(img.status, 'queued');
  assert.equal(img.visibility, 'shared');
  assert.deepEqual(img.tags, ['a', 'b']);
  assert.equal(img.ramdisk_id, 'x');
  assert.equal(img.size, null);
  assert.equal(img.self, `/v2/images/${img.id}`);
  assert.equal((await cloud.request('GET', `${V2}/images/${img.id}/file`, { token: cloud.adminToken })).status, 204);

  const data = randomBytes(300_000);
  const up = await upload(cloud, cloud.adminToken, img.id, data);
  assert.equal(up.status, 204, up.text);
  const shown = (await cloud.request('GET', `${V2}/images/${img.id}`, { token: cloud.adminToken })).json;
  assert.equal(shown.status, 'active');
  assert.equal(shown.size, data.length);
  assert.equal(shown.virtual_size, data.length);
  assert.equal(shown.checksum, createHash('md5').update(data).digest('hex'));
  assert.equal(shown.os_hash_algo, 'sha512');
  assert.equal(shown.os_hash_value, createHash('sha512').update(data).digest('hex'));
  assert.equal(shown.stores, 'local');
  assert.equal(shown.locations, undefined, 'locations are hidden');

  const dl = await download(cloud, cloud.adminToken, img.id);
  assert.equal(dl.statusCode, 200);
  assert.equal(dl.headers['content-md5'], shown.checksum);
  assert.ok(dl.rawPayload.equals(data));
  const part = await cloud.request('GET', `${V2}/images/${img.id}/file`, {
    token: cloud.adminToken,
    headers: { range: 'bytes=10-19' },
  });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], `bytes 10-19/${data.length}`);
  assert.equal(part.headers['content-length'], '10');
  const bad = await cloud.request('GET', `${V2}/images/${img.id}/file`, {
    token: cloud.adminToken,
    headers: { range: `bytes=${data.length}-` },
  });
  assert.equal(bad.status, 416);
  assert.match(bad.headers['content-type'] as string, /text\/plain/);

  const again = await upload(cloud, cloud.adminToken, img.id, Buffer.from('x'));
  assert.equal(again.status, 409, 'a second upload to an active image is refused');
  assert.equal(
    (await cloud.request('GET', `${V2}/images/${img.id}`, { token: cloud.adminToken })).json.checksum,
    shown.checksum,
  );

  assert.equal((await cloud.request('DELETE', `${V2}/images/${img.id}`, { token: cloud.adminToken })).status, 204);
  assert.equal((await cloud.request('GET', `${V2}/images/${img.id}`, { token: cloud.adminToken })).status, 404);
  assert.ok(!existsSync(join(imagesDir(), img.id)), 'delete removes the data');
});

test('wrong Content-Length and truncated uploads leave nothing and the image queued', async () => {
  const img = (await createImage(cloud, cloud.adminToken, { name: 'trunc' })).json;
  const r = await upload(cloud, cloud.adminToken, img.id, Buffer.alloc(100), { 'content-length': '50' });
  // inject hands the whole 100-byte payload to the handler under a Content-Length of 50: the mismatch is refused.
  assert.equal(r.status, 400, r.text);
  assert.match(r.text, /Received 100 bytes but Content-Length said 50; nothing was stored/);
  const after = (await cloud.request('GET', `${V2}/images/${img.id}`, { token: cloud.adminToken })).json;
  assert.deepEqual([after.status, after.size], ['queued', null]);
  const img2 = (await createImage(cloud, cloud.adminToken, { name: 'trunc2' })).json;
  const short = await cloud.controller.server
    .inject({
      method: 'PUT',
      url: `${V2}/images/${img2.id}/file`,
      headers: { ...OCTET, 'x-auth-token': cloud.adminToken, 'content-length': '1000' },
      payload: Buffer.alloc(10),
    })
    .catch((e: Error) => e);
  if (!(short instanceof Error))
    assert.ok(short.statusCode >= 400 && short.statusCode < 500, `status ${short.statusCode}`);
  const after2 = (await cloud.request('GET', `${V2}/images/${img2.id}`, { token: cloud.adminToken })).json;
  assert.equal(after2.status, 'queued');
  assert.equal(after2.size, null);
  assert.deepEqual(readdirSync(join(imagesDir(), '.tmp')), []);
  assert.ok(!existsSync(join(imagesDir(), img2.id)));
});

test('bad input on create: unknown formats, long names, read-only and reserved attributes, 1000 tags', async () => {
  const t = cloud.adminToken;
  const cases: [Record<string, unknown>, number][] = [
    [{ disk_format: 'wrong' }, 400],
    [{ container_format: 'wrong' }, 400],
    [{ name: 'n'.repeat(256) }, 400],
    [{ status: 'active' }, 403],
    [{ size: 5 }, 403],
    [{ checksum: 'abc' }, 403],
    [{ os_glance_foo: 'bar' }, 403],
    [{ min_disk: -1 }, 400],
    [{ min_ram: 'x' }, 400],
    [{ protected: 'yes' }, 400],
    [{ visibility: 'everyone' }, 400],
    [{ id: 'not-a-uuid' }, 400],
    [{ custom: 5 }, 400],
    [{ tags: Array.from({ length: 1000 }, (_, i) => `t${i}`) }, 413],
  ];
  const before = (await cloud.request('GET', `${V2}/images?limit=1000`, { token: t })).json.images.length;
  for (const [body, status] of cases) {
    const r = await createImage(cloud, t, body);
    assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 60)} -> ${r.status} ${r.text}`);
    assert.match(String(r.headers['content-type']), /text\/plain/);
  }
  const after2 = (await cloud.request('GET', `${V2}/images?limit=1000`, { token: t })).json.images.length;
  assert.equal(after2, before, 'nothing was created');
});

test('JSON patch: add/replace/remove, read-only properties refused, both media types', async () => {
  const t = cloud.adminToken;
  const img = (await createImage(cloud, t, { name: 'patchme' })).json;
  const p = (ops: unknown, headers: Record<string, string> = PATCH) =>
    cloud.request('PATCH', `${V2}/images/${img.id}`, { token: t, payload: JSON.stringify(ops), headers });
  let r = await p([
    { op: 'replace', path: '/name', value: 'renamed' },
    { op: 'add', path: '/os_distro', value: 'debian' },
    { op: 'add', path: '/tags/-', value: 'x' },
  ]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.name, 'renamed');
  assert.equal(r.json.os_distro, 'debian');
  assert.deepEqual(r.json.tags, ['x']);
  r = await p([{ replace: '/min_ram', value: 512 }], {
    'content-type': 'application/openstack-images-v2.0-json-patch',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.min_ram, 512);
  r = await p([{ op: 'remove', path: '/os_distro' }]);
  assert.equal(r.json.os_distro, undefined);
  for (const path of ['/status', '/size', '/checksum', '/id', '/os_hash_value', '/virtual_size', '/created_at']) {
    r = await p([{ op: 'replace', path, value: 'x' }]);
    assert.equal(r.status, 403, `${path}: ${r.text}`);
  }
  assert.equal((await p([{ op: 'add', path: '/os_glance_x', value: 'y' }])).status, 403);
  assert.equal((await p([{ op: 'replace', path: '/missing', value: 'y' }])).status, 409);
  assert.equal((await p([{ op: 'move', path: '/name', from: '/x' }])).status, 400);
  assert.equal((await p([{ op: 'replace', path: '/name', value: 'z'.repeat(256) }])).status, 400);
  assert.equal((await p({ op: 'replace' })).status, 400);
  assert.equal(
    (await p([{ op: 'replace', path: '/name', value: 'a' }], { 'content-type': 'application/json' })).status,
    415,
  );
  // a failed operation in a list applies none of them
  r = await p([
    { op: 'replace', path: '/name', value: 'half' },
    { op: 'replace', path: '/status', value: 'active' },
  ]);
  assert.equal(r.status, 403);
  assert.equal((await cloud.request('GET', `${V2}/images/${img.id}`, { token: t })).json.name, 'renamed');
});

test('protected images cannot be deleted; deactivate blocks download for non-admins', async () => {
  const img = (await createImage(cloud, alt.token, { name: 'prot', protected: true })).json;
  assert.equal((await cloud.request('DELETE', `${V2}/images/${img.id}`, { token: alt.token })).status, 403);
  const r = await cloud.request('PATCH', `${V2}/images/${img.id}`, {
    token: alt.token,
    payload: JSON.stringify([{ op: 'replace', path: '/protected', value: false }]),
    headers: PATCH,
  });
  assert.equal(r.status, 200);
  assert.equal((await upload(cloud, alt.token, img.id, Buffer.from('hello'))).status, 204);
  assert.equal(
    (await cloud.request('POST', `${V2}/images/${img.id}/actions/deactivate`, { token: alt.token })).status,
    204,
  );
  assert.equal((await cloud.request('GET', `${V2}/images/${img.id}`, { token: alt.token })).json.status, 'deactivated');
  assert.equal((await cloud.request('GET', `${V2}/images/${img.id}/file`, { token: alt.token })).status, 403);
  assert.equal((await cloud.request('GET', `${V2}/images/${img.id}/file`, { token: cloud.adminToken })).status, 200);
  assert.equal(
    (await cloud.request('POST', `${V2}/images/${img.id}/actions/reactivate`, { token: alt.token })).status,
    204,
  );
  assert.equal((await cloud.request('GET', `${V2}/images/${img.id}/file`, { token: alt.token })).text, 'hello');
  assert.equal((await cloud.request('DELETE', `${V2}/images/${img.id}`, { token: alt.token })).status, 204);
});

test('visibility: private stays private, public needs admin, community is visible by id', async () => {
  const priv = (await createImage(cloud, cloud.adminToken, { name: 'adm-private', visibility: 'private' })).json;
  assert.equal((await cloud.request('GET', `${V2}/images/${priv.id}`, { token: alt.token })).status, 404);
  assert.equal((await createImage(cloud, alt.token, { name: 'pub', visibility: 'public' })).status, 403);
  const comm = (await createImage(cloud, alt.token, { name: 'comm', visibility: 'community' })).json;
  const mine = await memberOf(cloud, 'img-third');
  assert.equal((await cloud.request('GET', `${V2}/images/${comm.id}`, { token: mine.token })).status, 200);
  const listed = (await cloud.request('GET', `${V2}/images`, { token: mine.token })).json.images.map(
    (i: { id: string }) => i.id,
  );
  assert.ok(!listed.includes(comm.id), 'community images are not in the default list');
  const comms = (
    await cloud.request('GET', `${V2}/images?visibility=community`, { token: mine.token })
  ).json.images.map((i: { id: string }) => i.id);
  assert.ok(comms.includes(comm.id));
  assert.equal((await cloud.request('DELETE', `${V2}/images/${comm.id}`, { token: mine.token })).status, 403);
  const pub = (await createImage(cloud, cloud.adminToken, { name: 'adm-public', visibility: 'public' })).json;
  assert.equal((await cloud.request('GET', `${V2}/images/${pub.id}`, { token: mine.token })).status, 200);
});

test('members: share, accept, reject, list as member; owner cannot accept', async () => {
  const img = (await createImage(cloud, cloud.adminToken, { name: 'shared-1' })).json;
  const m = await cloud.request('POST', `${V2}/images/${img.id}/members`, {
    token: cloud.adminToken,
    body: { member: alt.projectId },
  });
  assert.equal(m.status, 200, m.text);
  assert.equal(m.json.status, 'pending');
  const ids = async () =>
    (await cloud.request('GET', `${V2}/images`, { token: alt.token })).json.images.map((i: { id: string }) => i.id);
  assert.ok(!(await ids()).includes(img.id));
  const pending = (
    await cloud.request('GET', `${V2}/images?visibility=shared&member_status=pending`, { token: alt.token })
  ).json.images;
  assert.deepEqual(
    pending.map((i: { id: string }) => i.id),
    [img.id],
  );
  const ownerAccept = await cloud.request('PUT', `${V2}/images/${img.id}/members/${alt.projectId}`, {
    token: (await memberOf(cloud, 'img-owner2')).token,
    body: { status: 'accepted' },
  });
  assert.equal(ownerAccept.status, 404);
  assert.equal(
    (
      await cloud.request('PUT', `${V2}/images/${img.id}/members/${alt.projectId}`, {
        token: alt.token,
        body: { status: 'bogus' },
      })
    ).status,
    400,
  );
  assert.equal(
    (
      await cloud.request('PUT', `${V2}/images/${img.id}/members/${alt.projectId}`, {
        token: alt.token,
        // What openstacksdk (and so `openstack image set --accept`) sends: the member's id beside the status.
        body: { member: alt.projectId, status: 'accepted' },
      })
    ).status,
    200,
  );
  assert.ok((await ids()).includes(img.id));
  const list = (await cloud.request('GET', `${V2}/images/${img.id}/members`, { token: alt.token })).json;
  assert.deepEqual(
    list.members.map((x: { member_id: string }) => x.member_id),
    [alt.projectId],
  );
  assert.equal(
    (
      await cloud.request('PUT', `${V2}/images/${img.id}/members/${alt.projectId}`, {
        token: alt.token,
        body: { status: 'rejected' },
      })
    ).status,
    200,
  );
  assert.ok(!(await ids()).includes(img.id));
  const priv = (await createImage(cloud, cloud.adminToken, { name: 'private-2', visibility: 'private' })).json;
  assert.equal(
    (
      await cloud.request('POST', `${V2}/images/${priv.id}/members`, {
        token: cloud.adminToken,
        body: { member: alt.projectId },
      })
    ).status,
    403,
  );
});

test('list: filters, sorting, pagination with next links', async () => {
  const t = (await memberOf(cloud, 'img-lister')).token;
  const made: string[] = [];
  for (let i = 0; i < 7; i++) {
    const r = await createImage(cloud, t, {
      name: `L${i}`,
      tags: i % 2 ? ['odd'] : ['even'],
      hw_x: String(i % 3),
      disk_format: i >= 4 ? 'qcow2' : 'raw',
    });
    made.push(r.json.id);
    if (i < 4) assert.equal((await upload(cloud, t, r.json.id, Buffer.alloc(100 * (i + 1)))).status, 204);
  }
  const get = async (qs: string) => {
    const r = await cloud.request('GET', `${V2}/images?visibility=shared&${qs}`, { token: t });
    assert.equal(r.status, 200, `${qs}: ${r.text}`);
    return r.json;
  };
  const names = (j: { images: { name: string }[] }) => j.images.map((i) => i.name);
  assert.deepEqual(names(await get('sort_key=name&sort_dir=asc')), ['L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6']);
  assert.deepEqual(names(await get('sort=size:desc,name:asc')).slice(0, 4), ['L3', 'L2', 'L1', 'L0']);
  assert.deepEqual(names(await get('tag=odd&sort=name:asc')), ['L1', 'L3', 'L5']);
  assert.deepEqual(names(await get('hw_x=1&sort=name:asc')), ['L1', 'L4']);
  assert.deepEqual(names(await get('disk_format=qcow2&sort=name:asc')), ['L4', 'L5', 'L6']);
  assert.deepEqual(names(await get('status=active&size_min=200&size_max=300&sort=name:asc')), ['L1', 'L2']);
  assert.deepEqual(names(await get('name=in:L5,L6&sort=name:desc')), ['L6', 'L5']);
  // pagination through next links, in default order (created_at desc, id desc)
  const seen: string[] = [];
  let url = `${V2}/images?visibility=shared&limit=3&sort=name:asc`;
  for (let guard = 0; guard < 10 && url; guard++) {
    const r = (await cloud.request('GET', url, { token: t })).json;
    seen.push(...r.images.map((i: { name: string }) => i.name));
    url = r.next ? `/image${r.next}` : '';
  }
  assert.deepEqual(seen, ['L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6']);
  for (const qs of [
    'limit=-1',
    'sort_key=bogus',
    'sort_dir=sideways',
    'marker=00000000-0000-0000-0000-000000000000',
    'size_min=x',
    'visibility=x',
    'status=x',
    'created_at=zz:1',
  ]) {
    const r = await cloud.request('GET', `${V2}/images?${qs}`, { token: t });
    assert.equal(r.status, 400, `${qs}: ${r.status}`);
  }
  assert.equal((await cloud.request('GET', `${V2}/images/`, { token: t })).status, 404);
});

test('tags API and schemas', async () => {
  const img = (await createImage(cloud, cloud.adminToken, { name: 'tagged' })).json;
  assert.equal(
    (await cloud.request('PUT', `${V2}/images/${img.id}/tags/hello`, { token: cloud.adminToken })).status,
    204,
  );
  assert.deepEqual((await cloud.request('GET', `${V2}/images/${img.id}`, { token: cloud.adminToken })).json.tags, [
    'hello',
  ]);
  assert.equal(
    (await cloud.request('DELETE', `${V2}/images/${img.id}/tags/nope`, { token: cloud.adminToken })).status,
    404,
  );
  assert.equal(
    (await cloud.request('DELETE', `${V2}/images/${img.id}/tags/hello`, { token: cloud.adminToken })).status,
    204,
  );
  assert.equal(
    (
      await cloud.request('PUT', `${V2}/images/00000000-1111-2222-3333-444455556666/tags/x`, {
        token: cloud.adminToken,
      })
    ).status,
    404,
  );
  for (const [path, name] of [
    ['image', 'image'],
    ['images', 'images'],
    ['member', 'member'],
    ['members', 'members'],
    ['metadefs/namespace', 'namespace'],
    ['metadefs/resource_type', 'resource_type_association'],
    ['metadefs/tags', 'tags'],
  ]) {
    const r = await cloud.request('GET', `${V2}/schemas/${path}`, { token: cloud.adminToken });
    assert.equal(r.json.name, name);
  }
  const info = await cloud.request('GET', `${V2}/info/import`, { token: cloud.adminToken });
  assert.deepEqual(info.json['import-methods'].value, ['glance-direct', 'copy-image']);
  const stores = await cloud.request('GET', `${V2}/info/stores`, { token: cloud.adminToken });
  assert.equal(stores.json.stores[0].id, 'local');
});

test('a real client that hangs up mid-upload leaves nothing behind and the image queued', async () => {
  const img = (await createImage(cloud, cloud.adminToken, { name: 'cut-off' })).json;
  const addr = await cloud.controller.server
    .listen({ port: 0, host: '127.0.0.1' })
    .then(() => cloud.controller.server.server.address() as AddressInfo);
  const sock = connect(addr.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(
    `PUT ${V2}/images/${img.id}/file HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${cloud.adminToken}\r\n` +
      'Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n',
  );
  sock.write(Buffer.alloc(300_000, 7));
  await new Promise((r) => setTimeout(r, 200));
  sock.destroy();
  let status = '';
  for (let i = 0; i < 50 && status !== 'queued'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await cloud.request('GET', `${V2}/images/${img.id}`, { token: cloud.adminToken })).json.status;
  }
  assert.equal(status, 'queued');
  assert.deepEqual(readdirSync(join(imagesDir(), '.tmp')), []);
  assert.ok(!existsSync(join(imagesDir(), img.id)));
  // and the image can still be uploaded afterwards
  assert.equal((await upload(cloud, cloud.adminToken, img.id, Buffer.from('whole'))).status, 204);
});
