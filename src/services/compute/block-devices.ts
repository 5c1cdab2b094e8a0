// Boot from volume and volumes at server create (Nova's block_device_mapping_v2). The API side refuses what Nova
// refuses, with its 400s, before anything is made. The host side (task_state block_device_mapping, before the
// spawn) creates the volumes that come from an image, a snapshot or nothing, waits for block storage to finish
// them, and attaches every volume of the mapping in boot order: the boot volume as /dev/vda, the guest's root
// disk, the others after the server's own disks. Attachments are ordinary volume attachments, so stop/start,
// reboot, shelve and restart reconciliation treat them like any hot-plugged volume, and delete honours
// delete_on_termination through them.
import { badRequest, isCloudError } from '../../errors.js';
import type { AuthContext } from '../auth-context.js';
import type { BlockDevice } from './model.js';
import type { ComputeImage, ComputeVolumePort } from './peer-services.js';

/** The device the boot volume gets: the root disk of a volume-backed server. */
export const ROOT_DEVICE = '/dev/vda';

const GiB = 1024 ** 3;

/** How long the host waits for block storage to finish a volume it asked for (Nova waits about three minutes). */
const VOLUME_READY_TIMEOUT_MS = 10 * 60_000;

/** Cinder's volume image metadata keys that are not image properties. */
const NOT_PROPERTIES = new Set([
  'image_id',
  'image_name',
  'checksum',
  'container_format',
  'disk_format',
  'min_disk',
  'min_ram',
  'size',
]);

/** Properties of a volume-backed snapshot image that describe its mapping, not the guest. */
const IMAGE_BDM_KEYS = new Set(['block_device_mapping', 'bdm_v2', 'root_device_name']);

const invalidBdm = (why: string) => badRequest(`Block Device Mapping is Invalid: ${why}`, { code: 'InvalidBDM' });
const badBootSequence = () =>
  badRequest('Boot sequence for the instance and image/block device mapping combination is not valid.', {
    code: 'InvalidBDMBootSequence',
  });

/** The mapping entry the server boots from (boot_index 0), if any. */
export function bootDevice(bdms: BlockDevice[]): BlockDevice | undefined {
  return bdms.find((b) => b.boot_index === 0);
}

/** True when the server's root disk is a volume. */
export function isVolumeBacked(bdms: BlockDevice[]): boolean {
  return bootDevice(bdms)?.destination_type === 'volume';
}

/** What a create needs from the mapping: whether the root is a volume and the image that describes the guest. */
export interface BlockDevicePlan {
  volumeBacked: boolean;
  /** The image the guest is described by: imageRef, the boot image, or one made of the boot volume's image metadata. */
  image: ComputeImage;
  /** The instance's image_ref: '' for a volume-backed server created without imageRef, as Nova shows it. */
  imageRef: string;
  /** The mapping to store: the request's, or the one a volume-backed snapshot image carries. */
  blockDevices: BlockDevice[];
}

/** The image properties among a volume's image metadata (kernel_id, os_command_line, hw_*, ...). */
export function volumeImageProperties(meta: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(meta).filter(([k]) => !NOT_PROPERTIES.has(k)));
}

/** An image record made from a volume's image metadata (boot from an existing volume or snapshot). */
function imageOfVolume(meta: Record<string, string>): ComputeImage {
  return {
    id: meta.image_id ?? '',
    name: meta.image_name ?? '',
    status: 'active',
    minDisk: 0,
    minRam: Number(meta.min_ram ?? 0) || 0,
    size: null,
    diskFormat: meta.disk_format ?? null,
    containerFormat: meta.container_format ?? null,
    properties: volumeImageProperties(meta),
  };
}

/**
 * Nova's checks of a mapping at create: boot sequence, sources that exist and are usable, sizes that fit.
 * `getImage` answers 400 ImageNotFound for an image the caller cannot see.
 */
