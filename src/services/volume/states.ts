// Cinder's volume status machine in one table: which operation may start from which status. Cinder answers a
// refused transition with 400 InvalidVolume (not 409), and so do we.
import { badRequest } from '../../errors.js';

/** Every status a volume can have (Cinder's). */
export const VOLUME_STATUSES = [
  'creating',
  'available',
  'reserved',
  'attaching',
  'in-use',
  'detaching',
  'maintenance',
  'deleting',
  'error',
  'error_deleting',
  'error_managing',
  'error_restoring',
  'error_extending',
  'extending',
  'backing-up',
  'restoring-backup',
  'downloading',
  'uploading',
  'retyping',
  'awaiting-transfer',
] as const;

export const SNAPSHOT_STATUSES = [
  'creating',
  'available',
  'deleting',
  'error',
  'error_deleting',
  'restoring',
  'backing-up',
  'unmanaging',
] as const;

/** Operation → statuses it may start from. */
export const ALLOWED_FROM: Record<string, readonly string[]> = {
  delete: ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'],
  extend: ['available'],
  extendAttached: ['in-use'],
  snapshot: ['available'],
  snapshotForce: ['available', 'in-use'],
  clone: ['available', 'in-use'],
  reserve: ['available'],
  attach: ['available', 'reserved', 'attaching'],
  attachMulti: ['available', 'reserved', 'attaching', 'in-use'],
  detach: ['in-use', 'detaching', 'attaching'],
  setBootable: VOLUME_STATUSES,
  update: VOLUME_STATUSES,
  readonly: ['available'],
  uploadImage: ['available'],
  uploadImageForce: ['available', 'in-use'],
  retype: ['available', 'in-use'],
  transfer: ['available'],
};

/** Throws Cinder's InvalidVolume unless `op` may start from `status`. */
export function assertVolumeStatus(op: string, status: string, message?: string): void {
  const ok = ALLOWED_FROM[op];
  if (!ok?.includes(status)) {
    throw badRequest(
      message ?? `Invalid volume: Volume status must be ${(ok ?? []).join(' or ')}, but it is ${status}.`,
    );
  }
}
