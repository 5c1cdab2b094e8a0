// os-volumes and os-snapshots: Nova's volume proxies (up to 2.35) over block storage, as Tempest's
// tempest.api.compute.volumes tests call them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { makeMember } from '../network/helpers.js';
import { V, makeImage, privateNet, waitFor } from './helpers.js';

const OLD = { 'x-openstack-nova-api-version': '2.35' };

async function waitVolume(
  c: TestCloud,
  token: string,
  path: string,
  key: 'volume' | 'snapshot',
  status: string,
): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const r = await c.request('GET', path, { token, headers: OLD });
    if (status === 'gone' && r.status === 404) return null;
    if (r.status === 200 && r.json[key].status === status) return r.json[key];
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`${path} never became ${status}`);
}

test(
  'os-volumes: create, show, list with offset/limit, delete, in Nova shapes; bad sizes are 400 and make ' + 'nothing',
  async (t) => {
    const c = await createTestCloud();
    t.after(() => c.close());
    const tok = c.adminToken;
    const made: string[] = [];
    for (const size of [1, '1', '01']) {
      const r = await c.request('POST', `${V}/os-volumes`, {
        token: tok,
        headers: OLD,
        body: { volume: { size, display_name: `pv-${made.length}`, metadata: { Type: 'work' } } },
      });
      assert.equal(r.status, 200, r.text);
      const v = r.json.volume;
      assert.deepEqual(Object.keys(v).sort(), [
        'attachments',
        'availabilityZone',
        'createdAt',
        'displayDescription',
        'displayName',
        'id',
        'metadata',
        'size',
        'snapshotId',
        'status',
        'volumeType',
      ]);
      assert.equal(v.size, 1);
      assert.deepEqual(v.attachments, [{}], 'an unattached volume shows [{}], as Nova does');
      made.push(v.id);
    }
    for (const id of made) await waitVolume(c, tok, `${V}/os-volumes/${id}`, 'volume', 'available');
    const shown = await c.request('GET', `${V}/os-volumes/${made[0]}`, { token: tok, headers: OLD });
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.json.volume.displayName, 'pv-0');
    assert.deepEqual(shown.json.volume.metadata, { Type: 'work' });

    const all = await c.request('GET', `${V}/os-volumes`, { token: tok, headers: OLD });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.json.volumes.map((v: any) => v.id).sort(), [...made].sort());
    assert.deepEqual(
      all.json.volumes[0],
      (await c.request('GET', `${V}/os-volumes/${all.json.volumes[0].id}`, { token: tok, headers: OLD })).json.volume,
      'list and show agree',
    );
    const page = await c.request('GET', `${V}/os-volumes/detail?offset=1&limit=1`, { token: tok, headers: OLD });
    assert.equal(page.status, 200, page.text);
    assert.deepEqual(
      page.json.volumes.map((v: any) => v.id),
      [all.json.volumes[1].id],
    );

    for (const size of ['', '0', 0, '#$%', -1]) {
      const bad = await c.request('POST', `${V}/os-volumes`, {
        token: tok,
        headers: OLD,
        body: { volume: { size, display_name: 'bad' } },
      });
      assert.equal(bad.status, 400, `size ${JSON.stringify(size)}: ${bad.text}`);
      assert.equal(bad.json.badRequest.code, 400);
    }
    const unknown = await c.request('POST', `${V}/os-volumes`, {
      token: tok,
      headers: OLD,
      body: { volume: { size: 1, name: 'cinder-style' } },
    });
    assert.equal(unknown.status, 400, unknown.text);
    assert.equal(
      (await c.request('GET', `${V}/os-volumes`, { token: tok, headers: OLD })).json.volumes.length,
      made.length,
      'no volume from a refused request',
    );

    assert.equal(
      (await c.request('GET', `${V}/os-volumes/00000000-0000-0000-0000-000000000000`, { token: tok, headers: OLD }))
        .status,
      404,
    );
    assert.equal(
      (await c.request('GET', `${V}/os-volumes/`, { token: tok, headers: OLD })).status,
      404,
      'an empty id is a show, not the list',
    );
    assert.equal((await c.request('GET', `${V}/os-snapshots/`, { token: tok, headers: OLD })).status, 404);
    assert.equal(
      (await c.request('DELETE', `${V}/os-volumes/00000000-0000-0000-0000-000000000000`, { token: tok, headers: OLD }))
        .status,
      404,
    );
    const newer = await c.request('GET', `${V}/os-volumes`, {
      token: tok,
      headers: { 'x-openstack-nova-api-version': '2.36' },
    });
    assert.equal(newer.status, 404, 'the proxy ends at 2.35');

    const other = await makeMember(c, 'pv-other');
    assert.equal(
      (await c.request('GET', `${V}/os-volumes/${made[0]}`, { token: other.token, headers: OLD })).status,
      404,
      'another project does not see it',
    );
    assert.deepEqual(
      (await c.request('GET', `${V}/os-volumes`, { token: other.token, headers: OLD })).json.volumes,
      [],
    );

    for (const id of made) {
      const del = await c.request('DELETE', `${V}/os-volumes/${id}`, { token: tok, headers: OLD });
      assert.equal(del.status, 202, del.text);
      await waitVolume(c, tok, `${V}/os-volumes/${id}`, 'volume', 'gone');
    }
    await c.controller.deps.volume.idle();
  },
);

