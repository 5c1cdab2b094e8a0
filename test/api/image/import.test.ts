import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { requireCommands } from '../../helpers/requirements.js';
import { V2, OCTET, createImage, upload, memberOf } from './helpers.js';
import { qemuImg, makeLab, plantIsoDescriptor, makeVmdkWithPathExtent, type Lab } from '../../unit/disk/hostile.js';

let cloud: TestCloud;
let lab: Lab;
before(async () => {
  cloud = await createTestCloud();
  lab = makeLab();
});
after(async () => {
  await cloud.close();
  rmSync(lab.dir, { recursive: true, force: true });
});

const need = (t: TestContext) => requireCommands(t, ['qemu-img']);
const show = async (id: string) => (await cloud.request('GET', `${V2}/images/${id}`, { token: cloud.adminToken })).json;
const stage = (id: string, data: Buffer) =>
  cloud.request('PUT', `${V2}/images/${id}/stage`, { token: cloud.adminToken, payload: data, headers: OCTET });
const doImport = (id: string, body: unknown = { method: { name: 'glance-direct' } }) =>
  cloud.request('POST', `${V2}/images/${id}/import`, { token: cloud.adminToken, body });
const storeFiles = () =>
  readdirSync(join(cloud.config.dataDir, 'images')).filter((f) => !f.startsWith('.') && f !== 'staging');

