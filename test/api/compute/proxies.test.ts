// Nova's proxy APIs (security groups, floating IPs, networks, images) and the admin extras (hosts, audit log,
// diagnostics, external events, server password, extensions), through the in-process cloud with the fake driver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { V, makeImage, privateNet, waitFor } from './helpers.js';

const OLD = { 'X-OpenStack-Nova-API-Version': '2.35' };

test('compute proxy APIs and admin extras', async (t) => {
  const c = await createTestCloud();
  t.after(() => c.close());
  const tok = c.adminToken;
  const req = (m: string, u: string, body?: unknown, headers: Record<string, string> = OLD) =>
    c.request(m, u, { token: tok, body, headers });
  const imageId = await makeImage(c);
  const net = await privateNet(c);
  const boot = async (name: string) => {
    const r = await req('POST', `${V}/servers`, {
      server: { name, imageRef: imageId, flavorRef: '1', networks: [{ uuid: net }] },
    });
    assert.equal(r.status, 202, r.text);
    return waitFor(c, tok, r.json.server.id, 'ACTIVE');
  };

  await t.test('os-security-groups: create, show, update, list, delete; 404 after 2.35', async () => {
    const made = await req('POST', `${V}/os-security-groups`, {
      security_group: { name: ' web ', description: 'front' },
    });
    assert.equal(made.status, 200, made.text);
    const g = made.json.security_group;
    assert.deepEqual(Object.keys(g).sort(), ['description', 'id', 'name', 'rules', 'tenant_id']);
    assert.equal(g.name, ' web ');
    assert.deepEqual(g.rules, [], 'egress rules are not shown');
    assert.deepEqual((await req('GET', `${V}/os-security-groups/${g.id}`)).json.security_group, g);
    const up = await req('PUT', `${V}/os-security-groups/${g.id}`, {
      security_group: { name: 'web2', description: 'd2' },
    });
    assert.equal(up.json.security_group.name, 'web2');
    const list = await req('GET', `${V}/os-security-groups`);
    assert.ok(list.json.security_groups.some((x: any) => x.id === g.id));
    assert.ok(list.json.security_groups.some((x: any) => x.name === 'default'));
    assert.equal(
      (await req('GET', `${V}/os-security-groups`, undefined, { 'X-OpenStack-Nova-API-Version': '2.36' })).status,
      404,
    );
    assert.equal((await req('DELETE', `${V}/os-security-groups/${g.id}`)).status, 202);
    assert.equal((await req('GET', `${V}/os-security-groups/${g.id}`)).status, 404);
  });

  await t.test('os-security-groups: bad input is 400, the default group cannot be deleted', async () => {
    const noDesc = await req('POST', `${V}/os-security-groups`, { security_group: { name: 'x' } });
    assert.equal(noDesc.status, 400);
    assert.ok(noDesc.json.badRequest.message.includes('description'));
    const long = await req('POST', `${V}/os-security-groups`, {
      security_group: { name: 'x'.repeat(256), description: '' },
    });
    assert.equal(long.status, 400);
    assert.equal((await req('GET', `${V}/os-security-groups/not-a-uuid`)).status, 400);
    const def = (await req('GET', `${V}/os-security-groups`)).json.security_groups.find(
      (x: any) => x.name === 'default',
    );
    const del = await req('DELETE', `${V}/os-security-groups/${def.id}`);
    assert.equal(del.status, 400);
  });

  await t.test('os-security-group-rules: create (cidr and group), duplicate and bad ports 400, delete', async () => {
    const g = (await req('POST', `${V}/os-security-groups`, { security_group: { name: 'rules', description: '' } }))
      .json.security_group;
    const r = await req('POST', `${V}/os-security-group-rules`, {
      security_group_rule: {
        parent_group_id: g.id,
        ip_protocol: 'tcp',
        from_port: 22,
        to_port: 22,
        cidr: '10.0.0.0/8',
      },
    });
    assert.equal(r.status, 200, r.text);
    const host = await req('POST', `${V}/os-security-group-rules`, {
      security_group_rule: {
        parent_group_id: g.id,
        ip_protocol: 'udp',
        from_port: 53,
        to_port: 53,
        cidr: '10.2.3.124/24',
      },
    });
    assert.deepEqual(host.json.security_group_rule.ip_range, { cidr: '10.2.3.124/24' }, 'the cidr as asked');
    assert.deepEqual(r.json.security_group_rule, {
      id: r.json.security_group_rule.id,
      parent_group_id: g.id,
      ip_protocol: 'tcp',
      from_port: 22,
      to_port: 22,
      group: {},
      ip_range: { cidr: '10.0.0.0/8' },
    });
    const dup = await req('POST', `${V}/os-security-group-rules`, {
      security_group_rule: {
        parent_group_id: g.id,
        ip_protocol: 'tcp',
        from_port: 22,
        to_port: 22,
        cidr: '10.0.0.0/8',
      },
    });
    assert.equal(dup.status, 400);
    assert.ok(dup.json.badRequest.message.includes('already exists'));
    const byGroup = await req('POST', `${V}/os-security-group-rules`, {
      security_group_rule: { parent_group_id: g.id, ip_protocol: 'icmp', group_id: g.id },
    });
    assert.equal(byGroup.status, 200, byGroup.text);
    assert.deepEqual(byGroup.json.security_group_rule.group, { name: 'rules', tenant_id: g.tenant_id });
    assert.deepEqual([byGroup.json.security_group_rule.from_port, byGroup.json.security_group_rule.to_port], [-1, -1]);
    for (const bad of [
      { ip_protocol: 'tcp', from_port: 70000, to_port: 22 },
      { ip_protocol: 'tcp', from_port: 22, to_port: 21 },
      { ip_protocol: 'xyz', from_port: 1, to_port: 2 },
    ]) {
      const res = await req('POST', `${V}/os-security-group-rules`, {
        security_group_rule: { parent_group_id: g.id, ...bad },
      });
      assert.equal(res.status, 400, JSON.stringify(bad));
    }
    assert.equal(
      (
        await req('POST', `${V}/os-security-group-rules`, {
          security_group_rule: { parent_group_id: 'nope', ip_protocol: 'tcp', from_port: 1, to_port: 2 },
        })
      ).status,
      400,
    );
    assert.equal(
      (
        await req('POST', `${V}/os-security-group-rules`, {
          security_group_rule: {
            parent_group_id: '5b4a9a2e-3b6f-4b8e-9d7c-1a2b3c4d5e6f',
            ip_protocol: 'tcp',
            from_port: 1,
            to_port: 2,
          },
        })
      ).status,
      404,
    );
    const shown = (await req('GET', `${V}/os-security-groups/${g.id}`)).json.security_group;
    assert.equal(shown.rules.length, 3);
    assert.equal((await req('DELETE', `${V}/os-security-group-rules/${r.json.security_group_rule.id}`)).status, 202);
    assert.equal((await req('DELETE', `${V}/os-security-group-rules/${r.json.security_group_rule.id}`)).status, 404);
    // A peer group named by another group's rule can be deleted; the rule goes with it.
    const peer = (await req('POST', `${V}/os-security-groups`, { security_group: { name: 'peer', description: '' } }))
      .json.security_group;
    const viaPeer = await req('POST', `${V}/os-security-group-rules`, {
      security_group_rule: { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 80, to_port: 80, group_id: peer.id },
    });
    assert.equal(viaPeer.status, 200, viaPeer.text);
    assert.equal((await req('DELETE', `${V}/os-security-groups/${peer.id}`)).status, 202);
    const left = (await req('GET', `${V}/os-security-groups/${g.id}`)).json.security_group.rules;
    assert.equal(
      left.some((x: any) => x.id === viaPeer.json.security_group_rule.id),
      false,
    );
  });

  await t.test('addSecurityGroup / removeSecurityGroup and servers/{id}/os-security-groups', async () => {
    const g = (await req('POST', `${V}/os-security-groups`, { security_group: { name: 'extra', description: '' } }))
      .json.security_group;
    const s = await boot('sg-vm');
    assert.equal(
      (await req('POST', `${V}/servers/${s.id}/action`, { addSecurityGroup: { name: 'extra' } })).status,
      202,
    );
    const groups = (await req('GET', `${V}/servers/${s.id}/os-security-groups`)).json.security_groups
      .map((x: any) => x.name)
      .sort();
    assert.deepEqual(groups, ['default', 'extra']);
    assert.equal((await req('DELETE', `${V}/os-security-groups/${g.id}`)).status, 400, 'in use');
    assert.equal(
      (await req('POST', `${V}/servers/${s.id}/action`, { addSecurityGroup: { name: 'missing' } })).status,
      404,
    );
    assert.equal((await req('POST', `${V}/servers/${s.id}/action`, { addSecurityGroup: {} })).status, 400);
    for (const name of ['default', 'extra'])
      assert.equal((await req('POST', `${V}/servers/${s.id}/action`, { removeSecurityGroup: { name } })).status, 202);
    const shown = (await req('GET', `${V}/servers/${s.id}`)).json.server;
    assert.equal('security_groups' in shown, false);
    assert.equal(
      (await req('POST', `${V}/servers/${s.id}/action`, { removeSecurityGroup: { name: 'extra' } })).status,
      404,
    );
  });

  await t.test('os-floating-ips: allocate, associate, disassociate, delete; bad pool 404', async () => {
    const s = await boot('fip-vm');
    const pools = (await req('GET', `${V}/os-floating-ip-pools`)).json.floating_ip_pools;
    assert.ok(pools.some((p: any) => p.name === 'public'));
    const made = await req('POST', `${V}/os-floating-ips`, { pool: 'public' });
    assert.equal(made.status, 200, made.text);
    const f = made.json.floating_ip;
    assert.deepEqual(Object.keys(f).sort(), ['fixed_ip', 'id', 'instance_id', 'ip', 'pool']);
    assert.equal(f.pool, 'public');
    assert.equal(f.instance_id, null);
    assert.equal((await req('POST', `${V}/os-floating-ips`, { pool: 'nowhere' })).status, 404);
    const add = await req('POST', `${V}/servers/${s.id}/action`, { addFloatingIp: { address: f.ip } });
    assert.equal(add.status, 202, add.text);
    const after = (await req('GET', `${V}/os-floating-ips/${f.id}`)).json.floating_ip;
    assert.equal(after.instance_id, s.id);
    assert.ok(after.fixed_ip);
    assert.equal(
      (await req('POST', `${V}/servers/${s.id}/action`, { addFloatingIp: { address: '0.0.0.0' } })).status,
      404,
    );
    assert.equal(
      (await req('POST', `${V}/servers/${s.id}/action`, { addFloatingIp: { address: 'not-an-ip' } })).status,
      400,
    );
    assert.equal(
      (await req('POST', `${V}/servers/${s.id}/action`, { removeFloatingIp: { address: f.ip } })).status,
      202,
    );
    assert.equal(
      (await req('POST', `${V}/servers/${s.id}/action`, { removeFloatingIp: { address: f.ip } })).status,
      409,
    );
    assert.equal(
      (
        await req(
          'POST',
          `${V}/servers/${s.id}/action`,
          { addFloatingIp: { address: f.ip } },
          { 'X-OpenStack-Nova-API-Version': '2.44' },
        )
      ).status,
      404,
    );
    assert.equal((await req('DELETE', `${V}/os-floating-ips/${f.id}`)).status, 202);
    assert.equal((await req('GET', `${V}/os-floating-ips/${f.id}`)).status, 404);
  });

  await t.test('os-networks and os-tenant-networks', async () => {
    const nets = (await req('GET', `${V}/os-tenant-networks`)).json.networks;
    const priv = nets.find((n: any) => n.id === net);
    assert.deepEqual(priv, { id: net, cidr: 'None', label: 'private' });
    assert.equal((await req('GET', `${V}/os-networks/${net}`)).json.network.label, 'private');
    assert.equal((await req('GET', `${V}/os-networks/5b4a9a2e-3b6f-4b8e-9d7c-1a2b3c4d5e6f`)).status, 404);
    assert.equal(
      (await req('GET', `${V}/os-tenant-networks`, undefined, { 'X-OpenStack-Nova-API-Version': '2.36' })).status,
      404,
    );
  });

  await t.test('/images proxy: show, list filters, metadata, delete', async () => {
    const img = (await req('GET', `${V}/images/${imageId}`)).json.image;
    assert.equal(img.status, 'ACTIVE');
    assert.equal(img.progress, 100);
    assert.equal(img.links.length, 3);
    assert.equal((await req('GET', `${V}/images/5b4a9a2e-3b6f-4b8e-9d7c-1a2b3c4d5e6f`)).status, 404);
    const listed = (await req('GET', `${V}/images?name=tiny`)).json.images;
    assert.ok(listed.some((i: any) => i.id === imageId));
    assert.deepEqual(Object.keys(listed[0]).sort(), ['id', 'links', 'name']);
    assert.equal(
      (await req('GET', `${V}/images/detail?status=SAVING`)).json.images.some((i: any) => i.id === imageId),
      false,
    );
    assert.equal((await req('GET', `${V}/images?changes-since=yesterday`)).status, 400);
    const set = await req('POST', `${V}/images/${imageId}/metadata`, {
      metadata: { os_distro: 'debian', os_version: '12' },
    });
    assert.deepEqual(set.json.metadata, { os_distro: 'debian', os_version: '12' });
    const put = await req('PUT', `${V}/images/${imageId}/metadata`, { metadata: { os_distro: 'cirros' } });
    assert.deepEqual(put.json.metadata, { os_distro: 'cirros' });
    assert.deepEqual((await req('GET', `${V}/images/${imageId}/metadata/os_distro`)).json, {
      meta: { os_distro: 'cirros' },
    });
    assert.equal((await req('PUT', `${V}/images/${imageId}/metadata/os_distro`, { meta: { other: 'x' } })).status, 400);
    assert.equal((await req('DELETE', `${V}/images/${imageId}/metadata/os_distro`)).status, 204);
    assert.equal((await req('GET', `${V}/images/${imageId}/metadata/os_distro`)).status, 404);
    const doomed = await makeImage(c, { name: 'doomed' });
    assert.equal((await req('DELETE', `${V}/images/${doomed}`)).status, 204);
    assert.equal((await req('GET', `${V}/images/${doomed}`)).status, 404);
    assert.equal(
      (await req('GET', `${V}/images/${imageId}`, undefined, { 'X-OpenStack-Nova-API-Version': '2.36' })).status,
      404,
    );
  });

  await t.test('os-hosts: list, zone filter, show, update; 404 for unknown hosts', async () => {
    const hosts = (await req('GET', `${V}/os-hosts`)).json.hosts;
    const comp = hosts.find((h: any) => h.service === 'compute');
    assert.ok(comp && hosts.some((h: any) => h.service === 'scheduler'));
    assert.deepEqual((await req('GET', `${V}/os-hosts?zone=xxx`)).json.hosts, []);
    assert.ok(
      (await req('GET', `${V}/os-hosts?zone=${comp.zone}`)).json.hosts.some((h: any) => h.host_name === comp.host_name),
    );
    const detail = (await req('GET', `${V}/os-hosts/${comp.host_name}`)).json.host;
    assert.equal(detail[0].resource.project, '(total)');
    assert.equal(detail[0].resource.host, comp.host_name);
    assert.equal((await req('GET', `${V}/os-hosts/nonexistent`)).status, 404);
    assert.equal((await req('PUT', `${V}/os-hosts/${comp.host_name}`, { status: 'invalid' })).status, 400);
    assert.equal((await req('PUT', `${V}/os-hosts/${comp.host_name}`, {})).status, 400);
    const dis = await req('PUT', `${V}/os-hosts/${comp.host_name}`, { status: 'disable' });
    assert.deepEqual(dis.json, { host: comp.host_name, status: 'disabled' });
    assert.deepEqual(
      (await req('PUT', `${V}/os-hosts/${comp.host_name}`, { status: 'enable' })).json.status,
      'enabled',
    );
    assert.equal((await req('GET', `${V}/os-hosts/nonexistent/reboot`)).status, 404);
    assert.equal(
      (await req('GET', `${V}/os-hosts`, undefined, { 'X-OpenStack-Nova-API-Version': '2.43' })).status,
      404,
    );
  });

  await t.test('instance usage audit log, diagnostics, external events, server password, extensions', async () => {
    const log = (await req('GET', `${V}/os-instance_usage_audit_log`)).json.instance_usage_audit_logs;
    assert.equal(log.num_hosts, log.num_hosts_not_run);
    assert.match(log.period_beginning, /^\d{4}-\d{2}-01 00:00:00$/);
    const at = await req('GET', `${V}/os-instance_usage_audit_log/${encodeURIComponent('2026-03-15 10:00:00')}`);
    assert.equal(at.json.instance_usage_audit_log.period_beginning, '2026-02-01 00:00:00');
    assert.equal((await req('GET', `${V}/os-instance_usage_audit_log/invalid_time`)).status, 400);

    const s = await boot('diag-vm');
    const old = (await req('GET', `${V}/servers/${s.id}/diagnostics`)).json;
    assert.ok('cpu0_time' in old && old.memory > 0, JSON.stringify(old));
    const d = (
      await req('GET', `${V}/servers/${s.id}/diagnostics`, undefined, { 'X-OpenStack-Nova-API-Version': '2.48' })
    ).json;
    assert.equal(d.state, 'running');
    assert.equal(d.num_nics, 1);
    assert.ok(d.memory_details.maximum > 0);
    // The fake driver's counters grow with every read: real numbers, not zeros.
    assert.ok(d.cpu_details[0].time > 0, JSON.stringify(d.cpu_details));
    assert.ok(d.nic_details[0].rx_octets > 0 && d.nic_details[0].tx_packets >= 0, JSON.stringify(d.nic_details));
    assert.ok(d.disk_details[0].read_bytes > 0, JSON.stringify(d.disk_details));
    assert.equal(d.num_disks, d.disk_details.length);
    const again = (
      await req('GET', `${V}/servers/${s.id}/diagnostics`, undefined, { 'X-OpenStack-Nova-API-Version': '2.48' })
    ).json;
    assert.ok(again.nic_details[0].rx_octets > d.nic_details[0].rx_octets, 'NIC counters grow');
    assert.ok(old.cpu0_time > 0 && old.vda_read > 0, JSON.stringify(old));

    const ev = await req('POST', `${V}/os-server-external-events`, {
      events: [{ name: 'network-changed', server_uuid: s.id }],
    });
    assert.equal(ev.status, 200, ev.text);
    assert.deepEqual(ev.json.events[0], { name: 'network-changed', server_uuid: s.id, status: 'completed', code: 200 });
    assert.equal(
      (await req('POST', `${V}/os-server-external-events`, { events: [{ name: 'bogus', server_uuid: s.id }] })).status,
      400,
    );
    assert.equal(
      (
        await req('POST', `${V}/os-server-external-events`, {
          events: [{ name: 'network-changed', server_uuid: '5b4a9a2e-3b6f-4b8e-9d7c-1a2b3c4d5e6f' }],
        })
      ).status,
      404,
    );

    assert.equal(await c.controller.deps.metadata.setPassword(s.id, 'c2VjcmV0'), 'stored');
    assert.deepEqual((await req('GET', `${V}/servers/${s.id}/os-server-password`)).json, { password: 'c2VjcmV0' });
    assert.equal((await req('DELETE', `${V}/servers/${s.id}/os-server-password`)).status, 204);
    assert.deepEqual((await req('GET', `${V}/servers/${s.id}/os-server-password`)).json, { password: '' });
    assert.equal(
      (await req('GET', `${V}/servers/5b4a9a2e-3b6f-4b8e-9d7c-1a2b3c4d5e6f/os-server-password`)).status,
      404,
    );

    const exts = (await req('GET', `${V}/extensions`)).json.extensions;
    assert.ok(exts.some((e: any) => e.name === 'Hosts' && e.alias === 'os-hosts'));
    assert.equal((await req('GET', `${V}/extensions/os-consoles`)).json.extension.alias, 'os-consoles');
    assert.equal((await req('GET', `${V}/extensions/os-nothing`)).status, 404);
  });
});
