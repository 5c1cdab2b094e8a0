// Actions that make an image of the server or park it: createImage/createBackup (a snapshot image, or for a
// volume-backed server volume snapshots named by an empty image), shelve (a snapshot, then the host stops the
// guest) and unshelve (a new claim when the server was offloaded).
import { Readable } from 'node:stream';
import { conflict } from '../../../errors.js';
import { isVolumeBacked, snapshotVolumeBacked } from '../block-devices.js';
import type { AuthContext } from '../common.js';
import { extras } from '../model.js';
import { checkState } from '../states.js';
import { type ActionEnv, claimForMove, queueAction } from './env.js';

/** The base image's properties a snapshot carries on (kernel_id, ramdisk_id, os_command_line, hw_*), or the
 * guest cannot boot from it; the image_min_* and image_name bookkeeping stays behind. */
function inheritedImageProps(systemMetadata: Record<string, string>): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(systemMetadata))
    if (k.startsWith('image_') && !['image_min_disk', 'image_min_ram', 'image_name'].includes(k)) props[k.slice(6)] = v;
  return props;
}

/**
 * createImage / createBackup: a snapshot image now (queued), its data from the host's task; returns the image id. A
 * backup carries its backup_type, and once uploaded only the `rotation` newest backups of that type for the server
 * are kept (Nova's rotation).
 */
export async function createImage(
  env: ActionEnv,
  ctx: AuthContext,
  rid: string,
  id: string,
  name: string,
  metadata: Record<string, string>,
  action: 'createImage' | 'createBackup' = 'createImage',
  backup?: { type: string; rotation: number },
): Promise<string> {
  const { x } = env;
  const inst = await x.servers.get(ctx, id);
  x.servers.checkLocked(ctx, inst);
  checkState(action, inst);
  const port = x.image();
  if (!port) throw conflict('The image service is not available.');
  const sm = extras(inst).systemMetadata;
  const props = inheritedImageProps(sm);
  // As Nova: the caller's metadata may override image_type and friends; a backup's backup_type always wins.
  Object.assign(
    props,
    {
      instance_uuid: inst.id,
      image_type: action === 'createBackup' ? 'backup' : 'snapshot',
      base_image_ref: inst.image_ref,
      user_id: ctx.userId,
    },
    metadata,
  );
  if (action === 'createBackup' && backup) props.backup_type = backup.type;
  const volumePort = x.volume?.();
  if (volumePort && isVolumeBacked(extras(inst).blockDevices) && action === 'createImage') {
    // Volume-backed: volume snapshots and a zero-size image naming them, made now (Nova does it in the API too).
    Object.assign(props, await snapshotVolumeBacked(volumePort, ctx, inst, extras(inst).blockDevices, name));
    const img = await port.createSnapshot(ctx, {
      name,
      minDisk: 0,
      minRam: Number(sm.image_min_ram ?? 0),
      properties: props,
    });
    await port.uploadSnapshot(img.id, 'raw', Readable.from([]), 0).catch(async (e: unknown) => {
      // Removing the half-made image is best effort: the upload's own error is the one the caller gets.
      await port.deleteImage(img.id).catch(() => {});
      throw e;
    });
    return img.id;
  }
  const img = await port.createSnapshot(ctx, {
    name,
    minDisk: Math.max(Number(sm.image_min_disk ?? 0), inst.root_gb),
    minRam: Number(sm.image_min_ram ?? 0),
    properties: props,
  });
  try {
    const payload: Record<string, unknown> = { imageId: img.id };
    if (action === 'createBackup' && backup)
      Object.assign(payload, { backupType: backup.type, rotation: backup.rotation });
    await queueAction(env, ctx, rid, id, {
      action,
      name: action,
      event: action === 'createBackup' ? 'compute_backup_instance' : 'compute_snapshot_instance',
      kind: 'snapshot',
      payload,
    });
  } catch (e) {
    // The snapshot was not queued: its empty image goes again; a failure there must not hide `e`.
    await port.deleteImage(img.id).catch(() => {});
    throw e;
  }
  return img.id;
}

export async function shelve(env: ActionEnv, ctx: AuthContext, rid: string, id: string): Promise<void> {
  const { x } = env;
  const inst = await x.servers.get(ctx, id);
  x.servers.checkLocked(ctx, inst);
  checkState('shelve', inst);
  const port = x.image();
  let imageId: string | null = null;
  // A volume-backed server keeps its root on the volume: shelving it makes no image (as Nova).
  if (port && !isVolumeBacked(extras(inst).blockDevices)) {
    const img = await port.createSnapshot(ctx, {
      name: `${inst.name}-shelved`,
      minDisk: inst.root_gb,
      minRam: 0,
      properties: {
        ...inheritedImageProps(extras(inst).systemMetadata),
        instance_uuid: inst.id,
        image_type: 'snapshot',
        base_image_ref: inst.image_ref,
      },
    });
    imageId = img.id;
  }
  try {
    await queueAction(env, ctx, rid, id, {
      action: 'shelve',
      name: 'shelve',
      event: 'compute_shelve_instance',
      kind: 'shelve',
      payload: { imageId },
    });
  } catch (e) {
    // The shelve was not queued: its image goes again; a failure there must not hide `e`.
    if (imageId) await port!.deleteImage(imageId).catch(() => {});
    throw e;
  }
}

/** Unshelve: the scheduler claims a host again (optionally in another AZ). */
export function unshelve(env: ActionEnv, ctx: AuthContext, rid: string, id: string, az: string | null) {
  return queueAction(
    env,
    ctx,
    rid,
    id,
    { action: 'unshelve', name: 'unshelve', event: 'compute_unshelve_instance', kind: 'unshelve' },
    async (trx, inst) => {
      if (inst.vm_state === 'shelved' && inst.host) return {};
      const node = await claimForMove(env, trx, {
        vcpus: inst.vcpus,
        memoryMb: inst.memory_mb,
        diskGb: inst.root_gb,
        az: az ?? inst.requested_az,
        forceHost: null,
        ignoreHosts: [],
      });
      return {
        host: node.host,
        node: node.hypervisor_hostname,
        availability_zone: az ?? (await env.x.hosts.zoneOf(node.host, trx)),
      };
    },
  );
}
