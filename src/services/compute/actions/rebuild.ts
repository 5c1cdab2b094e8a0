// Actions that boot the server from an image again: rebuild (optionally a new image, name, metadata, key, user
// data, description) and rescue/unrescue (a rescue image, the old state remembered for unrescue).
import { badRequest } from '../../../errors.js';
import type { InstanceRow } from '../../../store/compute-tables.js';
import { isVolumeBacked } from '../block-devices.js';
import type { AuthContext } from '../common.js';
import { type DiskConfig, withDiskConfig } from '../disk-config.js';
import { extras } from '../model.js';
import { checkUserData, findImage } from '../server-checks.js';
import { type ActionEnv, queueAction } from './env.js';

/** A rebuild request as the API parsed it. */
export interface RebuildSpec {
  imageRef: string;
  name?: string;
  metadata?: Record<string, string>;
  keyName?: string | null;
  userData?: string | null;
  description?: string | null;
  hostname?: string;
  accessIPv4?: string | null;
  accessIPv6?: string | null;
  diskConfig?: DiskConfig;
}

export function rescue(env: ActionEnv, ctx: AuthContext, rid: string, id: string, rescueImage: string | null) {
  return queueAction(
    env,
    ctx,
    rid,
    id,
    { action: 'rescue', name: 'rescue', event: 'compute_rescue_instance', kind: 'rescue', payload: { rescueImage } },
    async (_trx, inst) => {
      if (rescueImage) await findImage(env.x.image(), ctx, rescueImage);
      return { system_metadata: JSON.stringify({ ...extras(inst).systemMetadata, old_vm_state: inst.vm_state }) };
    },
  );
}

export function unrescue(env: ActionEnv, ctx: AuthContext, rid: string, id: string) {
  return queueAction(env, ctx, rid, id, {
    action: 'unrescue',
    name: 'unrescue',
    event: 'compute_unrescue_instance',
    kind: 'unrescue',
  });
}

export async function rebuild(
  env: ActionEnv,
  ctx: AuthContext,
  rid: string,
  id: string,
  spec: RebuildSpec,
): Promise<InstanceRow> {
  const { x } = env;
  const inst0 = await x.servers.get(ctx, id);
  const image = await findImage(x.image(), ctx, spec.imageRef);
  const volumeBacked = isVolumeBacked(extras(inst0).blockDevices);
  if (volumeBacked) {
    // Re-imaging the root volume (2.93) is not offered: the same image only rebuilds around the volume, as Nova
    // before 2.93.
    const current = inst0.image_ref || extras(inst0).systemMetadata.image_image_id || '';
    if (image.id !== current) throw badRequest('Unable to rebuild with a different image for a volume-backed server.');
  } else x.servers.checkFit(image, extras(inst0).flavor);
  const set: Partial<InstanceRow> = volumeBacked ? {} : { image_ref: image.id };
  if (spec.name !== undefined) set.name = spec.name;
  if (spec.metadata !== undefined) {
    await x.servers.checkMetadata(inst0.project_id, spec.metadata);
    set.metadata = JSON.stringify(spec.metadata);
  }
  if (spec.keyName !== undefined) {
    if (spec.keyName === null) {
      set.key_name = null;
      set.key_data = null;
    } else {
      // An unknown key pair is Nova's 400 below, not the key pair service's 404.
      const kp = await x.keypairs.get(ctx.userId, spec.keyName).catch(() => null);
      if (!kp) throw badRequest('Invalid key_name provided.', { code: 'KeypairNotFound' });
      set.key_name = kp.name;
      set.key_data = kp.publicKey;
    }
  }
  if (spec.userData !== undefined) {
    if (spec.userData !== null) checkUserData(spec.userData);
    set.user_data = spec.userData;
  }
  if (spec.description !== undefined) set.description = spec.description;
  if (spec.hostname !== undefined) set.hostname = spec.hostname;
  if (spec.accessIPv4 !== undefined) set.access_ip_v4 = spec.accessIPv4;
  if (spec.accessIPv6 !== undefined) set.access_ip_v6 = spec.accessIPv6;
  set.system_metadata = JSON.stringify(
    withDiskConfig(
      {
        ...extras(inst0).systemMetadata,
        image_min_disk: String(image.minDisk),
        image_min_ram: String(image.minRam),
        image_name: image.name,
      },
      spec.diskConfig,
    ),
  );
  return queueAction(env, ctx, rid, id, {
    action: 'rebuild',
    name: 'rebuild',
    event: 'compute_rebuild_instance',
    kind: 'rebuild',
    set,
    payload: { previousVmState: inst0.vm_state },
  });
}
