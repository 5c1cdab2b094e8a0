// Issue 11, finding 1: a project reader may look at its project's servers but change nothing. Every write route
// and server action checks the member role through the policy table (Nova's defaults), before anything happens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { makeImage, waitFor, V } from './helpers.js';
import { createProject, createUser, type TestUser } from '../identity/fixtures.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

test('a project reader gets 403 for every server write and the server is left as it was', async () => {
  const p = await createProject(cloud);
  const member: TestUser = await createUser(cloud, p.id, p.name, ['member']);
  const reader: TestUser = await createUser(cloud, p.id, p.name, ['reader']);
  const imageId = await makeImage(cloud);
  const net = (
    await cloud.request('POST', '/network/v2.0/networks', { token: member.token, body: { network: { name: 'n' } } })
  ).json.network.id as string;
  const sub = await cloud.request('POST', '/network/v2.0/subnets', {
    token: member.token,
    body: { subnet: { network_id: net, cidr: '10.91.0.0/24', ip_version: 4 } },
  });
  assert.equal(sub.status, 201, sub.text);
  const created = await cloud.request('POST', `${V}/servers`, {
    token: member.token,
    body: {
      server: { name: 'mine', imageRef: imageId, flavorRef: '42', networks: [{ uuid: net }], metadata: { a: '1' } },
    },
  });
  assert.equal(created.status, 202, created.text);
  const id = created.json.server.id as string;
  await waitFor(cloud, member.token, id, 'ACTIVE');
  const before = await cloud.request('GET', `${V}/servers/${id}`, {
    token: reader.token,
    headers: { 'x-openstack-nova-api-version': '2.26' },
  });
  assert.equal(before.status, 200, 'the reader can read');

  const writes: [string, string, unknown?][] = [
    ['DELETE', `${V}/servers/${id}`],
    ['PUT', `${V}/servers/${id}`, { server: { name: 'renamed' } }],
    ['PUT', `${V}/servers/${id}/metadata/k`, { meta: { k: 'v' } }],
    ['POST', `${V}/servers/${id}/metadata`, { metadata: { k: 'v' } }],
    ['PUT', `${V}/servers/${id}/metadata`, { metadata: {} }],
    ['DELETE', `${V}/servers/${id}/metadata/a`],
    ['PUT', `${V}/servers/${id}/tags/x`],
    ['PUT', `${V}/servers/${id}/tags`, { tags: ['x'] }],
    ['DELETE', `${V}/servers/${id}/tags`],
    ['POST', `${V}/servers/${id}/os-interface`, { interfaceAttachment: { net_id: net } }],
    ['POST', `${V}/os-server-groups`, { server_group: { name: 'g', policies: ['affinity'] } }],
    ['POST', `${V}/servers`, { server: { name: 'r', imageRef: imageId, flavorRef: '42', networks: [{ uuid: net }] } }],
    ...[
      'os-stop',
      'lock',
      'unlock',
      'pause',
      'unpause',
      'suspend',
      'resume',
      'shelve',
      'unshelve',
      'trigger_crash_dump',
    ].map((a): [string, string, unknown] => ['POST', `${V}/servers/${id}/action`, { [a]: null }]),
    ['POST', `${V}/servers/${id}/action`, { reboot: { type: 'SOFT' } }],
    ['POST', `${V}/servers/${id}/action`, { rebuild: { imageRef: imageId } }],
    ['POST', `${V}/servers/${id}/action`, { resize: { flavorRef: '84' } }],
    ['POST', `${V}/servers/${id}/action`, { createImage: { name: 'snap' } }],
    ['POST', `${V}/servers/${id}/action`, { 'os-getConsoleOutput': { length: 10 } }],
    ['POST', `${V}/servers/${id}/action`, { changePassword: { adminPass: 'x' } }],
    ['POST', `${V}/servers/${id}/action`, { addSecurityGroup: { name: 'default' } }],
  ];
  const allowedThrough: string[] = [];
  for (const [method, url, body] of writes) {
    const r = await cloud.request(method, url, { token: reader.token, ...(body !== undefined ? { body } : {}) });
    if (r.status !== 403) allowedThrough.push(`${method} ${url} ${JSON.stringify(body ?? '')} -> ${r.status}`);
    else assert.ok(r.json.forbidden, `Nova's body: ${r.text}`);
  }
  assert.deepEqual(allowedThrough, []);

  const after = await cloud.request('GET', `${V}/servers/${id}`, {
    token: reader.token,
    headers: { 'x-openstack-nova-api-version': '2.26' },
  });
  assert.deepEqual(after.json.server, before.json.server, 'nothing about the server changed');
  const groups = await cloud.request('GET', `${V}/os-server-groups`, { token: member.token });
  assert.equal(groups.json.server_groups.length, 0);
  const ports = await cloud.request('GET', `/network/v2.0/ports?device_id=${id}`, { token: member.token });
  assert.equal(ports.json.ports.length, 1, 'no interface was attached');
});