/** A ustar archive of the given members (type '0' files unless told). */
function tar(entries: { name: string; data?: Buffer; type?: string; link?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write(e.type ?? '0', 156, 'latin1');
    if (e.link) h.write(e.link, 157, 100, 'utf8');
    h.write('ustar\0', 257, 'latin1');
    h.write('00', 263, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const OVF = (href: string) => `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:href="${href}" ovf:id="file1"/></References>
  <DiskSection><Info>disks</Info><Disk ovf:capacity="16777216" ovf:diskId="vmdisk1" ovf:fileRef="file1"/></DiskSection>
  <VirtualSystem ovf:id="vm">
    <OperatingSystemSection ovf:id="96"><Info>os</Info><Description>Debian GNU/Linux 12</Description></OperatingSystemSection>
    <VirtualHardwareSection>
      <Item><rasd:ElementName>2 CPUs</rasd:ElementName><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>`;

test('glance-direct: stage, import, task recorded, hashes computed', async () => {
  const img = (await createImage(cloud, cloud.adminToken, { name: 'gd' })).json;
  assert.equal((await doImport(img.id)).status, 409, 'nothing staged yet');
  const data = randomBytes(50_000);
  assert.equal((await stage(img.id, data)).status, 204);
  assert.equal((await show(img.id)).status, 'uploading');
  const imp = await doImport(img.id);
  assert.equal(imp.status, 202, imp.text);
  await cloud.controller.deps.image.idle();
  const s = await show(img.id);
  assert.equal(s.status, 'active');
  assert.equal(s.size, data.length);
  assert.equal(s.checksum, createHash('md5').update(data).digest('hex'));
  assert.equal(s.os_glance_importing_to_stores, '');
  assert.equal(s.os_glance_failed_import, '');
  const tasks = (await cloud.request('GET', `${V2}/images/${img.id}/tasks`, { token: cloud.adminToken })).json.tasks;
  assert.equal(tasks.length, 1);
  assert.equal(tasks[0].status, 'success');
  assert.equal(tasks[0].request_id, imp.headers['x-openstack-request-id']);
  assert.equal(tasks[0].input.import_req.method.name, 'glance-direct');
  assert.ok(!existsSync(join(cloud.config.dataDir, 'images', 'staging', img.id)));
  // bad import requests
  assert.equal((await doImport(img.id, { method: { name: 'web-download', uri: 'http://x/' } })).status, 400);
  assert.equal((await doImport(img.id, { method: {} })).status, 400);
  assert.equal((await doImport(img.id, { method: { name: 'glance-direct' }, stores: ['elsewhere'] })).status, 400);
  const copy = await doImport(img.id, { method: { name: 'copy-image' }, all_stores: true });
  assert.equal(copy.status, 202);
  const user = await memberOf(cloud, 'imp-user');
  const own = (await createImage(cloud, user.token, { name: 'u' })).json;
  assert.equal((await upload(cloud, user.token, own.id, Buffer.from('abc'))).status, 204);
  const denied = await cloud.request('POST', `${V2}/images/${own.id}/import`, {
    token: user.token,
    body: { method: { name: 'copy-image' } },
  });
  assert.equal(denied.status, 403, 'copy-image is admin-only');
});

test('a hostile staged file fails the import: image back to queued, staged data gone, failure recorded', async (t) => {
  if (!need(t)) return;
  const f = lab.file('import-backing.qcow2');
  qemuImg('create', '-f', 'qcow2', '-b', lab.canary, '-F', 'raw', f, '1M');
  const img = (await createImage(cloud, cloud.adminToken, { name: 'hostile-import', disk_format: 'qcow2' })).json;
  assert.equal((await stage(img.id, readFileSync(f))).status, 204);
  assert.equal((await doImport(img.id)).status, 202);
  await cloud.controller.deps.image.idle();
  const s = await show(img.id);
  assert.equal(s.status, 'queued');
  assert.equal(s.os_glance_failed_import, 'local');
  const task = (await cloud.request('GET', `${V2}/images/${img.id}/tasks`, { token: cloud.adminToken })).json.tasks[0];
  assert.equal(task.status, 'failure');
  assert.match(task.message, /backing file/);
  assert.ok(!existsSync(join(cloud.config.dataDir, 'images', 'staging', img.id)));
  assert.ok(!storeFiles().includes(img.id));
  assert.equal(lab.canaryWasRead(), false);
});

test('hostile uploads are refused with 400, stored nowhere, and no host file is read', async (t) => {
  if (!need(t)) return;
  const files: [string, string, RegExp][] = [];
  const back = lab.file('up-backing.qcow2');
  qemuImg('create', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw', back, '1M');
  files.push([back, 'qcow2', /backing file/]);
  const back2 = lab.file('up-backing-canary.qcow2');
  qemuImg('create', '-f', 'qcow2', '-b', lab.canary, '-F', 'raw', back2, '1M');
  files.push([back2, 'raw', /backing file/]);
  const df = lab.file('up-datafile.qcow2');
  qemuImg('create', '-f', 'qcow2', '-o', `data_file=${lab.canary},data_file_raw=on`, df, '1M');
  files.push([df, 'qcow2', /data file/]);
  const vmdk = lab.file('up-extent.vmdk');
  makeVmdkWithPathExtent(vmdk, lab.canary);
  files.push([vmdk, 'vmdk', /extent names a path/]);
  const poly = lab.file('up-poly.iso');
  qemuImg('create', '-f', 'qcow2', '-b', lab.canary, '-F', 'raw', poly, '1M');
  plantIsoDescriptor(poly);
  files.push([poly, 'iso', /more than one format/]);
  const plain = lab.file('up-plain.qcow2');
  qemuImg('create', '-f', 'qcow2', plain, '1M');
  files.push([plain, 'vmdk', /does not match/]);
  for (const [path, disk, why] of files) {
    const img = (await createImage(cloud, cloud.adminToken, { name: `hostile-${disk}`, disk_format: disk })).json;
    const r = await upload(cloud, cloud.adminToken, img.id, readFileSync(path));
    assert.equal(r.status, 400, `${path}: ${r.status} ${r.text}`);
    assert.match(r.text, why);
    const s = await show(img.id);
    assert.equal(s.status, 'queued');
    assert.equal(s.size, null);
    assert.ok(!storeFiles().includes(img.id));
  }
  assert.deepEqual(readdirSync(join(cloud.config.dataDir, 'images', '.tmp')), []);
  assert.equal(lab.canaryWasRead(), false, 'no host file was read');
  // A good qcow2 goes through, with its virtual size.
  const good = (await createImage(cloud, cloud.adminToken, { name: 'good-qcow2', disk_format: 'qcow2' })).json;
  assert.equal((await upload(cloud, cloud.adminToken, good.id, readFileSync(plain))).status, 204);
  assert.equal((await show(good.id)).virtual_size, 1 << 20);
});

test('OVA import: safe unpack, OVF read, VMDK inspected and converted to qcow2', async (t) => {
  if (!need(t)) return;
  const vmdk = lab.file('disk1.vmdk');
  qemuImg('create', '-f', 'vmdk', '-o', 'subformat=streamOptimized', vmdk, '16M');
  const ova = tar([
    { name: 'vm.ovf', data: Buffer.from(OVF('disk1.vmdk')) },
    { name: 'disk1.vmdk', data: readFileSync(vmdk) },
  ]);
  const img = (
    await createImage(cloud, cloud.adminToken, { name: 'from-ova', disk_format: 'vmdk', container_format: 'ova' })
  ).json;
  assert.equal((await stage(img.id, ova)).status, 204);
  assert.equal((await doImport(img.id)).status, 202);
  await cloud.controller.deps.image.idle();
  const s = await show(img.id);
  assert.equal(
    s.status,
    'active',
    JSON.stringify((await cloud.request('GET', `${V2}/images/${img.id}/tasks`, { token: cloud.adminToken })).json),
  );
  assert.equal(s.disk_format, 'qcow2');
  assert.equal(s.container_format, 'bare');
  assert.equal(s.virtual_size, 16 << 20);
  assert.equal(s.min_ram, 1024);
  assert.equal(s.ovf_vcpus, '2');
  assert.equal(s.ovf_os, 'Debian GNU/Linux 12');
  const head = readFileSync(join(cloud.config.dataDir, 'images', img.id)).subarray(0, 4);
  assert.equal(head.toString('latin1'), 'QFI\xfb');
});

test('hostile OVAs are refused: path traversal, links, a hostile VMDK inside', async (t) => {
  if (!need(t)) return;
  const ovf = Buffer.from(OVF('disk1.vmdk'));
  const bad = lab.file('bad-inside.vmdk');
  makeVmdkWithPathExtent(bad, lab.canary);
  const cases: [string, Buffer, RegExp][] = [
    [
      'traversal',
      tar([
        { name: 'vm.ovf', data: ovf },
        { name: '../../disk1.vmdk', data: Buffer.alloc(512) },
      ]),
      /unsafe path/,
    ],
    [
      'symlink',
      tar([
        { name: 'vm.ovf', data: ovf },
        { name: 'disk1.vmdk', type: '2', link: '/etc/passwd' },
      ]),
      /link or special file/,
    ],
    ['no ovf', tar([{ name: 'disk1.vmdk', data: Buffer.alloc(512) }]), /no \.ovf/],
    [
      'entities',
      tar([{ name: 'vm.ovf', data: Buffer.from('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Envelope/>') }]),
      /DTD/,
    ],
    [
      'hostile vmdk',
      tar([
        { name: 'vm.ovf', data: ovf },
        { name: 'disk1.vmdk', data: readFileSync(bad) },
      ]),
      /extent names a path/,
    ],
    ['not a tar', randomBytes(4096), /tar|truncated/],
  ];
  for (const [label, data, why] of cases) {
    const img = (
      await createImage(cloud, cloud.adminToken, { name: `ova-${label}`, disk_format: 'vmdk', container_format: 'ova' })
    ).json;
    assert.equal((await stage(img.id, data)).status, 204);
    assert.equal((await doImport(img.id)).status, 202);
    await cloud.controller.deps.image.idle();
    const s = await show(img.id);
    assert.equal(s.status, 'queued', label);
    const task = (await cloud.request('GET', `${V2}/images/${img.id}/tasks`, { token: cloud.adminToken })).json
      .tasks[0];
    assert.equal(task.status, 'failure', label);
    assert.match(task.message, why, label);
  }
  assert.equal(lab.canaryWasRead(), false);
  assert.deepEqual(readdirSync(join(cloud.config.dataDir, 'images', '.tmp')), []);
});

test('conversion on import (configured target) always passes -f and updates disk_format', async (t) => {
  if (!need(t)) return;
  const conv = await createTestCloud({});
  t.after(() => conv.close());
  Object.assign(conv.controller.deps.image.options, { convertTo: 'raw' });
  const q = lab.file('to-convert.qcow2');
  qemuImg('create', '-f', 'qcow2', q, '2M');
  const img = (
    await conv.request('POST', `${V2}/images`, {
      token: conv.adminToken,
      body: { name: 'c', disk_format: 'qcow2', container_format: 'bare' },
    })
  ).json;
  assert.equal(
    (
      await conv.request('PUT', `${V2}/images/${img.id}/stage`, {
        token: conv.adminToken,
        payload: readFileSync(q),
        headers: OCTET,
      })
    ).status,
    204,
  );
  assert.equal(
    (
      await conv.request('POST', `${V2}/images/${img.id}/import`, {
        token: conv.adminToken,
        body: { method: { name: 'glance-direct' } },
      })
    ).status,
    202,
  );
  await conv.controller.deps.image.idle();
  const s = (await conv.request('GET', `${V2}/images/${img.id}`, { token: conv.adminToken })).json;
  assert.equal(s.status, 'active');
  assert.equal(s.disk_format, 'raw');
  assert.equal(s.size, 2 << 20);
  assert.equal(s.virtual_size, 2 << 20);
});

test('quotas from Keystone unified limits: image count and total size (413)', async () => {
  const user = await memberOf(cloud, 'quota-user');
  const t = cloud.adminToken;
  const svc = (await cloud.request('GET', '/identity/v3/services?type=image', { token: t })).json.services[0];
  const reg = await cloud.request('POST', '/identity/v3/registered_limits', {
    token: t,
    body: {
      registered_limits: [
        { service_id: svc.id, resource_name: 'image_count_total', default_limit: 2 },
        { service_id: svc.id, resource_name: 'image_size_total', default_limit: 1 },
      ],
    },
  });
  assert.equal(reg.status, 201, `registered limits: ${reg.text}`);
  const a = (await createImage(cloud, user.token, { name: 'q1' })).json;
  assert.equal((await createImage(cloud, user.token, { name: 'q2' })).status, 201);
  const third = await createImage(cloud, user.token, { name: 'q3' });
  assert.equal(third.status, 413, third.text);
  const big = await upload(cloud, user.token, a.id, Buffer.alloc(2 * 1024 * 1024));
  assert.equal(big.status, 413, big.text);
  assert.equal((await cloud.request('GET', `${V2}/images/${a.id}`, { token: user.token })).json.status, 'queued');
  assert.equal((await upload(cloud, user.token, a.id, Buffer.alloc(1000))).status, 204);
  const usage = (await cloud.request('GET', `${V2}/info/usage`, { token: user.token })).json.usage;
  assert.deepEqual(usage.image_count_total, { limit: 2, usage: 2 });
  assert.equal(usage.image_size_total.limit, 1);
  // Tidy: remove the registered limits so other tests are unaffected.
  const regs = (await cloud.request('GET', `/identity/v3/registered_limits?service_id=${svc.id}`, { token: t })).json
    .registered_limits;
  for (const r of regs) await cloud.request('DELETE', `/identity/v3/registered_limits/${r.id}`, { token: t });
});
