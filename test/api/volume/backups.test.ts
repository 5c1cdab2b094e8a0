// Volume backups into the backup store: full and incremental, the volume's status while backing up, restore to a
// new and to an existing volume (the data comes back), delete refused under a dependent incremental, export and
// import of a record, and Cinder's 400s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { requireOrSkip } from '../../helpers/requirements.js';
import { hasQemuImg, projectOf, waitStatus } from './helpers.js';

let c: TestCloud;
let V: string;
before(async () => {
  c = await createTestCloud();
  V = `/volume/v3/${await projectOf(c, c.adminToken)}`;
});
after(async () => {
  await c.controller.deps.volume.idle();
  await c.close();
});

const req = (method: string, path: string, body?: unknown, version = '3.64') =>
  c.request(method, `${V}${path}`, {
    token: c.adminToken,
    ...(body !== undefined ? { body } : {}),
    headers: { 'openstack-api-version': `volume ${version}` },
  });
const file = (vid: string) => join(c.config.dataDir, 'volumes', `volume-${vid}`);

/** Fills 64 KiB at `offset` of a volume with the first byte of `text`, through qemu-io (qcow2 or raw). */
function write(vid: string, offset: number, text: string): void {
  const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', file(vid)], { encoding: 'utf8' })) as {
    format: string;
  };
  execFileSync(
    'qemu-io',
    ['-f', info.format, '-c', `write -P 0x${Buffer.from(text)[0]!.toString(16)} ${offset} 65536`, file(vid)],
    { stdio: 'ignore' },
  );
}

/** The byte at `offset` of a volume, read through qemu-img (so qcow2 and raw both work). */
function byteAt(vid: string, offset: number): number {
  const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', file(vid)], { encoding: 'utf8' })) as {
    format: string;
  };
  const out = execFileSync('qemu-io', ['-f', info.format, '-c', `read -v ${offset} 16`, file(vid)], {
    encoding: 'utf8',
  });
  const m = /^[0-9a-f]+:\s+([0-9a-f]{2})/m.exec(out);
  return m ? Number.parseInt(m[1]!, 16) : -1;
}

async function volume(): Promise<string> {
  const r = await req('POST', '/volumes', { volume: { size: 1 } });
  assert.equal(r.status, 202, r.text);
  await waitStatus(c, c.adminToken, `${V}/volumes/${r.json.volume.id}`, 'volume', 'available');
  return r.json.volume.id as string;
}

async function backup(body: Record<string, unknown>): Promise<any> {
  const r = await req('POST', '/backups', { backup: body });
  assert.equal(r.status, 202, r.text);
  return waitStatus(c, c.adminToken, `${V}/backups/${r.json.backup.id}`, 'backup', 'available');
}

