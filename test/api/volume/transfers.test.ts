// Volume transfers: the key once, awaiting-transfer, accept by another project (with its snapshots unless
// no_snapshots), wrong keys, delete returning the volume, and what each project may see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { requireOrSkip } from '../../helpers/requirements.js';
import { createProject, createUser, type TestUser } from '../identity/fixtures.js';
import { hasQemuImg, waitStatus } from './helpers.js';

let c: TestCloud;
let owner: TestUser;
let taker: TestUser;
const url = (u: TestUser, path: string) => `/volume/v3/${u.projectId}${path}`;
const mv = (v: string) => ({ 'openstack-api-version': `volume ${v}` });

before(async () => {
  c = await createTestCloud();
  const p1 = await createProject(c);
  const p2 = await createProject(c);
  owner = await createUser(c, p1.id, p1.name);
  taker = await createUser(c, p2.id, p2.name);
});
after(async () => {
  await c.controller.deps.volume.idle();
  await c.close();
});

async function volume(u: TestUser): Promise<string> {
  const r = await c.request('POST', url(u, '/volumes'), {
    token: u.token,
    body: { volume: { size: 1, name: 'xfer' } },
  });
  assert.equal(r.status, 202, r.text);
  await waitStatus(c, u.token, url(u, `/volumes/${r.json.volume.id}`), 'volume', 'available');
  return r.json.volume.id as string;
}

test('transfer: key once, awaiting-transfer, wrong key 400, accept moves the volume and its snapshot', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const vid = await volume(owner);
  const snap = await c.request('POST', url(owner, '/snapshots'), {
    token: owner.token,
    body: { snapshot: { volume_id: vid } },
  });
  assert.equal(snap.status, 202, snap.text);
  await waitStatus(c, owner.token, url(owner, `/snapshots/${snap.json.snapshot.id}`), 'snapshot', 'available');

  const cr = await c.request('POST', url(owner, '/os-volume-transfer'), {
    token: owner.token,
    body: { transfer: { volume_id: vid, name: 'gift' } },
  });
  assert.equal(cr.status, 202, cr.text);
  const tr = cr.json.transfer;
  assert.match(tr.auth_key, /^[0-9a-f]{16}$/);
  assert.equal(tr.volume_id, vid);
  assert.equal(tr.name, 'gift');
  const shown = await c.request('GET', url(owner, `/os-volume-transfer/${tr.id}`), { token: owner.token });
  assert.equal(shown.status, 200);
  assert.equal(shown.json.transfer.auth_key, undefined);
  assert.equal(
    (await c.request('GET', url(owner, `/volumes/${vid}`), { token: owner.token })).json.volume.status,
    'awaiting-transfer',
  );
  // Not deletable, not transferable twice, invisible to the other project's listing.
  assert.equal((await c.request('DELETE', url(owner, `/volumes/${vid}`), { token: owner.token })).status, 400);
  assert.equal(
    (
      await c.request('POST', url(owner, '/os-volume-transfer'), {
        token: owner.token,
        body: { transfer: { volume_id: vid } },
      })
    ).status,
    400,
  );
  assert.deepEqual(
    (await c.request('GET', url(taker, '/os-volume-transfer'), { token: taker.token })).json.transfers,
    [],
  );
  assert.equal(
    (await c.request('GET', url(taker, `/os-volume-transfer/${tr.id}`), { token: taker.token })).status,
    404,
  );
  const list = await c.request('GET', url(owner, '/os-volume-transfer/detail'), { token: owner.token });
  assert.deepEqual(
    list.json.transfers.map((x: any) => x.id),
    [tr.id],
  );
  assert.ok(list.json.transfers[0].created_at);

  const wrong = await c.request('POST', url(taker, `/os-volume-transfer/${tr.id}/accept`), {
    token: taker.token,
    body: { accept: { auth_key: 'not-the-key' } },
  });
  assert.equal(wrong.status, 400, wrong.text);
  assert.match(wrong.json.badRequest.message, /invalid auth key/);
  const ok = await c.request('POST', url(taker, `/os-volume-transfer/${tr.id}/accept`), {
    token: taker.token,
    body: { accept: { auth_key: tr.auth_key } },
  });
  assert.equal(ok.status, 202, ok.text);
  assert.equal(ok.json.transfer.volume_id, vid);
  const v = await c.request('GET', url(taker, `/volumes/${vid}`), { token: taker.token });
  assert.equal(v.status, 200);
  assert.equal(v.json.volume.status, 'available');
  assert.equal((await c.request('GET', url(owner, `/volumes/${vid}`), { token: owner.token })).status, 404);
  assert.equal(
    (await c.request('GET', url(taker, `/snapshots/${snap.json.snapshot.id}`), { token: taker.token })).status,
    200,
  );
  // Accepted: the transfer is gone, a second accept finds nothing.
  assert.equal(
    (
      await c.request('POST', url(taker, `/os-volume-transfer/${tr.id}/accept`), {
        token: taker.token,
        body: { accept: { auth_key: tr.auth_key } },
      })
    ).status,
    404,
  );
});

test('transfer 3.55+: no_snapshots shown, 3.57 projects; delete makes the volume available again', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const vid = await volume(owner);
  const old = await c.request('POST', url(owner, '/volume-transfers'), {
    token: owner.token,
    headers: mv('3.54'),
    body: { transfer: { volume_id: vid } },
  });
  assert.equal(old.status, 404);
  const cr = await c.request('POST', url(owner, '/volume-transfers'), {
    token: owner.token,
    headers: mv('3.57'),
    body: { transfer: { volume_id: vid, no_snapshots: true } },
  });
  assert.equal(cr.status, 202, cr.text);
  assert.equal(cr.json.transfer.no_snapshots, true);
  assert.equal(cr.json.transfer.source_project_id, owner.projectId);
  assert.equal(cr.json.transfer.accepted, false);
  const del = await c.request('DELETE', url(owner, `/volume-transfers/${cr.json.transfer.id}`), {
    token: owner.token,
    headers: mv('3.57'),
  });
  assert.equal(del.status, 202, del.text);
  assert.equal(
    (await c.request('GET', url(owner, `/volumes/${vid}`), { token: owner.token })).json.volume.status,
    'available',
  );
  const missing = await c.request('POST', url(owner, '/os-volume-transfer'), {
    token: owner.token,
    body: { transfer: { volume_id: '00000000-0000-0000-0000-000000000000' } },
  });
  assert.equal(missing.status, 404, missing.text);
  const bad = await c.request('POST', url(owner, '/os-volume-transfer'), {
    token: owner.token,
    body: { transfer: { name: 'x' } },
  });
  assert.equal(bad.status, 400, bad.text);
});
