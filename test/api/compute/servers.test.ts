// Nova API through the in-process cloud (fake driver): versions, flavors, keypairs, server lifecycle and actions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { V, makeImage, privateNet, waitFor } from './helpers.js';

test('compute API with the fake driver', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const tok = c.adminToken;
  const req = (m: string, u: string, body?: unknown, headers?: Record<string, string>) =>
    c.request(m, u, { token: tok, body, headers });

  await t.test('version documents and microversion negotiation', async () => {
    const root = await c.request('GET', '/compute');
    assert.equal(root.status, 200);
    const v21 = root.json.versions.find((v: any) => v.id === 'v2.1');
    assert.equal(v21.min_version, '2.1');
    assert.ok(Number(v21.version.split('.')[1]) >= 92);
    const doc = await c.request('GET', `${V}`);
    assert.equal(doc.json.version.id, 'v2.1');
    const r = await req('GET', `${V}/flavors`, undefined, { 'OpenStack-API-Version': 'compute 2.55' });
    assert.equal(r.headers['openstack-api-version'], 'compute 2.55');
    assert.equal(r.headers['x-openstack-nova-api-version'], '2.55');
    assert.match(String(r.headers.vary), /OpenStack-API-Version/);
    assert.ok('description' in r.json.flavors[0]);
    const legacy = await req('GET', `${V}/flavors`, undefined, { 'X-OpenStack-Nova-API-Version': 'latest' });
    assert.equal(legacy.status, 200);
    const bad = await req('GET', `${V}/flavors`, undefined, { 'OpenStack-API-Version': 'compute 2.999' });
    assert.equal(bad.status, 406);
    assert.equal(bad.json.notAcceptable.code, 406);
    const junk = await req('GET', `${V}/flavors`, undefined, { 'X-OpenStack-Nova-API-Version': 'two' });
    assert.equal(junk.status, 400);
    assert.ok(junk.json.badRequest.message.includes('invalid format'));
  });

  await t.test('default flavors, admin create, extra specs, private access', async () => {
    const list = await req('GET', `${V}/flavors/detail`);
    const nano = list.json.flavors.find((f: any) => f.name === 'm1.nano');
    assert.deepEqual([nano.ram, nano.disk, nano.vcpus], [128, 1, 1]);
    assert.ok(list.json.flavors.some((f: any) => f.name === 'm1.micro'));
    const made = await req('POST', `${V}/flavors`, {
      flavor: { name: 'test.tiny', ram: 256, vcpus: 1, disk: 1, 'os-flavor-access:is_public': false },
    });
    assert.equal(made.status, 200);
    const fid = made.json.flavor.id;
    const dup = await req('POST', `${V}/flavors`, { flavor: { name: 'test.tiny', ram: 256, vcpus: 1, disk: 1 } });
    assert.equal(dup.status, 409);
    assert.ok(dup.json.conflictingRequest.message.includes('already exists'));
    const neg = await req('POST', `${V}/flavors`, { flavor: { name: 'x', ram: -1, vcpus: 1, disk: 1 } });
    assert.equal(neg.status, 400);
    const specs = await req('POST', `${V}/flavors/${fid}/os-extra_specs`, {
      extra_specs: { 'hw:cpu_policy': 'shared' },
    });
    assert.deepEqual(specs.json.extra_specs, { 'hw:cpu_policy': 'shared' });
    const one = await req('GET', `${V}/flavors/${fid}/os-extra_specs/hw:cpu_policy`);
    assert.deepEqual(one.json, { 'hw:cpu_policy': 'shared' });
    const add = await req('POST', `${V}/flavors/${fid}/action`, { addTenantAccess: { tenant: 'p1' } });
    assert.deepEqual(add.json.flavor_access, [{ flavor_id: fid, tenant_id: 'p1' }]);
    const again = await req('POST', `${V}/flavors/${fid}/action`, { addTenantAccess: { tenant: 'p1' } });
    assert.equal(again.status, 409);
  });

  await t.test('keypairs: generated private key is returned once; import computes the fingerprint', async () => {
    const gen = await req('POST', `${V}/os-keypairs`, { keypair: { name: 'test-key' } });
    assert.equal(gen.status, 200);
    assert.match(gen.json.keypair.private_key, /BEGIN RSA PRIVATE KEY/);
    assert.match(gen.json.keypair.public_key, /^ssh-rsa AAAA/);
    const shown = await req('GET', `${V}/os-keypairs/test-key`);
    assert.equal(shown.json.keypair.private_key, undefined);
    assert.equal(shown.json.keypair.fingerprint, gen.json.keypair.fingerprint);
    const row = await c.controller.store.db
      .selectFrom('compute_keypairs')
      .selectAll()
      .where('name', '=', 'test-key')
      .executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(row).includes('PRIVATE'));
    const pub = gen.json.keypair.public_key as string;
    const imp = await req(
      'POST',
      `${V}/os-keypairs`,
      { keypair: { name: 'imported', public_key: pub } },
      { 'OpenStack-API-Version': 'compute 2.2' },
    );
    assert.equal(imp.status, 201);
    assert.equal(imp.json.keypair.type, 'ssh');
    assert.equal(imp.json.keypair.fingerprint, gen.json.keypair.fingerprint);
    const badKey = await req('POST', `${V}/os-keypairs`, {
      keypair: { name: 'bad', public_key: 'ssh-rsa not-base64!' },
    });
    assert.equal(badKey.status, 400);
    const dup = await req('POST', `${V}/os-keypairs`, { keypair: { name: 'imported', public_key: pub } });
    assert.equal(dup.status, 409);
  });

  await t.test('server lifecycle through every action', async () => {
    const image = await makeImage(c);
    const net = await privateNet(c);
    const created = await req('POST', `${V}/servers`, {
      server: {
        name: 'vm1',
        imageRef: image,
        flavorRef: '42',
        networks: [{ uuid: net }],
        key_name: 'test-key',
        metadata: { a: 'b' },
      },
    });
    assert.equal(created.status, 202, created.text);
    assert.ok(created.json.server.adminPass);
    const id = created.json.server.id;
    let s = await waitFor(c, tok, id, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:power_state'], 1);
    assert.equal(s.key_name, 'test-key');
    assert.ok(s.addresses.private[0].addr);
    const step = async (action: unknown, status: string) => {
      const r = await req('POST', `${V}/servers/${id}/action`, action);
      assert.ok(
        r.status === 202 || r.status === 200 || r.status === 204,
        `${JSON.stringify(action)}: ${r.status} ${r.text}`,
      );
      return waitFor(c, tok, id, status);
    };
    await step({ pause: null }, 'PAUSED');
    const wrong = await req('POST', `${V}/servers/${id}/action`, { suspend: null });
    assert.equal(wrong.status, 409);
    assert.match(wrong.json.conflictingRequest.message, /Cannot 'suspend' instance .* while it is in vm_state paused/);
    await step({ unpause: null }, 'ACTIVE');
    await step({ suspend: null }, 'SUSPENDED');
    await step({ resume: null }, 'ACTIVE');
    s = await step({ 'os-stop': null }, 'SHUTOFF');
    assert.equal(s['OS-EXT-STS:power_state'], 4);
    await step({ 'os-start': null }, 'ACTIVE');
    await step({ reboot: { type: 'SOFT' } }, 'ACTIVE');
    await step({ reboot: { type: 'HARD' } }, 'ACTIVE');
    await step({ rebuild: { imageRef: image, name: 'vm1b' } }, 'ACTIVE');
    await step({ resize: { flavorRef: '84' } }, 'VERIFY_RESIZE');
    await step({ confirmResize: null }, 'ACTIVE');
    await step({ rescue: null }, 'RESCUE');
    await step({ unrescue: null }, 'ACTIVE');
    const lock = await req(
      'POST',
      `${V}/servers/${id}/action`,
      { lock: { locked_reason: 'maintenance' } },
      { 'OpenStack-API-Version': 'compute 2.73' },
    );
    assert.equal(lock.status, 202);
    const shown = await req('GET', `${V}/servers/${id}`, undefined, { 'OpenStack-API-Version': 'compute 2.73' });
    assert.equal(shown.json.server.locked, true);
    assert.equal(shown.json.server.locked_reason, 'maintenance');
    await req('POST', `${V}/servers/${id}/action`, { unlock: null });
    await step({ shelve: null }, 'SHELVED_OFFLOADED');
    await step({ unshelve: null }, 'ACTIVE');
    const snap = await req(
      'POST',
      `${V}/servers/${id}/action`,
      { createImage: { name: 'snap1' } },
      { 'OpenStack-API-Version': 'compute 2.45' },
    );
    assert.equal(snap.status, 202);
    await waitFor(c, tok, id, 'ACTIVE');
    const img = await req('GET', `/image/v2/images/${snap.json.image_id}`);
    assert.equal(img.json.status, 'active');
    assert.equal(img.json.min_disk, 1);
    const log = await req('POST', `${V}/servers/${id}/action`, { 'os-getConsoleOutput': { length: 3 } });
    assert.equal(log.status, 200);
    assert.ok(log.json.output.split('\n').length <= 4);
    const actions = await req('GET', `${V}/servers/${id}/os-instance-actions`);
    assert.ok(actions.json.instanceActions.some((a: any) => a.action === 'create'));
    const first = actions.json.instanceActions.find((a: any) => a.action === 'pause');
    const detail = await req('GET', `${V}/servers/${id}/os-instance-actions/${first.request_id}`);
    assert.equal(detail.json.instanceAction.events[0].result, 'Success');
    const del = await req('DELETE', `${V}/servers/${id}`);
    assert.equal(del.status, 204);
    await waitFor(c, tok, id, 'DELETED');
    const ports = await req('GET', `/network/v2.0/ports?device_id=${id}`);
    assert.equal(ports.json.ports.length, 0);
    const usage = await req('GET', `${V}/limits`);
    assert.equal(usage.json.limits.absolute.totalInstancesUsed, 0);
  });

  await t.test('list filters, pagination, metadata and tags', async () => {
    const image = await makeImage(c);
    const ids: string[] = [];
    for (const name of ['alpha', 'beta', 'gamma']) {
      const r = await req(
        'POST',
        `${V}/servers`,
        { server: { name, imageRef: image, flavorRef: '42', networks: 'none' } },
        { 'OpenStack-API-Version': 'compute 2.37' },
      );
      assert.equal(r.status, 202, r.text);
      ids.push(r.json.server.id);
    }
    for (const id of ids) await waitFor(c, tok, id, 'ACTIVE');
    const byName = await req('GET', `${V}/servers?name=^be`);
    assert.deepEqual(
      byName.json.servers.map((s: any) => s.name),
      ['beta'],
    );
    const page = await req('GET', `${V}/servers/detail?limit=2`);
    assert.equal(page.json.servers.length, 2);
    assert.ok(page.json.servers_links[0].href.includes('marker='));
    const rest = await req('GET', `${V}/servers/detail?limit=2&marker=${page.json.servers[1].id}`);
    assert.equal(rest.json.servers.length, 1);
    const md = await req('PUT', `${V}/servers/${ids[0]}/metadata/k`, { meta: { k: 'v' } });
    assert.deepEqual(md.json, { meta: { k: 'v' } });
    const tagged = await req('PUT', `${V}/servers/${ids[0]}/tags/blue`, undefined, {
      'OpenStack-API-Version': 'compute 2.26',
    });
    assert.equal(tagged.status, 201);
    const byTag = await req('GET', `${V}/servers?tags=blue`, undefined, { 'OpenStack-API-Version': 'compute 2.26' });
    assert.deepEqual(
      byTag.json.servers.map((s: any) => s.id),
      [ids[0]],
    );
    const active = await req('GET', `${V}/servers?status=ACTIVE`);
    assert.equal(active.json.servers.length, 3);
    for (const id of ids) await req('DELETE', `${V}/servers/${id}`);
    for (const id of ids) await waitFor(c, tok, id, 'DELETED');
  });

  await t.test('admin views: hypervisors, services, availability zones, aggregates, server groups', async () => {
    const hv = await req('GET', `${V}/os-hypervisors/detail`);
    assert.equal(hv.json.hypervisors.length, 1);
    assert.equal(hv.json.hypervisors[0].hypervisor_type, 'fake');
    const svc = await req('GET', `${V}/os-services`);
    assert.ok(svc.json.services.some((s: any) => s.binary === 'nova-compute' && s.state === 'up'));
    const az = await req('GET', `${V}/os-availability-zone`);
    assert.equal(az.json.availabilityZoneInfo[0].zoneName, 'nova');
    const agg = await req('POST', `${V}/os-aggregates`, { aggregate: { name: 'a1', availability_zone: 'az1' } });
    assert.equal(agg.status, 200);
    const host = svc.json.services.find((s: any) => s.binary === 'nova-compute').host;
    const added = await req('POST', `${V}/os-aggregates/${agg.json.aggregate.id}/action`, { add_host: { host } });
    assert.deepEqual(added.json.aggregate.hosts, [host]);
    const az2 = await req('GET', `${V}/os-availability-zone`);
    assert.ok(az2.json.availabilityZoneInfo.some((z: any) => z.zoneName === 'az1'));
    await req('POST', `${V}/os-aggregates/${agg.json.aggregate.id}/action`, { remove_host: { host } });
    assert.equal((await req('DELETE', `${V}/os-aggregates/${agg.json.aggregate.id}`)).status, 200);
    const g = await req('POST', `${V}/os-server-groups`, { server_group: { name: 'g', policies: ['anti-affinity'] } });
    assert.equal(g.status, 200);
    assert.deepEqual(g.json.server_group.policies, ['anti-affinity']);
  });
});
