// Neutron never refuses a list: a non-admin listing agents gets 200 and an empty list (the items it may not get are
// filtered out), not a 403. Tempest's test_list_agents_non_admin checks exactly this.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { createProject, createUser } from '../identity/fixtures.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

test('agents: a member lists an empty list (200), as does admin', async () => {
  const p = await createProject(cloud);
  const member = await createUser(cloud, p.id, p.name, ['member']);
  for (const token of [member.token, cloud.adminToken]) {
    const r = await cloud.request('GET', '/network/v2.0/agents', { token });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.agents, []);
  }
});
