// After a crash or restart, work that was under way is gone: every row still in a transient status moves to the
// status that says so. One table of those transitions per owner (volumes and snapshots; backups), applied in order.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';

/** Rows of `table` in one of `from` move to `to` (with `failReason` on backups). */
export interface RecoveryTransition {
  table: 'volume_volumes' | 'volume_snapshots' | 'volume_backups';
  from: string[];
  to: string;
  failReason?: string;
}

/** Volumes and snapshots: nothing is left half-made, so creating and downloading are errors. */
export const VOLUME_RECOVERY: readonly RecoveryTransition[] = [
  { table: 'volume_volumes', from: ['creating', 'downloading'], to: 'error' },
  { table: 'volume_volumes', from: ['deleting'], to: 'error_deleting' },
  { table: 'volume_volumes', from: ['extending'], to: 'error_extending' },
  { table: 'volume_snapshots', from: ['creating'], to: 'error' },
  { table: 'volume_snapshots', from: ['deleting'], to: 'error_deleting' },
];

/** Backups: one left creating is an error, one left restoring is available again (its target volume is the error). */
export const BACKUP_RECOVERY: readonly RecoveryTransition[] = [
  { table: 'volume_volumes', from: ['restoring-backup'], to: 'error_restoring' },
  { table: 'volume_backups', from: ['creating'], to: 'error', failReason: 'Interrupted by a restart.' },
  { table: 'volume_backups', from: ['restoring'], to: 'available' },
  { table: 'volume_backups', from: ['deleting'], to: 'error_deleting' },
];

/** Applies `transitions` in order, stamping `updatedAt`. */
export async function applyRecovery(
  db: Kysely<Database>,
  transitions: readonly RecoveryTransition[],
  updatedAt: string,
): Promise<void> {
  for (const { table, from, to, failReason } of transitions) {
    const set = failReason === undefined ? { status: to } : { status: to, fail_reason: failReason };
    await db
      .updateTable(table)
      .set({ ...set, updated_at: updatedAt })
      .where('status', 'in', from)
      .execute();
  }
}
