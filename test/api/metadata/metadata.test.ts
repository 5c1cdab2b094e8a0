// The controller's metadata routes: only a request signed for an instance sees that instance's data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { signInstanceId } from '../../../src/services/metadata/signing.js';
import { readSecret } from '../../../src/services/metadata/signing.js';

async function makeImage(c: TestCloud): Promise<string> {
  const img = await c.request('POST', '/image/v2/images', {
    token: c.adminToken,
    body: { name: 'blank', disk_format: 'raw', container_format: 'bare' },
  });
  assert.equal(img.status, 201, img.text);
  const up = await c.request('PUT', `/image/v2/images/${img.json.id}/file`, {
    token: c.adminToken,
    payload: Buffer.alloc(1024),
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(up.status, 204, up.text);
  return img.json.id;
}

async function makeServer(c: TestCloud, image: string, name: string, key: string, userData: string): Promise<string> {
  const kp = await c.request('POST', '/compute/v2.1/os-keypairs', {
    token: c.adminToken,
    body: { keypair: { name: `key-${name}`, public_key: key } },
  });
  assert.equal(kp.status, 200, kp.text);
  const r = await c.request('POST', '/compute/v2.1/servers', {
    token: c.adminToken,
    headers: { 'openstack-api-version': 'compute 2.37' },
    body: {
      server: {
        name,
        imageRef: image,
        flavorRef: '42',
        key_name: `key-${name}`,
        user_data: Buffer.from(userData).toString('base64'),
        networks: 'none',
        metadata: { who: name },
      },
    },
  });
  assert.equal(r.status, 202, r.text);
  return r.json.server.id;
}

const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHHZnFJmSPZg3EKKmLh2l4E4fRXDAuxQd6qXc0nFvTWQ a@test';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBu1xW2WLoHnZZ79kV6mMuFX7oAE9GIY6hu3X0n1eRzB b@test';

test(
  'metadata API: per-instance data, signatures, EC2 and OpenStack paths, password, not in the ' + 'catalog',
  async (t) => {
    const c = await createTestCloud();
    t.after(() => c.close());
    const secret = readSecret(c.controller.deps.metadata.secretFile);
    const as = (id: string, sigFor = id) => ({
      'x-instance-id': id,
      'x-instance-id-signature': signInstanceId(secret, sigFor),
    });
    const image = await makeImage(c);
    const a = await makeServer(c, image, 'alpha', KEY_A, '#!/bin/sh\necho alpha\n');
    const b = await makeServer(c, image, 'beta', KEY_B, '#!/bin/sh\necho beta\n');

    await t.test('each instance sees only its own meta_data.json, keys and user data', async () => {
      for (const [id, name, key] of [
        [a, 'alpha', KEY_A],
        [b, 'beta', KEY_B],
      ] as const) {
        const r = await c.request('GET', '/metadata-internal/openstack/latest/meta_data.json', { headers: as(id) });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.uuid, id);
        assert.equal(r.json.hostname, `${name}.novalocal`);
        assert.deepEqual(r.json.public_keys, { [`key-${name}`]: key });
        assert.deepEqual(r.json.meta, { who: name });
        const ud = await c.request('GET', '/metadata-internal/openstack/2018-08-27/user_data', { headers: as(id) });
        assert.equal(ud.text, `#!/bin/sh\necho ${name}\n`);
        const ec2 = await c.request('GET', '/metadata-internal/latest/meta-data/public-keys/0/openssh-key', {
          headers: as(id),
        });
        assert.equal(ec2.text, key);
        assert.match(String(ec2.headers['content-type']), /^text\/plain/);
      }
    });

    await t.test("instance A cannot read B: no signature, a signature of A with B's id, a forged one", async () => {
      const path = '/metadata-internal/openstack/latest/meta_data.json';
      const cases: Record<string, string>[] = [
        {},
        { 'x-instance-id': b },
        as(b, a),
        { 'x-instance-id': b, 'x-instance-id-signature': 'f'.repeat(64) },
        { 'x-instance-id': b, 'x-instance-id-signature': signInstanceId('guessed-secret-guessed-secret-guessed', b) },
      ];
      for (const headers of cases) {
        const r = await c.request('GET', path, { headers });
        assert.equal(r.status, 403, JSON.stringify(headers));
        assert.ok(!r.text.includes(b), 'nothing of B leaks');
      }
      const tok = await c.request('GET', path, { token: c.adminToken });
      assert.equal(tok.status, 403, 'a Keystone token is no substitute for the signature');
    });

    await t.test('listings and versions as cloud-init reads them', async () => {
      const root = await c.request('GET', '/metadata-internal/', { headers: as(a) });
      assert.equal(root.status, 200);
      assert.ok(root.text.split('\n').includes('2009-04-04'));
      const os = await c.request('GET', '/metadata-internal/openstack', { headers: as(a) });
      assert.ok(os.text.split('\n').includes('2018-08-27') && os.text.split('\n').includes('latest'));
      const files = await c.request('GET', '/metadata-internal/openstack/2018-08-27/', { headers: as(a) });
      assert.deepEqual(files.text.split('\n').sort(), [
        'meta_data.json',
        'network_data.json',
        'password',
        'user_data',
        'vendor_data.json',
        'vendor_data2.json',
      ]);
      const nd = await c.request('GET', '/metadata-internal/openstack/latest/network_data.json', { headers: as(a) });
      assert.deepEqual(nd.json, { links: [], networks: [], services: [] });
      const md = await c.request('GET', '/metadata-internal/latest/meta-data/', { headers: as(a) });
      for (const k of [
        'hostname',
        'instance-id',
        'local-ipv4',
        'public-ipv4',
        'placement/',
        'public-keys/',
        'ami-id',
        'instance-type',
        'local-hostname',
        'block-device-mapping/',
      ]) {
        assert.ok(md.text.split('\n').includes(k), `${k} in ${md.text}`);
      }
      const az = await c.request('GET', '/metadata-internal/2009-04-04/meta-data/placement/availability-zone', {
        headers: as(a),
      });
      assert.equal(az.text, 'nova');
      const hn = await c.request('HEAD', '/metadata-internal/latest/meta-data/hostname', { headers: as(a) });
      assert.equal(hn.status, 200);
      for (const p of ['nope', 'openstack/latest/nope.json', 'latest/meta-data/hostname/x']) {
        assert.equal((await c.request('GET', `/metadata-internal/${p}`, { headers: as(a) })).status, 404, p);
      }
    });

    await t.test('the guest may post its password once; GET returns it; other POSTs are refused', async () => {
      const p = '/metadata-internal/openstack/latest/password';
      assert.equal((await c.request('GET', p, { headers: as(a) })).text, '');
      const set = await c.request('POST', p, {
        headers: { ...as(a), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'ZW5jcnlwdGVk',
      });
      assert.equal(set.status, 200, set.text);
      assert.equal((await c.request('GET', p, { headers: as(a) })).text, 'ZW5jcnlwdGVk');
      assert.equal((await c.request('POST', p, { headers: as(a), payload: 'again' })).status, 409);
      assert.equal((await c.request('GET', p, { headers: as(b) })).text, '', 'B has no password');
      assert.equal((await c.request('POST', p, { headers: as(b), payload: 'x'.repeat(1021) })).status, 400);
      assert.equal(
        (await c.request('POST', '/metadata-internal/latest/meta-data/hostname', { headers: as(b), payload: 'x' }))
          .status,
        405,
      );
    });

    await t.test('the metadata routes are not in the service catalog', async () => {
      const cat = await c.request('GET', '/identity/v3/auth/catalog', { token: c.adminToken });
      assert.equal(cat.status, 200);
      assert.ok(!JSON.stringify(cat.json).includes('metadata-internal'));
    });

    await t.test('a deleted instance has no metadata', async () => {
      const del = await c.request('DELETE', `/compute/v2.1/servers/${b}`, { token: c.adminToken });
      assert.equal(del.status, 204, del.text);
      let status = 200;
      for (let i = 0; i < 100 && status === 200; i++) {
        status = (await c.request('GET', '/metadata-internal/openstack/latest/meta_data.json', { headers: as(b) }))
          .status;
        if (status === 200) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(status, 404);
    });
  },
);
