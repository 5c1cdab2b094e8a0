// capture against a running cloud with the fake hypervisor: its snapshot is a few bytes of text, not a disk, so
// capture must refuse clearly, publish nothing, remove its intermediate snapshot and leave the server as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireCommands, requireRoot } from '../../helpers/requirements.js';
import { startServer } from '../../helpers/server.js';
import { killLeftovers } from '../../e2e/qemu-fixture.js';
import { glance, gureum, imagesNamed } from './cloud-cli.js';

const show = (r: { code: number | null; stdout: string; stderr: string }) =>
  `exit ${String(r.code)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

test('capture of a fake-driver server: refused (the snapshot is not a disk), nothing published, snapshot removed ' +
  'unless kept', {
  timeout: 600_000,
}, async (t) => {
  if (!requireCommands(t, ['guestfish', 'qemu-img']) || !requireRoot(t, 'libguestfs needs root here')) return;
  const server = await startServer();
  try {
    const dd = ['--data-dir', server.dataDir];
    const g = await glance(server);
    const h = { 'x-auth-token': g.token, 'content-type': 'application/json' };
    const img = (await (
      await fetch(`${g.imageUrl}/v2/images`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ name: 'base', disk_format: 'raw', container_format: 'bare' }),
      })
    ).json()) as { id: string };
    const put = await fetch(`${g.imageUrl}/v2/images/${img.id}/file`, {
      method: 'PUT',
      headers: { 'x-auth-token': g.token, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(1 << 20),
    });
    assert.equal(put.status, 204);
    const cr = await fetch(`${g.computeUrl}/servers`, {
      method: 'POST',
      headers: { ...h, 'openstack-api-version': 'compute 2.37' },
      body: JSON.stringify({ server: { name: 'web1', imageRef: img.id, flavorRef: '42', networks: 'none' } }),
    });
    const crText = await cr.text();
    assert.equal(cr.status, 202, crText);
    const serverId = (JSON.parse(crText) as { server: { id: string } }).server.id;
    const status = async () =>
      (
        (await (await fetch(`${g.computeUrl}/servers/${serverId}`, { headers: h })).json()) as {
          server: { status: string; 'OS-EXT-STS:task_state': string | null };
        }
      ).server;
    for (let i = 0; i < 300; i++) {
      const s = await status();
      if (s.status === 'ACTIVE' && !s['OS-EXT-STS:task_state']) break;
      assert.notEqual(s.status, 'ERROR');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await status()).status, 'ACTIVE');
    const snapshots = async () => {
      const res = await fetch(`${g.imageUrl}/v2/images`, { headers: h });
      return ((await res.json()) as { images: { name: string; id: string }[] }).images.filter((i) =>
        i.name.startsWith('golden-web-snapshot-'),
      );
    };

    const r = await gureum(['image', 'capture', 'web1', 'golden-web', ...dd]);
    assert.equal(r.code, 2, show(r));
    assert.match(
      r.stderr,
      /the snapshot of server web1 \(image [0-9a-f-]{36}\) cannot be sealed, nothing was published: .*too small to be a disk image/,
    );
    assert.deepEqual(await imagesNamed(g, 'golden-web'), [], 'nothing published');
    assert.deepEqual(await snapshots(), [], 'the intermediate snapshot was deleted');
    for (let i = 0; i < 100 && (await status())['OS-EXT-STS:task_state']; i++)
      await new Promise((res) => setTimeout(res, 100));
    assert.equal((await status()).status, 'ACTIVE', 'the server is left as it was');

    const kept = await gureum(['image', 'capture', serverId, 'golden-web', '--keep-snapshot', ...dd]);
    assert.equal(kept.code, 2, show(kept));
    const left = await snapshots();
    assert.equal(left.length, 1, '--keep-snapshot keeps it');
    assert.match(kept.stderr, new RegExp(`image ${left[0]!.id}`));
    assert.deepEqual(await imagesNamed(g, 'golden-web'), []);

    const missing = await gureum(['image', 'capture', 'no-such-server', 'x', ...dd]);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /no servers named "no-such-server"/);
  } finally {
    await server.stop();
  }
});

test('capture of a QEMU-driver server running the tiny image: the real qcow2 snapshot is opened and refused (no ' +
  'Linux root), nothing published, snapshot removed', {
  timeout: 900_000,
}, async (t) => {
  if (
    !requireCommands(t, ['guestfish', 'qemu-img', 'qemu-system-x86_64']) ||
    !requireRoot(t, 'libguestfs needs root here')
  )
    return;
  const server = await startServer({
    env: { GUREUM_HYPERVISOR: 'qemu', GUREUM_ACCEL: 'tcg', GUREUM_TINY_IMAGE: '1' },
    readyTimeoutMs: 300_000,
  });
  try {
    const dd = ['--data-dir', server.dataDir];
    const g = await glance(server);
    const h = { 'x-auth-token': g.token, 'content-type': 'application/json' };
    let tiny: Record<string, unknown> | undefined;
    for (let i = 0; i < 600 && tiny?.status !== 'active'; i++) {
      tiny = (await imagesNamed(g, 'tiny'))[0];
      if (tiny?.status !== 'active') await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(tiny?.status, 'active', `the tiny image was not registered: ${server.logs().slice(-500)}`);
    const cr = await fetch(`${g.computeUrl}/servers`, {
      method: 'POST',
      headers: { ...h, 'openstack-api-version': 'compute 2.37' },
      body: JSON.stringify({ server: { name: 'tiny1', imageRef: tiny!.id, flavorRef: '42', networks: 'none' } }),
    });
    const crText = await cr.text();
    assert.equal(cr.status, 202, crText);
    const serverId = (JSON.parse(crText) as { server: { id: string } }).server.id;
    const status = async () =>
      (
        (await (await fetch(`${g.computeUrl}/servers/${serverId}`, { headers: h })).json()) as {
          server: { status: string; 'OS-EXT-STS:task_state': string | null; fault?: unknown };
        }
      ).server;
    for (let i = 0; i < 1200; i++) {
      const s = await status();
      if (s.status === 'ACTIVE' && !s['OS-EXT-STS:task_state']) break;
      assert.notEqual(s.status, 'ERROR', JSON.stringify(s.fault));
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal((await status()).status, 'ACTIVE');

    // The tiny image keeps its OS in the initramfs; its root disk is a data disk (no /etc), so the real qcow2
    // snapshot is downloaded and opened, and refused: there is no Linux root to seal.
    const r = await gureum(['image', 'capture', 'tiny1', 'tiny-golden', ...dd]);
    assert.equal(r.code, 3, show(r));
    assert.match(r.stderr, /snapshot [0-9a-f-]{36} active \(\d+ bytes\); downloading/);
    assert.match(
      r.stderr,
      /the snapshot of server tiny1 \(image [0-9a-f-]{36}\) cannot be sealed, nothing was published: .*no Linux root filesystem found in the image/,
    );
    assert.deepEqual(await imagesNamed(g, 'tiny-golden'), [], 'nothing published');
    const left = (
      (await (await fetch(`${g.imageUrl}/v2/images`, { headers: h })).json()) as { images: { name: string }[] }
    ).images.filter((i) => i.name.startsWith('tiny-golden-snapshot-'));
    assert.deepEqual(left, [], 'the intermediate snapshot was deleted');
    for (let i = 0; i < 100 && (await status())['OS-EXT-STS:task_state']; i++)
      await new Promise((res) => setTimeout(res, 100));
    assert.equal((await status()).status, 'ACTIVE', 'the server still runs');
    const del = await fetch(`${g.computeUrl}/servers/${serverId}`, { method: 'DELETE', headers: h });
    assert.equal(del.status, 204);
    for (let i = 0; i < 600 && (await fetch(`${g.computeUrl}/servers/${serverId}`, { headers: h })).status !== 404; i++)
      await new Promise((res) => setTimeout(res, 250));
  } finally {
    killLeftovers(server.dataDir); // guests outlive their controller: never leak one when an assertion fails
    await server.stop();
  }
});
