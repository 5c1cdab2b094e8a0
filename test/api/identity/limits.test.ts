import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser, uniq, type TestUser } from './fixtures.js';

let cloud: TestCloud;
let project: { id: string; name: string };
let other: { id: string; name: string };
let alice: TestUser;
let serviceId: string;
let regionId: string;
before(async () => {
  cloud = await createTestCloud();
  project = await createProject(cloud);
  other = await createProject(cloud);
  alice = await createUser(cloud, project.id, project.name, ['member']);
  const s = await cloud.request('POST', '/identity/v3/services', {
    token: cloud.adminToken,
    body: { service: { type: 'compute-test', name: 'nova-test' } },
  });
  assert.equal(s.status, 201, s.text);
  serviceId = s.json.service.id;
  const r = await cloud.request('GET', '/identity/v3/regions', { token: cloud.adminToken });
  regionId = r.json.regions[0].id;
});
after(async () => {
  await cloud.close();
});

const RL = '/identity/v3/registered_limits';
const L = '/identity/v3/limits';
const admin = () => cloud.adminToken;

test('registered limits: create a list, read as anyone, update, refuse duplicates', async () => {
  const name = uniq('cores');
  const r = await cloud.request('POST', RL, {
    token: admin(),
    body: {
      registered_limits: [
        { service_id: serviceId, resource_name: name, default_limit: 10, description: 'cores' },
        { service_id: serviceId, region_id: regionId, resource_name: name, default_limit: 20 },
      ],
    },
  });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.registered_limits.length, 2);
  const [global, regional] = r.json.registered_limits;
  assert.equal(global.region_id, null);
  assert.equal(regional.region_id, regionId);
  assert.match(global.links.self, new RegExp(`/v3/registered_limits/${global.id}$`));

  const list = await cloud.request('GET', `${RL}?resource_name=${name}`, { token: alice.token });
  assert.equal(list.status, 200);
  assert.equal(list.json.registered_limits.length, 2);
  assert.equal(
    (await cloud.request('GET', `${RL}?resource_name=${name}&region_id=${regionId}`, { token: alice.token })).json
      .registered_limits.length,
    1,
  );
  assert.equal(
    (await cloud.request('GET', `${RL}/${global.id}`, { token: alice.token })).json.registered_limit.default_limit,
    10,
  );

  const dup = await cloud.request('POST', RL, {
    token: admin(),
    body: { registered_limits: [{ service_id: serviceId, resource_name: name, default_limit: 1 }] },
  });
  assert.equal(dup.status, 409);
  const dupInList = await cloud.request('POST', RL, {
    token: admin(),
    body: {
      registered_limits: [
        { service_id: serviceId, resource_name: `${name}-x`, default_limit: 1 },
        { service_id: serviceId, resource_name: `${name}-x`, default_limit: 2 },
      ],
    },
  });
  assert.equal(dupInList.status, 409);
  assert.equal(
    (await cloud.request('GET', `${RL}?resource_name=${name}-x`, { token: admin() })).json.registered_limits.length,
    0,
    'all or nothing',
  );

  const u = await cloud.request('PATCH', `${RL}/${global.id}`, {
    token: admin(),
    body: { registered_limit: { default_limit: 12, description: null } },
  });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.registered_limit.default_limit, 12);
  assert.equal(u.json.registered_limit.description, null);
  assert.equal(
    (
      await cloud.request('PATCH', `${RL}/${global.id}`, {
        token: alice.token,
        body: { registered_limit: { default_limit: 1 } },
      })
    ).status,
    403,
  );
  assert.equal(
    (
      await cloud.request('POST', RL, {
        token: alice.token,
        body: { registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: 1 }] },
      })
    ).status,
    403,
  );
});

test('registered limits: bad input is 400', async () => {
  const bad: unknown[] = [
    [],
    [{ service_id: serviceId, resource_name: 'r' }],
    [{ service_id: serviceId, resource_name: 'r', default_limit: -2 }],
    [{ service_id: serviceId, resource_name: 'r', default_limit: 1.5 }],
    [{ service_id: 'nope', resource_name: 'r', default_limit: 1 }],
    [{ service_id: serviceId, region_id: 'nowhere', resource_name: 'r', default_limit: 1 }],
    [{ service_id: serviceId, resource_name: '', default_limit: 1 }],
    [{ service_id: serviceId, resource_name: 'r', default_limit: 1, color: 'red' }],
  ];
  for (const list of bad) {
    const r = await cloud.request('POST', RL, { token: admin(), body: { registered_limits: list } });
    assert.equal(r.status, 400, `${JSON.stringify(list)}: ${r.text}`);
    assert.equal(r.json.error.code, 400);
  }
  assert.equal((await cloud.request('POST', RL, { token: admin(), body: { registered_limit: {} } })).status, 400);
});