test('full and incremental backups restore what was written; delete order; export/import', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const vid = await volume();
  assert.equal((await req('PUT', `/volumes/${vid}/metadata`, { metadata: { kept: 'yes' } })).status, 200);
  write(vid, 0, 'A');
  const full = await backup({ volume_id: vid, name: 'full' });
  assert.equal(full.is_incremental, false);
  assert.equal(full.size, 1);
  assert.equal((await req('GET', `/volumes/${vid}`)).json.volume.status, 'available');
  write(vid, 1024 * 1024, 'B');
  const inc = await backup({ volume_id: vid, name: 'inc', incremental: true });
  assert.equal(inc.is_incremental, true);
  const shownFull = (await req('GET', `/backups/${full.id}`)).json.backup;
  assert.equal(shownFull.has_dependent_backups, true);

  // Restore the full one into a new volume: A but not B.
  const r1 = await req('POST', `/backups/${full.id}/restore`, { restore: { name: 'from-full' } });
  assert.equal(r1.status, 202, r1.text);
  assert.equal(r1.json.restore.backup_id, full.id);
  const v1 = await waitStatus(c, c.adminToken, `${V}/volumes/${r1.json.restore.volume_id}`, 'volume', 'available');
  assert.equal(v1.name, 'from-full');
  assert.deepEqual(v1.metadata, { kept: 'yes' });
  assert.equal(byteAt(v1.id, 0), 0x41);
  assert.equal(byteAt(v1.id, 1024 * 1024), 0);
  // Restore the incremental one into an existing volume: both.
  const target = await volume();
  const r2 = await req('POST', `/backups/${inc.id}/restore`, { restore: { volume_id: target } });
  assert.equal(r2.status, 202, r2.text);
  await waitStatus(c, c.adminToken, `${V}/volumes/${target}`, 'volume', 'available');
  assert.equal(byteAt(target, 0), 0x41);
  assert.equal(byteAt(target, 1024 * 1024), 0x42);

  // The full backup has a dependent: refused; the incremental goes first.
  const refused = await req('DELETE', `/backups/${full.id}`);
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.json.badRequest.message, /Incremental backups exist/);

  // Export: importing a record that still exists is refused, as is one that does not parse.
  const exp = await req('GET', `/backups/${inc.id}/export_record`);
  assert.equal(exp.status, 200, exp.text);
  const record = exp.json['backup-record'];
  assert.equal((await req('POST', '/backups/import_record', { 'backup-record': record })).status, 400);
  assert.equal(
    (
      await req('POST', '/backups/import_record', {
        'backup-record': { backup_service: record.backup_service, backup_url: 'bm90IGpzb24=' },
      })
    ).status,
    400,
  );

  assert.ok(record.backup_service.startsWith('cinder.backup.drivers'), record.backup_service);
  // Imported under a new id (Tempest does this): the new record shares the data and restores on its own.
  const decoded = JSON.parse(Buffer.from(record.backup_url, 'base64').toString('utf8'));
  const newId = '6b1f1d2e-9c3a-4e5b-8a7c-0d1e2f3a4b5c';
  const renamed = Buffer.from(JSON.stringify({ ...decoded, id: newId })).toString('base64');
  const imp = await req('POST', '/backups/import_record', {
    'backup-record': { backup_service: record.backup_service, backup_url: renamed },
  });
  assert.equal(imp.status, 201, imp.text);
  assert.equal(imp.json.backup.id, newId);
  await waitStatus(c, c.adminToken, `${V}/backups/${newId}`, 'backup', 'available');
  const traversal = Buffer.from(JSON.stringify({ ...decoded, id: '../../etc' })).toString('base64');
  const refusedPath = await req('POST', '/backups/import_record', {
    'backup-record': { backup_service: record.backup_service, backup_url: traversal },
  });
  assert.equal(refusedPath.status, 400, refusedPath.text);
  assert.equal((await req('DELETE', `/backups/${newId}`)).status, 202);
  await waitStatus(c, c.adminToken, `${V}/backups/${newId}`, 'backup', 'DELETED');

  assert.equal((await req('DELETE', `/backups/${inc.id}`)).status, 202);
  await waitStatus(c, c.adminToken, `${V}/backups/${inc.id}`, 'backup', 'DELETED');
  assert.equal((await req('DELETE', `/backups/${full.id}`)).status, 202);
  await waitStatus(c, c.adminToken, `${V}/backups/${full.id}`, 'backup', 'DELETED');
  for (const id of [vid, v1.id, target]) assert.equal((await req('DELETE', `/volumes/${id}`)).status, 202);
});

test(
  'backup errors: incremental without a full one, in-use without force, a missing volume, restore too ' + 'small',
  async (t) => {
    if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
    const vid = await volume();
    const inc = await req('POST', '/backups', { backup: { volume_id: vid, incremental: true } });
    assert.equal(inc.status, 400, inc.text);
    assert.match(inc.json.badRequest.message, /No backups available/);
    assert.equal(
      (await req('POST', '/backups', { backup: { volume_id: '00000000-0000-0000-0000-000000000000' } })).status,
      404,
    );
    assert.equal((await req('POST', '/backups', { backup: { name: 'x' } })).status, 400);
    const big = await req('POST', '/volumes', { volume: { size: 2 } });
    await waitStatus(c, c.adminToken, `${V}/volumes/${big.json.volume.id}`, 'volume', 'available');
    const b = await backup({ volume_id: big.json.volume.id });
    const small = await req('POST', `/backups/${b.id}/restore`, { restore: { volume_id: vid } });
    assert.equal(small.status, 400, small.text);
    const list = await req('GET', '/backups/detail');
    assert.ok(
      list.json.backups.some(
        (x: any) => x.id === b.id && x.volume_id === big.json.volume.id && x.status === 'available',
      ),
    );
    assert.equal((await req('DELETE', `/backups/${b.id}`)).status, 202);
    await waitStatus(c, c.adminToken, `${V}/backups/${b.id}`, 'backup', 'DELETED');
  },
);