export async function checkBlockDevices(
  ctx: AuthContext,
  bdms: BlockDevice[],
  imageRef: string | null,
  port: ComputeVolumePort | null,
  getImage: (id: string) => Promise<ComputeImage>,
): Promise<BlockDevicePlan> {
  if (imageRef && !bdms.some((b) => b.boot_index === 0)) {
    // An image made by createImage of a volume-backed server boots from new volumes of its snapshots.
    const img = await getImage(imageRef);
    const fromImage = mappingOfImage(img);
    if (fromImage.some((b) => b.boot_index === 0)) {
      const plan = await checkBlockDevices(ctx, [...fromImage, ...bdms], null, port, getImage);
      return {
        ...plan,
        image: {
          ...img,
          properties: Object.fromEntries(Object.entries(img.properties).filter(([k]) => !IMAGE_BDM_KEYS.has(k))),
        },
        imageRef: img.id,
      };
    }
  }
  const bootIndexes = bdms
    .map((b) => b.boot_index)
    .filter((i): i is number => i !== null && i >= 0)
    .sort((a, b) => a - b);
  if (bootIndexes.some((i, n) => i !== n)) throw badBootSequence();
  const boot = bootDevice(bdms);
  if (!imageRef && !boot)
    throw imageRef === null && bdms.length === 0 ? badRequest('Missing imageRef attribute') : badBootSequence();
  let bootImage: ComputeImage | null = null;
  let bootVolumeMeta: Record<string, string> | null = null;
  for (const b of bdms) {
    const needsVolumes = b.destination_type === 'volume' || b.source_type === 'volume' || b.source_type === 'snapshot';
    if (needsVolumes && !port) throw badRequest('Block storage is not available in this cloud.');
    if ((b.source_type === 'volume' || b.source_type === 'snapshot') && b.destination_type !== 'volume') {
      throw invalidBdm(`Mapping a ${b.source_type} to a local disk is not supported.`);
    }
    if (b.source_type === 'image' && b.destination_type === 'local' && b.boot_index !== 0)
      throw invalidBdm('Mapping image to local is not supported.');
    if (b.source_type === 'volume') {
      const v = await port!.describeVolume(ctx, b.uuid!);
      if (!v) throw invalidBdm(`failed to get volume ${b.uuid}.`);
      if (v.status !== 'available')
        throw badRequest(`Invalid volume: volume '${v.id}' status must be 'available'. Currently in '${v.status}'`, {
          code: 'InvalidVolume',
        });
      if (b.boot_index === 0) {
        if (!v.bootable)
          throw badRequest(`Block Device ${v.id} is not bootable.`, { code: 'InvalidBDMVolumeNotBootable' });
        bootVolumeMeta = v.imageMetadata;
      }
    } else if (b.source_type === 'snapshot') {
      const s = await port!.describeSnapshot(ctx, b.uuid!);
      if (!s) throw invalidBdm(`failed to get snapshot ${b.uuid}.`);
      if (s.status !== 'available')
        throw invalidBdm(`snapshot ${s.id} status must be 'available'. Currently in '${s.status}'.`);
      if (b.volume_size !== null && b.volume_size < s.size)
        throw invalidBdm(`volume size ${b.volume_size}GB is smaller than snapshot ${s.id} (${s.size}GB).`);
      if (b.boot_index === 0) bootVolumeMeta = {};
    } else if (b.source_type === 'image' && b.destination_type === 'volume') {
      if (!b.volume_size)
        throw invalidBdm("Images with destination_type 'volume' need to have a non-zero size specified");
      const img = await getImage(b.uuid!);
      if (img.status !== 'active') throw badRequest(`Image ${img.id} is not active.`, { code: 'ImageNotActive' });
      const needGb = Math.max(img.minDisk, Math.ceil((img.size ?? 0) / GiB));
      if (b.volume_size < needGb) {
        throw badRequest(
          `Volume is smaller than the minimum size specified in image metadata. Volume size is ` +
            `${b.volume_size * GiB} bytes, minimum size is ${needGb * GiB} bytes.`,
          { code: 'VolumeSmallerThanMinDisk' },
        );
      }
      if (b.boot_index === 0) bootImage = img;
    } else if (b.source_type === 'blank' && b.destination_type === 'volume') {
      if (!b.volume_size)
        throw invalidBdm("Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size");
      if (b.boot_index === 0) throw invalidBdm('A blank volume cannot be the boot device.');
    } else if (b.source_type === 'image' && b.boot_index === 0) {
      bootImage = await getImage(b.uuid!);
    }
  }
  const volumeBacked = boot?.destination_type === 'volume';
  if (imageRef) {
    // An imageRef names the guest's image; a volume-backed server keeps it as its image_ref, as Nova does.
    const img = bootImage?.id === imageRef ? bootImage : await getImage(imageRef);
    return { volumeBacked, image: img, imageRef: img.id, blockDevices: bdms };
  }
  if (bootImage)
    return { volumeBacked, image: bootImage, imageRef: volumeBacked ? '' : bootImage.id, blockDevices: bdms };
  return { volumeBacked, image: imageOfVolume(bootVolumeMeta ?? {}), imageRef: '', blockDevices: bdms };
}

