// Restart recovery: rows left in a transient status by a crash move to the status that says so, per the two tables
// in src/services/volume/recovery.ts (volumes and snapshots; backups).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud } from '../../helpers/cloud.js';
import { requireOrSkip } from '../../helpers/requirements.js';
import { applyRecovery, BACKUP_RECOVERY, VOLUME_RECOVERY } from '../../../src/services/volume/recovery.js';
import { hasQemuImg, projectOf, waitStatus } from './helpers.js';

test('restart recovery moves every transient volume status to its error (or settled) status', async (t) => {
  if (!requireOrSkip(t, hasQemuImg(), 'needs qemu-img (qemu-utils)')) return;
  const c = await createTestCloud();
  try {
    const V = `/volume/v3/${await projectOf(c, c.adminToken)}`;
    const db = c.controller.store.db;
    const made: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await c.request('POST', `${V}/volumes`, { token: c.adminToken, body: { volume: { size: 1 } } });
      assert.equal(r.status, 202, r.text);
      await waitStatus(c, c.adminToken, `${V}/volumes/${r.json.volume.id}`, 'volume', 'available');
      made.push(r.json.volume.id);
    }
    const crashed = ['creating', 'downloading', 'deleting', 'extending', 'restoring-backup', 'available'];
    for (const [i, status] of crashed.entries())
      await db.updateTable('volume_volumes').set({ status }).where('id', '=', made[i]!).execute();
    const stamp = '2026-01-01T00:00:00.000Z';
    await applyRecovery(db, VOLUME_RECOVERY, stamp);
    await applyRecovery(db, BACKUP_RECOVERY, stamp);
    const after = await db.selectFrom('volume_volumes').select(['id', 'status', 'updated_at']).execute();
    const statusOf = (id: string) => after.find((r) => r.id === id)?.status;
    assert.deepEqual(made.map(statusOf), [
      'error',
      'error',
      'error_deleting',
      'error_extending',
      'error_restoring',
      'available',
    ]);
    assert.equal(after.find((r) => r.id === made[0])?.updated_at, stamp);
    assert.notEqual(after.find((r) => r.id === made[5])?.updated_at, stamp, 'a settled volume is left alone');
  } finally {
    await c.controller.deps.volume.idle();
    await c.close();
  }
});
