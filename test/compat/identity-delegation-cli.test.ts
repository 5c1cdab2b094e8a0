// Application credentials, trusts, credentials, ec2 keys and limits with Debian's stock `openstack` CLI against a real
// `gureum up`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { openstackJson, openstackOk, type CliIdentity } from '../helpers/openstack.js';
import { requireCommands } from '../helpers/requirements.js';

test('delegation and limits with the stock openstack CLI', { timeout: 600_000 }, async (t) => {
  if (!requireCommands(t, ['openstack'])) return;
  const server = await startServer();
  t.after(() => server.stop());
  const admin: CliIdentity = { cloudsYaml: server.cloudsYaml };
  const adminUser = await openstackJson(admin, ['user', 'show', server.admin.username]);

  await t.test('application credential: create, log in with it, list, delete', async () => {
    const ac = await openstackJson(admin, [
      'application',
      'credential',
      'create',
      '--role',
      'reader',
      '--description',
      'ci',
      'ci-cred',
    ]);
    assert.ok(ac.secret);
    const asApp: CliIdentity = {
      authUrl: server.authUrl,
      applicationCredential: { id: ac.id, secret: ac.secret },
      regionName: server.regionName,
    };
    const tok = await openstackJson(asApp, ['token', 'issue']);
    assert.equal(tok.user_id, adminUser.id);
    const list = await openstackJson<{ Name: string }[]>(admin, ['application', 'credential', 'list']);
    assert.ok(list.some((x) => x.Name === 'ci-cred'));
    const shown = await openstackJson(admin, ['application', 'credential', 'show', 'ci-cred']);
    assert.equal(shown.id, ac.id);
    await openstackOk(admin, ['application', 'credential', 'delete', 'ci-cred']);
    const bad = await openstackJson(asApp, ['token', 'issue']).catch((e: Error) => e);
    assert.ok(bad instanceof Error, 'a deleted credential no longer logs in');
  });

  await t.test('access rules are listed', async () => {
    const rules = JSON.stringify([{ service: 'compute', method: 'GET', path: '/v2.1/servers' }]);
    await openstackJson(admin, ['application', 'credential', 'create', '--access-rules', rules, 'ruled']);
    const list = await openstackJson<{ ID: string; Service: string }[]>(admin, ['access', 'rule', 'list']);
    assert.ok(list.some((r) => r.Service === 'compute'));
  });

  await t.test('trust: create, show, list, delete', async () => {
    await openstackJson(admin, ['user', 'create', '--password', 'trustee-pw-1', 'trustee']);
    const tr = await openstackJson(admin, [
      'trust',
      'create',
      '--project',
      server.admin.projectName,
      '--role',
      'member',
      '--impersonate',
      server.admin.username,
      'trustee',
    ]);
    assert.equal(tr.impersonation, true);
    assert.equal(tr.trustor_user_id, adminUser.id);
    const shown = await openstackJson(admin, ['trust', 'show', tr.id]);
    assert.equal(shown.id, tr.id);
    const list = await openstackJson<{ ID: string }[]>(admin, ['trust', 'list']);
    assert.ok(list.some((x) => x.ID === tr.id));
    await openstackOk(admin, ['trust', 'delete', tr.id]);
  });

  await t.test('credentials and ec2 keys', async () => {
    const c = await openstackJson(admin, [
      'credential',
      'create',
      '--type',
      'ec2',
      '--project',
      server.admin.projectName,
      server.admin.username,
      JSON.stringify({ access: 'cli-access', secret: 'cli-secret' }),
    ]);
    assert.equal(c.type, 'ec2');
    const list = await openstackJson<{ ID: string }[]>(admin, ['credential', 'list']);
    assert.ok(list.some((x) => x.ID === c.id));
    await openstackOk(admin, ['credential', 'delete', c.id]);
    const ec2 = await openstackJson(admin, ['ec2', 'credentials', 'create']);
    assert.ok(ec2.access && ec2.secret);
    const keys = await openstackJson<{ Access: string }[]>(admin, ['ec2', 'credentials', 'list']);
    assert.ok(keys.some((k) => k.Access === ec2.access));
    await openstackOk(admin, ['ec2', 'credentials', 'delete', ec2.access]);
  });

  await t.test('registered and project limits', async () => {
    const reg = await openstackJson(admin, [
      'registered',
      'limit',
      'create',
      '--service',
      'keystone',
      '--default-limit',
      '5',
      'widgets',
    ]);
    assert.equal(reg.default_limit, 5);
    const lim = await openstackJson(admin, [
      'limit',
      'create',
      '--project',
      server.admin.projectName,
      '--service',
      'keystone',
      '--resource-limit',
      '7',
      'widgets',
    ]);
    assert.equal(lim.resource_limit, 7);
    const list = await openstackJson<{ ID: string }[]>(admin, ['limit', 'list']);
    assert.ok(list.some((x) => x.ID === lim.id));
    await openstackOk(admin, ['limit', 'set', '--resource-limit', '9', lim.id]);
    assert.equal((await openstackJson(admin, ['limit', 'show', lim.id])).resource_limit, 9);
    await openstackOk(admin, ['limit', 'delete', lim.id]);
    await openstackOk(admin, ['registered', 'limit', 'delete', reg.id]);
  });
});