/** Polls a volume until block storage has made it available; throws with its status otherwise. */
async function waitAvailable(port: ComputeVolumePort, volumeId: string): Promise<void> {
  const deadline = Date.now() + VOLUME_READY_TIMEOUT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    const s = await port.volumeState(volumeId);
    if (!s) throw new Error(`Volume ${volumeId} disappeared while the server was being built.`);
    if (s.status === 'available') return;
    if (s.status !== 'creating' && s.status !== 'downloading')
      throw new Error(`Volume ${volumeId} did not become available: its status is ${s.status}.`);
    if (Date.now() > deadline) throw new Error(`Volume ${volumeId} did not become available in time.`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Host side, before the spawn: makes the mapping's volumes and attaches them to the instance. Returns the mapping
 * with each entry's volume id, to be stored on the instance (so a retry or the root-detach check knows them).
 * Entries already attached (a spawn retried after a restart) are kept as they are.
 */
export async function attachMappedVolumes(
  port: ComputeVolumePort,
  ctx: AuthContext,
  instance: { id: string; name: string },
  bdms: BlockDevice[],
  host: string,
  deviceFor: (used: (string | null)[]) => string,
  save: (mapped: BlockDevice[]) => Promise<void>,
): Promise<BlockDevice[]> {
  const out = bdms.map((b) => ({ ...b }));
  const order = out
    .map((b, i) => ({ b, i }))
    .filter(({ b }) => b.destination_type === 'volume')
    .sort((x, y) => (x.b.boot_index ?? 1e9) - (y.b.boot_index ?? 1e9) || x.i - y.i);
  for (const { b } of order) {
    const existing = await port.ofInstance(instance.id);
    if (b.volume_id && existing.some((a) => a.volumeId === b.volume_id && a.status === 'attached')) continue;
    if (!b.volume_id) {
      if (b.source_type === 'volume') b.volume_id = b.uuid;
      else {
        b.volume_id = await port.createVolume(ctx, {
          size: b.volume_size,
          name: `${instance.name}-${b.boot_index === 0 ? 'root' : 'volume'}`,
          imageId: b.source_type === 'image' ? b.uuid : null,
          snapshotId: b.source_type === 'snapshot' ? b.uuid : null,
        });
        // Recorded at once, so a server deleted after a failed build still finds (and may delete) the volume.
        await save(out);
      }
    }
    await waitAvailable(port, b.volume_id!);
    const device = b.boot_index === 0 ? ROOT_DEVICE : deviceFor(existing.map((a) => a.device));
    try {
      const r = await port.reserve(ctx, b.volume_id!, instance.id, {
        device,
        tag: b.tag,
        deleteOnTermination: b.delete_on_termination,
      });
      await port.complete(r.attachment.attachmentId, device, host);
    } catch (e) {
      if (isCloudError(e)) throw new Error(e.message);
      throw e;
    }
  }
  return out;
}

/** The mapping Nova stores in a volume-backed snapshot image's `block_device_mapping` property. */
interface ImageBdm {
  boot_index: number | null;
  source_type: string;
  destination_type: string;
  snapshot_id: string | null;
  volume_id: null;
  volume_size: number;
  delete_on_termination: boolean;
  device_name: string | null;
  tag: string | null;
  disk_bus: string | null;
  device_type: string | null;
  guest_format: string | null;
  image_id: null;
  no_device: null;
}

/**
 * createImage of a volume-backed server, as Nova's snapshot_volume_backed: every attached volume gets a volume
 * snapshot (forced: it is in use), and the image is a zero-size record whose `block_device_mapping` property
 * names the snapshots, so booting the image makes new volumes from them. Answers the image's properties.
 */
export async function snapshotVolumeBacked(
  port: ComputeVolumePort,
  ctx: AuthContext,
  inst: { id: string; name: string },
  bdms: BlockDevice[],
  imageName: string,
): Promise<Record<string, string>> {
  const mappings: ImageBdm[] = [];
  const byVolume = new Map(
    bdms.filter((b) => b.volume_id || b.source_type === 'volume').map((b) => [b.volume_id ?? b.uuid!, b]),
  );
  for (const a of await port.ofInstance(inst.id)) {
    if (a.status !== 'attached') continue;
    const b = byVolume.get(a.volumeId);
    const snap = await port.snapshotAttached(ctx, a.volumeId, `snapshot for ${imageName}`);
    mappings.push({
      boot_index: a.device === ROOT_DEVICE ? 0 : (b?.boot_index ?? null),
      source_type: 'snapshot',
      destination_type: 'volume',
      snapshot_id: snap.id,
      volume_id: null,
      volume_size: snap.size,
      delete_on_termination: a.deleteOnTermination,
      device_name: a.device,
      tag: a.tag,
      disk_bus: b?.disk_bus ?? null,
      device_type: b?.device_type ?? null,
      guest_format: b?.guest_format ?? null,
      image_id: null,
      no_device: null,
    });
  }
  mappings.sort((x, y) => (x.boot_index ?? 1e9) - (y.boot_index ?? 1e9));
  return { block_device_mapping: JSON.stringify(mappings), bdm_v2: 'True', root_device_name: ROOT_DEVICE };
}

/** The mapping stored in a volume-backed snapshot image, as a create's mapping (boot from the image's snapshots). */
export function mappingOfImage(image: ComputeImage): BlockDevice[] {
  const raw = image.properties.block_device_mapping;
  if (!raw) return [];
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list
    .filter(
      (m): m is Record<string, unknown> =>
        !!m && typeof m === 'object' && (m as { source_type?: unknown }).source_type === 'snapshot',
    )
    .map((m) => ({
      boot_index: typeof m.boot_index === 'number' ? m.boot_index : null,
      source_type: 'snapshot',
      destination_type: 'volume',
      uuid: String(m.snapshot_id),
      volume_size: typeof m.volume_size === 'number' ? m.volume_size : null,
      delete_on_termination: m.delete_on_termination === true,
      device_name: typeof m.device_name === 'string' ? m.device_name : null,
      tag: typeof m.tag === 'string' ? m.tag : null,
      guest_format: null,
      disk_bus: typeof m.disk_bus === 'string' ? m.disk_bus : null,
      device_type: typeof m.device_type === 'string' ? m.device_type : null,
      volume_id: null,
    }));
}
