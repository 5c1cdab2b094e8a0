// hw_disk_bus=scsi on real QEMU (TCG): the guest boots from a disk on a virtio-scsi controller, and a volume attached
// to a guest with no operating system detaches at once (a SCSI unplug needs no guest; a virtio-blk one waits for
// the guest's ACPI answer forever). This is what Tempest's AttachSCSIVolumeTestJSON and the detach tests need.
// The volume's type carries front-end QoS specs, so the hot-plugged disk is throttled by QEMU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { QemuDriver } from '../../src/virt/qemu/index.js';
import { bootSectorImage } from '../compat/tempest-compute.js';
import { V, consoleOf, qemuCloud, waitStatus } from './qemu-fixture.js';
import type { TestCloud } from '../helpers/cloud.js';

const OLD = { 'x-openstack-nova-api-version': '2.35' };

async function volumeStatus(c: TestCloud, id: string, status: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await c.request('GET', `${V}/os-volumes/${id}`, { token: c.adminToken, headers: OLD });
    last = r.json?.volume?.status ?? String(r.status);
    if (last === status) return;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  throw new Error(`volume ${id} did not become ${status}; last ${last}`);
}

test('hw_disk_bus=scsi: boots from a SCSI disk; a volume attaches and detaches without the guest', {
  timeout: 600_000,
}, async (t) => {
  const env = await qemuCloud(t);
  if (!env) return;
  const { c } = env;
  const driver = c.controller.deps.compute.driver as QemuDriver;
  const made = await c.request('POST', '/image/v2/images', {
    token: c.adminToken,
    body: {
      name: 'scsi-boot-sector',
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'public',
      hw_disk_bus: 'scsi',
      os_shutdown_timeout: '0',
    },
  });
  assert.equal(made.status, 201, made.text);
  const up = await c.request('PUT', `/image/v2/images/${made.json.id}/file`, {
    token: c.adminToken,
    payload: Buffer.from(bootSectorImage()),
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(up.status, 204, up.text);

  const create = await c.request('POST', `${V}/servers`, {
    token: c.adminToken,
    body: { server: { name: 'scsi', imageRef: made.json.id, flavorRef: '42', networks: 'none' } },
    headers: { 'OpenStack-API-Version': 'compute 2.37' },
  });
  assert.equal(create.status, 202, create.text);
  const id = create.json.server.id as string;
  await waitStatus(c, id, 'ACTIVE');
  const pid = Number(readFileSync(driver.files.paths(id).pid, 'utf8'));
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline.includes('virtio-scsi-pci,id=scsi0'), cmdline.join(' '));
  assert.ok(
    cmdline.some((a) => a.startsWith('scsi-hd,bus=scsi0.0,drive=disk0,') && a.includes('bootindex=1')),
    cmdline.join(' '),
  );
  // SeaBIOS booted the boot sector from the SCSI disk: it printed to the serial port.
  const deadline = Date.now() + 120_000;
  let out = '';
  while (!out.includes('gureum tempest image') && Date.now() < deadline) {
    out = await consoleOf(c, id);
    await new Promise((ok) => setTimeout(ok, 500));
  }
  assert.match(out, /gureum tempest image/);

  // The volume's type has front-end QoS specs: QEMU throttles the hot-plugged disk (query-block shows the limits).
  const project = (await c.request('GET', `${V}/servers/${id}`, { token: c.adminToken })).json.server.tenant_id;
  const C = `/volume/v3/${project}`;
  const qos = await c.request('POST', `${C}/qos-specs`, {
    token: c.adminToken,
    body: { qos_specs: { name: 'e2e-qos', consumer: 'front-end', read_iops_sec: '300', total_bytes_sec: '1048576' } },
  });
  assert.equal(qos.status, 200, qos.text);
  const type = await c.request('POST', `${C}/types`, {
    token: c.adminToken,
    body: { volume_type: { name: 'e2e-qos' } },
  });
  assert.equal(type.status, 200, type.text);
  const assoc = `${C}/qos-specs/${qos.json.qos_specs.id}/associate?vol_type_id=${type.json.volume_type.id}`;
  assert.equal((await c.request('GET', assoc, { token: c.adminToken })).status, 202);
  const vol = await c.request('POST', `${V}/os-volumes`, {
    token: c.adminToken,
    headers: OLD,
    body: { volume: { size: 1, volume_type: 'e2e-qos' } },
  });
  assert.equal(vol.status, 200, vol.text);
  const vid = vol.json.volume.id as string;
  await volumeStatus(c, vid, 'available');
  const att = await c.request('POST', `${V}/servers/${id}/os-volume_attachments`, {
    token: c.adminToken,
    body: { volumeAttachment: { volumeId: vid } },
  });
  assert.equal(att.status, 200, att.text);
  await volumeStatus(c, vid, 'in-use');
  const m = await driver.monitor(id);
  assert.ok(m, 'the guest has a QMP monitor');
  const blocks = await m.run<{ qdev?: string; inserted?: Record<string, unknown> }[]>('query-block');
  const plugged = blocks.find((b) => b.qdev?.includes(vid.replaceAll('-', '').slice(0, 16)));
  assert.ok(plugged?.inserted, JSON.stringify(blocks));
  assert.equal(plugged.inserted.iops_rd, 300, JSON.stringify(plugged.inserted));
  assert.equal(plugged.inserted.bps, 1048576);
  assert.equal(plugged.inserted.iops_wr, 0);
  const det = await c.request('DELETE', `${V}/servers/${id}/os-volume_attachments/${vid}`, { token: c.adminToken });
  assert.equal(det.status, 202, det.text);
  await volumeStatus(c, vid, 'available');
  const list = await c.request('GET', `${V}/servers/${id}/os-volume_attachments`, { token: c.adminToken });
  assert.deepEqual(list.json.volumeAttachments, []);

  assert.equal((await c.request('DELETE', `${V}/servers/${id}`, { token: c.adminToken })).status, 204);
  await waitStatus(c, id, 'DELETED');
  assert.equal(
    (await c.request('DELETE', `${V}/os-volumes/${vid}`, { token: c.adminToken, headers: OLD })).status,
    202,
  );
  await c.controller.deps.volume.idle();
});
