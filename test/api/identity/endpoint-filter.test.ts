import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

test(
  "an endpoint group associated with a project narrows that project's catalog, and only that " + "project's",
  async () => {
    const r = (m: string, u: string, body?: unknown, token = cloud.adminToken) =>
      cloud.request(m, `/identity/v3${u}`, { token, ...(body ? { body } : {}) });
    const svc = (await r('POST', '/services', { service: { type: 'object-store', name: 'swiftish' } })).json.service;
    await r('POST', '/endpoints', {
      endpoint: { service_id: svc.id, interface: 'public', url: 'http://obj.example/v1', region_id: 'RegionOne' },
    });
    const identity = (await r('GET', '/services?type=identity')).json.services[0];
    const group = await r('POST', '/OS-EP-FILTER/endpoint_groups', {
      endpoint_group: { name: 'id-only', filters: { service_id: identity.id } },
    });
    assert.equal(group.status, 201);
    const g = group.json.endpoint_group;
    assert.equal(
      (
        await r('POST', '/OS-EP-FILTER/endpoint_groups', {
          endpoint_group: { name: 'bad', filters: { colour: 'red' } },
        })
      ).status,
      400,
    );

    const p = (await r('POST', '/projects', { project: { name: 'filtered' } })).json.project;
    const adminUser = (await r('GET', '/users?name=admin')).json.users[0];
    const role = (await r('GET', '/roles?name=member')).json.roles[0];
    await r('PUT', `/projects/${p.id}/users/${adminUser.id}/roles/${role.id}`);

    const before = await cloud.login('admin', cloud.adminPassword, 'filtered');
    const typesBefore = (await r('GET', '/auth/catalog', undefined, before)).json.catalog
      .filter((s: any) => s.endpoints.length)
      .map((s: any) => s.type);
    assert.ok(typesBefore.includes('object-store'));

    assert.equal((await r('PUT', `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${p.id}`)).status, 204);
    const after = await cloud.login('admin', cloud.adminPassword, 'filtered');
    const typesAfter = (await r('GET', '/auth/catalog', undefined, after)).json.catalog
      .filter((s: any) => s.endpoints.length)
      .map((s: any) => s.type);
    assert.deepEqual(typesAfter, ['identity']);
    // The admin project has no associations and still sees everything.
    const adminTypes = (await r('GET', '/auth/catalog')).json.catalog
      .filter((s: any) => s.endpoints.length)
      .map((s: any) => s.type);
    assert.ok(adminTypes.includes('object-store'));

    assert.equal((await r('GET', `/OS-EP-FILTER/endpoint_groups/${g.id}/projects`)).json.projects[0].id, p.id);
    assert.equal((await r('DELETE', `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${p.id}`)).status, 204);
    assert.equal((await r('HEAD', `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${p.id}`)).status, 404);

    // A direct endpoint association narrows the catalog to that one endpoint.
    const objEp = (await r('GET', `/endpoints?service_id=${svc.id}`)).json.endpoints[0];
    assert.equal((await r('PUT', `/OS-EP-FILTER/projects/${p.id}/endpoints/${objEp.id}`)).status, 204);
    assert.equal((await r('GET', `/OS-EP-FILTER/projects/${p.id}/endpoints/${objEp.id}`)).status, 204);
    assert.deepEqual(
      (await r('GET', `/OS-EP-FILTER/endpoints/${objEp.id}/projects`)).json.projects.map((x: any) => x.id),
      [p.id],
    );
    const direct = await cloud.login('admin', cloud.adminPassword, 'filtered');
    const cat = (await r('GET', '/auth/catalog', undefined, direct)).json.catalog.filter(
      (s: any) => s.endpoints.length,
    );
    assert.deepEqual(
      cat.map((s: any) => s.type),
      ['object-store'],
    );
    assert.equal((await r('DELETE', `/OS-EP-FILTER/projects/${p.id}/endpoints/${objEp.id}`)).status, 204);
    assert.equal((await r('DELETE', `/OS-EP-FILTER/projects/${p.id}/endpoints/${objEp.id}`)).status, 404);
  },
);

test('OAuth1 consumers: the secret is shown once', async () => {
  const r = (m: string, u: string, body?: unknown) =>
    cloud.request(m, `/identity/v3${u}`, { token: cloud.adminToken, ...(body ? { body } : {}) });
  const c = await r('POST', '/OS-OAUTH1/consumers', { consumer: { description: 'app' } });
  assert.equal(c.status, 201);
  assert.ok(c.json.consumer.secret);
  const shown = await r('GET', `/OS-OAUTH1/consumers/${c.json.consumer.id}`);
  assert.equal(shown.json.consumer.secret, undefined);
  assert.equal(
    (await r('PATCH', `/OS-OAUTH1/consumers/${c.json.consumer.id}`, { consumer: { secret: 'x' } })).status,
    400,
  );
  assert.equal((await r('DELETE', `/OS-OAUTH1/consumers/${c.json.consumer.id}`)).status, 204);
  assert.equal((await r('GET', `/OS-OAUTH1/consumers/${c.json.consumer.id}`)).status, 404);
});
