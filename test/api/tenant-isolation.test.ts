// Tenant isolation across services: a member of one project can neither see nor touch another project's things.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../helpers/cloud.js';
import { makeImage, waitFor, V } from './compute/helpers.js';
import { createProject, createUser } from './identity/fixtures.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

/** A project with one member user; returns the member's project-scoped token. */
async function memberOf(project: string): Promise<{ token: string; projectId: string }> {
  const p = await createProject(cloud, project);
  return { token: (await createUser(cloud, p.id, p.name, ['member'])).token, projectId: p.id };
}

test(
  "project B cannot see, change or delete project A's servers, networks, ports, security groups, images or " +
    'keypairs',
  async () => {
    const a = await memberOf('iso-a');
    const b = await memberOf('iso-b');
    const imageId = await makeImage(cloud);

    // Project A's things.
    const net = (
      await cloud.request('POST', '/network/v2.0/networks', { token: a.token, body: { network: { name: 'a-net' } } })
    ).json.network;
    await cloud.request('POST', '/network/v2.0/subnets', {
      token: a.token,
      body: { subnet: { network_id: net.id, cidr: '10.77.0.0/24', ip_version: 4 } },
    });
    const port = (
      await cloud.request('POST', '/network/v2.0/ports', { token: a.token, body: { port: { network_id: net.id } } })
    ).json.port;
    const sg = (
      await cloud.request('POST', '/network/v2.0/security-groups', {
        token: a.token,
        body: { security_group: { name: 'a-sg' } },
      })
    ).json.security_group;
    const kp = await cloud.request('POST', `${V}/os-keypairs`, {
      token: a.token,
      body: { keypair: { name: 'a-key' } },
    });
    assert.equal(kp.status, 200);
    const img = await cloud.request('POST', '/image/v2/images', {
      token: a.token,
      body: { name: 'a-private', disk_format: 'raw', container_format: 'bare' },
    });
    assert.equal(img.status, 201);
    const srv = await cloud.request('POST', `${V}/servers`, {
      token: a.token,
      body: { server: { name: 'a-vm', imageRef: imageId, flavorRef: '42', networks: [{ uuid: net.id }] } },
    });
    assert.equal(srv.status, 202, srv.text);
    await waitFor(cloud, a.token, srv.json.server.id, 'ACTIVE');

    // B's view: none of it exists.
    const gone = async (method: string, url: string, body?: unknown) => {
      const r = await cloud.request(method, url, { token: b.token, ...(body ? { body } : {}) });
      assert.ok(r.status === 404 || r.status === 403, `${method} ${url} as another project gave ${r.status}`);
    };
    await gone('GET', `${V}/servers/${srv.json.server.id}`);
    await gone('DELETE', `${V}/servers/${srv.json.server.id}`);
    await gone('POST', `${V}/servers/${srv.json.server.id}/action`, { pause: null });
    await gone('GET', `/network/v2.0/networks/${net.id}`);
    await gone('PUT', `/network/v2.0/networks/${net.id}`, { network: { name: 'stolen' } });
    await gone('DELETE', `/network/v2.0/networks/${net.id}`);
    await gone('GET', `/network/v2.0/ports/${port.id}`);
    await gone('DELETE', `/network/v2.0/ports/${port.id}`);
    await gone('GET', `/network/v2.0/security-groups/${sg.id}`);
    await gone('DELETE', `/network/v2.0/security-groups/${sg.id}`);
    await gone('GET', `/image/v2/images/${img.json.id}`);
    await gone('DELETE', `/image/v2/images/${img.json.id}`);
    await gone('GET', `${V}/os-keypairs/a-key`);
    await gone('GET', `/identity/v3/projects/${a.projectId}`);

    // Lists do not leak either.
    const servers = (await cloud.request('GET', `${V}/servers?all_tenants=1`, { token: b.token })).json.servers ?? [];
    assert.ok(!servers.some((s: { id: string }) => s.id === srv.json.server.id));
    const nets = (await cloud.request('GET', '/network/v2.0/networks', { token: b.token })).json.networks;
    assert.ok(!nets.some((n: { id: string }) => n.id === net.id));
    const ports = (await cloud.request('GET', '/network/v2.0/ports', { token: b.token })).json.ports;
    assert.ok(!ports.some((p: { id: string }) => p.id === port.id));
    const images = (await cloud.request('GET', '/image/v2/images', { token: b.token })).json.images;
    assert.ok(!images.some((i: { id: string }) => i.id === img.json.id));

    // And A's things are all still there, untouched.
    assert.equal(
      (await cloud.request('GET', `${V}/servers/${srv.json.server.id}`, { token: a.token })).json.server.status,
      'ACTIVE',
    );
    assert.equal(
      (await cloud.request('GET', `/network/v2.0/networks/${net.id}`, { token: a.token })).json.network.name,
      'a-net',
    );
    assert.equal((await cloud.request('GET', `/image/v2/images/${img.json.id}`, { token: a.token })).status, 200);
  },
);

test('a reader can look but not write', async () => {
  const p = await createProject(cloud, 'iso-r');
  const { token } = await createUser(cloud, p.id, p.name, ['reader']);
  assert.equal((await cloud.request('GET', '/network/v2.0/networks', { token })).status, 200);
  assert.equal((await cloud.request('GET', `${V}/servers`, { token })).status, 200);
  assert.equal(
    (await cloud.request('POST', '/network/v2.0/networks', { token, body: { network: { name: 'r' } } })).status,
    403,
  );
  // Keypairs belong to users, not projects: Nova lets any user make their own, so that is not checked here.
  const imageId = await makeImage(cloud, { name: 'reader-img' });
  const srv = await cloud.request('POST', `${V}/servers`, {
    token,
    body: { server: { name: 'r', imageRef: imageId, flavorRef: '42', networks: 'none' } },
  });
  assert.equal(srv.status, 403, srv.text);
  assert.equal((await cloud.request('POST', '/image/v2/images', { token, body: { name: 'r' } })).status, 403);
});
