// Boot from volume on the fake driver: Nova's block_device_mapping_v2 (and the legacy mapping, os-volumes_boot)
// makes or uses volumes, attaches the boot volume as /dev/vda, shows image "" and honours delete_on_termination.
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
const nova = (v: string) => ({ 'x-openstack-nova-api-version': v });

before(async () => {
  c = await createTestCloud();
  V = `/volume/v3/${await projectOf(c, c.adminToken)}`;
  image = await makeImage(c, { name: 'bfv-img' });
});
after(async () => {
  await c.controller.deps.volume.idle();
  await c.close();
});

async function create(body: Record<string, unknown>, url = `${N}/servers`) {
  return c.request('POST', url, {
    token: c.adminToken,
    body: { server: { flavorRef: '42', networks: 'none', ...body } },
    headers: nova('2.67'),
  });
}

async function volumeFromImage(size = 1): Promise<string> {
  const r = await c.request('POST', `${V}/volumes`, {
    token: c.adminToken,
    body: { volume: { size, imageRef: image } },
  });
  assert.equal(r.status, 202, r.text);
  await waitStatus(c, c.adminToken, `${V}/volumes/${r.json.volume.id}`, 'volume', 'available');
  return r.json.volume.id as string;
}

async function attachments(sid: string): Promise<any[]> {
  const r = await c.request('GET', `${N}/servers/${sid}/os-volume_attachments`, { token: c.adminToken });
  assert.equal(r.status, 200, r.text);
  return r.json.volumeAttachments;
}

test(
  'boot from an image into a new volume: root volume /dev/vda, image "", delete_on_termination deletes ' + 'it',
  async (t) => {
    if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
    const r = await create({
      name: 'bfv1',
      imageRef: '',
      block_device_mapping_v2: [
        {
          uuid: image,
          source_type: 'image',
          destination_type: 'volume',
          boot_index: 0,
          volume_size: 1,
          delete_on_termination: true,
        },
      ],
    });
    assert.equal(r.status, 202, r.text);
    const sid = r.json.server.id as string;
    const s = await waitFor(c, c.adminToken, sid, 'ACTIVE', 20_000);
    assert.equal(s.image, '');
    const atts = await attachments(sid);
    assert.equal(atts.length, 1);
    assert.equal(atts[0].device, '/dev/vda');
    const vid = atts[0].volumeId as string;
    const v = await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'in-use');
    assert.equal(v.bootable, 'true');
    assert.equal(v.volume_image_metadata.image_id, image);
    const show = await c.request('GET', `${N}/servers/${sid}`, { token: c.adminToken, headers: nova('2.3') });
    assert.deepEqual(show.json.server['os-extended-volumes:volumes_attached'], [
      { id: vid, delete_on_termination: true },
    ]);
    // The root volume cannot be detached.
    const det = await c.request('DELETE', `${N}/servers/${sid}/os-volume_attachments/${vid}`, { token: c.adminToken });
    assert.equal(det.status, 400, det.text);
    // Stop/start keeps it.
    assert.equal(
      (await c.request('POST', `${N}/servers/${sid}/action`, { token: c.adminToken, body: { 'os-stop': null } }))
        .status,
      202,
    );
    await waitFor(c, c.adminToken, sid, 'SHUTOFF');
    assert.equal(
      (await c.request('POST', `${N}/servers/${sid}/action`, { token: c.adminToken, body: { 'os-start': null } }))
        .status,
      202,
    );
    await waitFor(c, c.adminToken, sid, 'ACTIVE');
    assert.equal((await attachments(sid))[0].volumeId, vid);
    assert.equal((await c.request('DELETE', `${N}/servers/${sid}`, { token: c.adminToken })).status, 204);
    await waitFor(c, c.adminToken, sid, 'DELETED');
    await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'DELETED');
  },
);

test(
  'boot from an existing volume (legacy mapping, os-volumes_boot): delete_on_termination false keeps the ' + 'volume',
  async (t) => {
    if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
    const vid = await volumeFromImage();
    const r = await create(
      { name: 'bfv2', block_device_mapping: [{ device_name: 'vda', volume_id: vid, delete_on_termination: false }] },
      `${N}/os-volumes_boot`,
    );
    assert.equal(r.status, 202, r.text);
    const sid = r.json.server.id as string;
    await waitFor(c, c.adminToken, sid, 'ACTIVE', 20_000);
    await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'in-use');
    // The volume is taken: a second server cannot boot from it.
    const again = await create({
      name: 'bfv2b',
      block_device_mapping_v2: [{ uuid: vid, source_type: 'volume', destination_type: 'volume', boot_index: 0 }],
    });
    assert.equal(again.status, 400, again.text);
    assert.equal((await c.request('DELETE', `${N}/servers/${sid}`, { token: c.adminToken })).status, 204);
    await waitFor(c, c.adminToken, sid, 'DELETED');
    await waitStatus(c, c.adminToken, `${V}/volumes/${vid}`, 'volume', 'available');
    assert.equal((await c.request('DELETE', `${V}/volumes/${vid}`, { token: c.adminToken })).status, 202);
  },
);