test('os-snapshots: create, show, list, delete through the proxy', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const tok = c.adminToken;
  const vol = await c.request('POST', `${V}/os-volumes`, { token: tok, headers: OLD, body: { volume: { size: 1 } } });
  assert.equal(vol.status, 200, vol.text);
  const vid = vol.json.volume.id as string;
  await waitVolume(c, tok, `${V}/os-volumes/${vid}`, 'volume', 'available');

  const r = await c.request('POST', `${V}/os-snapshots`, {
    token: tok,
    headers: OLD,
    body: { snapshot: { volume_id: vid, display_name: 'ps-1', force: 'false' } },
  });
  assert.equal(r.status, 200, r.text);
  const s = r.json.snapshot;
  assert.deepEqual(Object.keys(s).sort(), [
    'createdAt',
    'displayDescription',
    'displayName',
    'id',
    'size',
    'status',
    'volumeId',
  ]);
  assert.equal(s.volumeId, vid);
  const ready = await waitVolume(c, tok, `${V}/os-snapshots/${s.id}`, 'snapshot', 'available');
  assert.equal(ready.displayName, 'ps-1');
  const list = await c.request('GET', `${V}/os-snapshots`, { token: tok, headers: OLD });
  assert.deepEqual(
    list.json.snapshots.map((x: any) => x.id),
    [s.id],
  );
  const detail = await c.request('GET', `${V}/os-snapshots/detail`, { token: tok, headers: OLD });
  assert.deepEqual(detail.json.snapshots, list.json.snapshots);

  const noVolume = await c.request('POST', `${V}/os-snapshots`, {
    token: tok,
    headers: OLD,
    body: { snapshot: { volume_id: '00000000-0000-0000-0000-000000000000' } },
  });
  assert.equal(noVolume.status, 404, noVolume.text);
  const noId = await c.request('POST', `${V}/os-snapshots`, {
    token: tok,
    headers: OLD,
    body: { snapshot: { display_name: 'x' } },
  });
  assert.equal(noId.status, 400, noId.text);

  assert.equal((await c.request('DELETE', `${V}/os-snapshots/${s.id}`, { token: tok, headers: OLD })).status, 202);
  await waitVolume(c, tok, `${V}/os-snapshots/${s.id}`, 'snapshot', 'gone');
  assert.equal((await c.request('DELETE', `${V}/os-volumes/${vid}`, { token: tok, headers: OLD })).status, 202);
  await waitVolume(c, tok, `${V}/os-volumes/${vid}`, 'volume', 'gone');
  await c.controller.deps.volume.idle();
});

test(
  'a swap of an attached volume: a missing new volume is 400 (a request parameter), a real one is refused ' + '409',
  async (t) => {
    const c = await createTestCloud();
    t.after(() => c.close());
    const tok = c.adminToken;
    const net = await privateNet(c);
    const r = await c.request('POST', `${V}/servers`, {
      token: tok,
      body: { server: { name: 'swap', imageRef: await makeImage(c), flavorRef: '1', networks: [{ uuid: net }] } },
    });
    assert.equal(r.status, 202, r.text);
    const server = (await waitFor(c, tok, r.json.server.id, 'ACTIVE')).id as string;
    const vols: string[] = [];
    for (let i = 0; i < 2; i++) {
      const v = await c.request('POST', `${V}/os-volumes`, { token: tok, headers: OLD, body: { volume: { size: 1 } } });
      assert.equal(v.status, 200, v.text);
      vols.push(
        await waitVolume(c, tok, `${V}/os-volumes/${v.json.volume.id}`, 'volume', 'available').then((x) => x.id),
      );
    }
    const att = await c.request('POST', `${V}/servers/${server}/os-volume_attachments`, {
      token: tok,
      body: { volumeAttachment: { volumeId: vols[0] } },
    });
    assert.equal(att.status, 200, att.text);
    await waitVolume(c, tok, `${V}/os-volumes/${vols[0]}`, 'volume', 'in-use');

    const swap = (to: string) =>
      c.request('PUT', `${V}/servers/${server}/os-volume_attachments/${vols[0]}`, {
        token: tok,
        body: { volumeAttachment: { volumeId: to } },
      });
    const missing = await swap('00000000-0000-0000-0000-000000000000');
    assert.equal(missing.status, 400, missing.text);
    assert.equal(missing.json.badRequest.code, 400);
    const real = await swap(vols[1]!);
    assert.equal(real.status, 409, real.text);
    const notAttached = await c.request('PUT', `${V}/servers/${server}/os-volume_attachments/${vols[1]}`, {
      token: tok,
      body: { volumeAttachment: { volumeId: vols[0] } },
    });
    assert.equal(notAttached.status, 404, notAttached.text);
    const same = await c.request('PUT', `${V}/servers/${server}/os-volume_attachments/${vols[0]}`, {
      token: tok,
      headers: { 'x-openstack-nova-api-version': '2.85' },
      body: { volumeAttachment: { volumeId: vols[0] } },
    });
    assert.equal(same.status, 202, same.text);

    const del = await c.request('DELETE', `${V}/servers/${server}`, { token: tok });
    assert.equal(del.status, 204, del.text);
    await waitVolume(c, tok, `${V}/os-volumes/${vols[0]}`, 'volume', 'available');
    for (const id of vols) await c.request('DELETE', `${V}/os-volumes/${id}`, { token: tok, headers: OLD });
    await c.controller.deps.volume.idle();
  },
);