test('project and domain limits need a registered limit; only resource_limit and description change', async () => {
  const name = uniq('ram');
  const reg = (
    await cloud.request('POST', RL, {
      token: admin(),
      body: { registered_limits: [{ service_id: serviceId, resource_name: name, default_limit: 1024 }] },
    })
  ).json.registered_limits[0];
  const r = await cloud.request('POST', L, {
    token: admin(),
    body: {
      limits: [
        { project_id: project.id, service_id: serviceId, resource_name: name, resource_limit: 2048 },
        { project_id: other.id, service_id: serviceId, resource_name: name, resource_limit: 512, description: 'small' },
        { domain_id: 'default', service_id: serviceId, resource_name: name, resource_limit: 4096 },
      ],
    },
  });
  assert.equal(r.status, 201, r.text);
  const [mine, theirs, dom] = r.json.limits;
  assert.equal(mine.project_id, project.id);
  assert.equal(mine.domain_id, null);
  assert.equal(dom.domain_id, 'default');
  assert.match(mine.links.self, new RegExp(`/v3/limits/${mine.id}$`));

  assert.equal(
    (
      await cloud.request('POST', L, {
        token: admin(),
        body: { limits: [{ project_id: project.id, service_id: serviceId, resource_name: name, resource_limit: 1 }] },
      })
    ).status,
    409,
  );
  assert.equal(
    (
      await cloud.request('POST', L, {
        token: admin(),
        body: {
          limits: [
            { project_id: project.id, service_id: serviceId, resource_name: uniq('unregistered'), resource_limit: 1 },
          ],
        },
      })
    ).status,
    403,
  );
  assert.equal(
    (
      await cloud.request('POST', L, {
        token: admin(),
        body: {
          limits: [
            {
              project_id: project.id,
              domain_id: 'default',
              service_id: serviceId,
              resource_name: name,
              resource_limit: 1,
            },
          ],
        },
      })
    ).status,
    400,
  );
  assert.equal(
    (
      await cloud.request('POST', L, {
        token: admin(),
        body: {
          limits: [{ project_id: 'f'.repeat(32), service_id: serviceId, resource_name: name, resource_limit: 1 }],
        },
      })
    ).status,
    400,
  );
  assert.equal(
    (
      await cloud.request('POST', L, {
        token: alice.token,
        body: { limits: [{ project_id: project.id, service_id: serviceId, resource_name: name, resource_limit: 1 }] },
      })
    ).status,
    403,
  );

  // Admins see all; a project member sees their project's.
  assert.equal((await cloud.request('GET', `${L}?resource_name=${name}`, { token: admin() })).json.limits.length, 3);
  const seen = await cloud.request('GET', `${L}?resource_name=${name}`, { token: alice.token });
  assert.deepEqual(
    seen.json.limits.map((l: { id: string }) => l.id),
    [mine.id],
  );
  assert.equal(
    (await cloud.request('GET', `${L}?project_id=${other.id}`, { token: alice.token })).json.limits.length,
    0,
  );
  assert.equal((await cloud.request('GET', `${L}/${mine.id}`, { token: alice.token })).status, 200);
  assert.equal((await cloud.request('GET', `${L}/${theirs.id}`, { token: alice.token })).status, 403);

  const u = await cloud.request('PATCH', `${L}/${mine.id}`, {
    token: admin(),
    body: { limit: { resource_limit: 4000, description: 'more' } },
  });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.limit.resource_limit, 4000);
  assert.equal(u.json.limit.description, 'more');
  assert.equal(
    (await cloud.request('PATCH', `${L}/${mine.id}`, { token: admin(), body: { limit: { project_id: other.id } } }))
      .status,
    400,
  );
  assert.equal(
    (await cloud.request('PATCH', `${L}/${mine.id}`, { token: admin(), body: { limit: { resource_limit: 'lots' } } }))
      .status,
    400,
  );

  // A registered limit in use can be neither deleted nor moved.
  assert.equal((await cloud.request('DELETE', `${RL}/${reg.id}`, { token: admin() })).status, 403);
  assert.equal(
    (
      await cloud.request('PATCH', `${RL}/${reg.id}`, {
        token: admin(),
        body: { registered_limit: { resource_name: uniq('x') } },
      })
    ).status,
    403,
  );
  for (const l of [mine, theirs, dom])
    assert.equal((await cloud.request('DELETE', `${L}/${l.id}`, { token: admin() })).status, 204);
  assert.equal((await cloud.request('GET', `${L}/${mine.id}`, { token: admin() })).status, 404);
  assert.equal((await cloud.request('DELETE', `${RL}/${reg.id}`, { token: admin() })).status, 204);
  assert.equal((await cloud.request('GET', `${RL}/${reg.id}`, { token: admin() })).status, 404);
});

test('the enforcement model is flat', async () => {
  const r = await cloud.request('GET', `${L}/model`, { token: alice.token });
  assert.equal(r.status, 200);
  assert.equal(r.json.model.name, 'flat');
  assert.ok(r.json.model.description);
});