test('a blank data volume next to an image root: attached after the root disks as /dev/vdb', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const r = await create({
    name: 'bfv3',
    imageRef: image,
    block_device_mapping_v2: [
      { uuid: image, source_type: 'image', destination_type: 'local', boot_index: 0 },
      { source_type: 'blank', destination_type: 'volume', volume_size: 1, delete_on_termination: true, tag: 'data' },
    ],
  });
  assert.equal(r.status, 202, r.text);
  const sid = r.json.server.id as string;
  const s = await waitFor(c, c.adminToken, sid, 'ACTIVE', 20_000);
  assert.equal(s.image.id, image);
  const atts = await attachments(sid);
  assert.deepEqual(
    atts.map((a) => a.device),
    ['/dev/vdb'],
  );
  assert.equal((await c.request('DELETE', `${N}/servers/${sid}`, { token: c.adminToken })).status, 204);
  await waitFor(c, c.adminToken, sid, 'DELETED');
  await waitStatus(c, c.adminToken, `${V}/volumes/${atts[0].volumeId}`, 'volume', 'DELETED');
});

test("bad mappings get Nova's 400s and make nothing", async () => {
  const before = (await c.request('GET', `${V}/volumes`, { token: c.adminToken })).json.volumes.length;
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { block_device_mapping_v2: [{ uuid: image, source_type: 'image', destination_type: 'volume', boot_index: 0 }] },
      /non-zero size/,
    ],
    [
      {
        block_device_mapping_v2: [
          { uuid: image, source_type: 'image', destination_type: 'volume', boot_index: 1, volume_size: 1 },
        ],
      },
      /Boot sequence/,
    ],
    [
      {
        block_device_mapping_v2: [
          {
            uuid: '00000000-0000-0000-0000-000000000000',
            source_type: 'volume',
            destination_type: 'volume',
            boot_index: 0,
          },
        ],
      },
      /failed to get volume/,
    ],
    [
      {
        block_device_mapping_v2: [
          { uuid: '00000000-0000-0000-0000-000000000000', source_type: 'snapshot', boot_index: 0 },
        ],
      },
      /failed to get snapshot/,
    ],
    [
      {
        block_device_mapping_v2: [
          {
            uuid: image,
            source_type: 'image',
            destination_type: 'volume',
            boot_index: 0,
            volume_size: 1,
            disk_bus: 'floppy-bus',
          },
        ],
      },
      /disk_bus/,
    ],
    [
      {
        block_device_mapping_v2: [
          {
            uuid: image,
            source_type: 'image',
            destination_type: 'volume',
            boot_index: 0,
            volume_size: 1,
            delete_on_termination: 'maybe',
          },
        ],
      },
      /delete_on_termination/,
    ],
    [
      {
        block_device_mapping_v2: [
          { uuid: image, source_type: 'image', destination_type: 'volume', boot_index: 'x', volume_size: 1 },
        ],
      },
      /boot_index/,
    ],
    [
      { block_device_mapping_v2: [{ source_type: 'blank', destination_type: 'volume', boot_index: 0 }] },
      /non-zero size/,
    ],
    [{ block_device_mapping_v2: [], block_device_mapping: [] }, /different block_device_mapping syntaxes/],
  ];
  for (const [body, re] of cases) {
    const r = await create({ name: 'bad', ...body });
    assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status} ${r.text}`);
    assert.match(r.json.badRequest.message, re, JSON.stringify(body));
  }
  const blankVol = await c.request('POST', `${V}/volumes`, { token: c.adminToken, body: { volume: { size: 1 } } });
  await waitStatus(c, c.adminToken, `${V}/volumes/${blankVol.json.volume.id}`, 'volume', 'available');
  const notBootable = await create({
    name: 'bad',
    block_device_mapping_v2: [
      { uuid: blankVol.json.volume.id, source_type: 'volume', destination_type: 'volume', boot_index: 0 },
    ],
  });
  assert.equal(notBootable.status, 400, notBootable.text);
  assert.match(notBootable.json.badRequest.message, /not bootable/);
  assert.equal(
    (await c.request('DELETE', `${V}/volumes/${blankVol.json.volume.id}`, { token: c.adminToken })).status,
    202,
  );
  await waitStatus(c, c.adminToken, `${V}/volumes/${blankVol.json.volume.id}`, 'volume', 'DELETED');
  assert.equal((await c.request('GET', `${V}/volumes`, { token: c.adminToken })).json.volumes.length, before);
});

test(
  'volume-backed: shelve keeps no image and unshelve boots the volume; createImage makes volume snapshots and an ' +
    'image that boots',
  async (t) => {
    if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
    const r = await create({
      name: 'bfv4',
      block_device_mapping_v2: [
        {
          uuid: image,
          source_type: 'image',
          destination_type: 'volume',
          boot_index: 0,
          volume_size: 1,
          delete_on_termination: true,
        },
      ],
    });
    assert.equal(r.status, 202, r.text);
    const sid = r.json.server.id as string;
    await waitFor(c, c.adminToken, sid, 'ACTIVE', 20_000);
    const vid = (await attachments(sid))[0].volumeId as string;
    const act = (body: unknown) =>
      c.request('POST', `${N}/servers/${sid}/action`, { token: c.adminToken, body, headers: nova('2.45') });
    assert.equal((await act({ shelve: null })).status, 202);
    await waitFor(c, c.adminToken, sid, 'SHELVED_OFFLOADED', 20_000);
    const images = (await c.request('GET', `/image/v2/images?name=bfv4-shelved`, { token: c.adminToken })).json.images;
    assert.equal(images.length, 0);
    assert.equal((await act({ unshelve: null })).status, 202);
    await waitFor(c, c.adminToken, sid, 'ACTIVE', 20_000);
    assert.equal((await attachments(sid))[0].volumeId, vid);

    const snap = await act({ createImage: { name: 'bfv4-snap' } });
    assert.equal(snap.status, 202, snap.text);
    const imageId = snap.json.image_id as string;
    const img = (await c.request('GET', `/image/v2/images/${imageId}`, { token: c.adminToken })).json;
    assert.equal(img.status, 'active');
    assert.equal(img.size, 0);
    const mapping = JSON.parse(img.block_device_mapping);
    assert.equal(mapping.length, 1);
    assert.equal(mapping[0].boot_index, 0);
    assert.equal(mapping[0].source_type, 'snapshot');
    await waitStatus(c, c.adminToken, `${V}/snapshots/${mapping[0].snapshot_id}`, 'snapshot', 'available');

    const r2 = await create({ name: 'bfv4-copy', imageRef: imageId });
    assert.equal(r2.status, 202, r2.text);
    const sid2 = r2.json.server.id as string;
    await waitFor(c, c.adminToken, sid2, 'ACTIVE', 20_000);
    const atts2 = await attachments(sid2);
    assert.equal(atts2[0].device, '/dev/vda');
    assert.notEqual(atts2[0].volumeId, vid);
    for (const id of [sid, sid2]) {
      assert.equal((await c.request('DELETE', `${N}/servers/${id}`, { token: c.adminToken })).status, 204);
      await waitFor(c, c.adminToken, id, 'DELETED');
    }
  },
);

test(
  'rebuild of a volume-backed server with another image is refused (re-imaging the volume, 2.93, is not ' + 'offered)',
  async (t) => {
    if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
    const r = await create({
      name: 'bfv5',
      block_device_mapping_v2: [
        {
          uuid: image,
          source_type: 'image',
          destination_type: 'volume',
          boot_index: 0,
          volume_size: 1,
          delete_on_termination: true,
        },
      ],
    });
    assert.equal(r.status, 202, r.text);
    const sid = r.json.server.id as string;
    await waitFor(c, c.adminToken, sid, 'ACTIVE', 20_000);
    const other = await makeImage(c, { name: 'bfv-other' });
    const rb = await c.request('POST', `${N}/servers/${sid}/action`, {
      token: c.adminToken,
      body: { rebuild: { imageRef: other } },
    });
    assert.equal(rb.status, 400, rb.text);
    assert.match(rb.json.badRequest.message, /different image for a volume-backed server/);
    assert.equal((await c.request('DELETE', `${N}/servers/${sid}`, { token: c.adminToken })).status, 204);
    await waitFor(c, c.adminToken, sid, 'DELETED');
  },
);
