// First-start registration of the tiny image in the image service: `tiny-kernel` (aki), `tiny-ramdisk` (ari)
// and `tiny` (qcow2 root disk with kernel_id, ramdisk_id and os_command_line), public, owned by the admin project.
// Idempotent: an existing active set is kept; leftovers of an interrupted registration are removed first.
import { createReadStream, statSync } from 'node:fs';
import { dataPaths } from '../../util/paths.js';
import { type AuthContext, serviceContext } from '../../services/auth-context.js';
import type { Image, ImageService } from '../../services/image/index.js';
import { buildTinyImage, type TinyImage } from './build.js';
import { TINY_USER } from './guest-files.js';

/** Property every image of the set carries (the builder's cache key), to tell ours from a user's `tiny`. */
export const TINY_MARKER = 'gureum_tiny';

/** What `registerTinyImage` did. */
export type TinyRegistration =
  | { status: 'present'; imageId: string }
  | { status: 'registered'; imageId: string; kernelId: string; ramdiskId: string; build: TinyImage }
  | { status: 'skipped'; reason: string };

function adminContext(projectId: string): AuthContext {
  return serviceContext('gureum-bootstrap', { id: projectId, name: 'admin' });
}

async function ours(image: ImageService, ctx: AuthContext, name: string): Promise<Image[]> {
  const { images } = await image.list(ctx, { name, limit: '100' });
  return images.filter((i) => i.properties[TINY_MARKER] !== undefined && i.owner === ctx.projectId);
}

async function upload(
  image: ImageService,
  ctx: AuthContext,
  body: Record<string, unknown>,
  path: string,
): Promise<Image> {
  const created = await image.createImage(ctx, body);
  try {
    return await image.uploadImageData(ctx, created.id, createReadStream(path), statSync(path).size);
  } catch (e) {
    // The upload's error is the one to report; an image left queued is removed as a leftover at the next start.
    await image.deleteImage(ctx, created.id).catch(() => {});
    throw e;
  }
}

/**
 * Makes sure the public tiny image set exists. Builds it (Debian packages, cached under `cacheDir`) only when
 * it is missing; any failure to build is reported as `skipped` with the reason, never thrown.
 */
export async function registerTinyImage(
  image: ImageService,
  opts: {
    adminProjectId: string;
    cacheDir: string;
    log?: (message: string) => void;
    build?: (cacheDir: string) => Promise<TinyImage>;
  },
): Promise<TinyRegistration> {
  const ctx = adminContext(opts.adminProjectId);
  const existing = (await ours(image, ctx, 'tiny')).find((i) => i.status === 'active');
  if (existing) return { status: 'present', imageId: existing.id };

  let build: TinyImage;
  try {
    build = await (opts.build ?? ((dir) => buildTinyImage(dir, { log: opts.log ?? (() => {}) })))(opts.cacheDir);
  } catch (e) {
    return { status: 'skipped', reason: (e as Error).message };
  }
  // Leftovers of an interrupted registration (queued, killed, or a kernel without its root image).
  for (const name of ['tiny', 'tiny-kernel', 'tiny-ramdisk']) {
    // One that cannot be deleted now is tried again at the next start; registration goes on without it.
    for (const i of await ours(image, ctx, name)) await image.deleteImage(ctx, i.id).catch(() => {});
  }
  const marker = { [TINY_MARKER]: build.key };
  const common = { visibility: 'public', os_type: 'linux', architecture: 'x86_64', ...marker };
  const kernel = await upload(
    image,
    ctx,
    { name: 'tiny-kernel', disk_format: 'aki', container_format: 'aki', ...common },
    build.kernelPath,
  );
  const ramdisk = await upload(
    image,
    ctx,
    { name: 'tiny-ramdisk', disk_format: 'ari', container_format: 'ari', ...common },
    build.initrdPath,
  );
  const root = await upload(
    image,
    ctx,
    {
      name: 'tiny',
      disk_format: build.rootDiskFormat,
      container_format: 'bare',
      min_disk: build.minDiskGb,
      min_ram: build.minRamMb,
      kernel_id: kernel.id,
      ramdisk_id: ramdisk.id,
      os_command_line: build.cmdline,
      os_distro: 'gureum-tiny',
      os_version: build.versions['busybox-static'] ?? '',
      os_admin_user: TINY_USER,
      hw_disk_bus: 'virtio',
      hw_vif_model: 'virtio',
      hw_rng_model: 'virtio',
      hw_qemu_guest_agent: 'no',
      description:
        'Gureum tiny guest (CirrOS-like): Debian cloud kernel, busybox, dropbear; configures itself from the ' +
        'metadata service or a config drive.',
      ...common,
    },
    build.rootDiskPath,
  );
  return { status: 'registered', imageId: root.id, kernelId: kernel.id, ramdiskId: ramdisk.id, build };
}

/** The cache folder for tiny builds below the data directory. */
export function tinyCacheDir(dataDir: string): string {
  return dataPaths(dataDir).tinyCache;
}

/**
 * The start-up hook: registers the tiny image when missing, logging what happened; never throws (a cloud
 * without the tiny image still starts, with a warning saying why).
 */
export async function bootstrapTinyImage(
  image: ImageService,
  opts: {
    adminProjectId: string;
    dataDir: string;
    log: { info(msg: string): void; warn(msg: string): void };
  },
): Promise<TinyRegistration> {
  let r: TinyRegistration;
  try {
    r = await registerTinyImage(image, {
      adminProjectId: opts.adminProjectId,
      cacheDir: tinyCacheDir(opts.dataDir),
      log: (m) => opts.log.info(`tiny image: ${m}`),
    });
  } catch (e) {
    r = { status: 'skipped', reason: (e as Error).message };
  }
  if (r.status === 'registered')
    opts.log.info(`tiny image: registered as ${r.imageId} (kernel ${r.kernelId}, ramdisk ${r.ramdiskId})`);
  if (r.status === 'skipped') {
    opts.log.warn(
      `tiny image: not available, the cloud starts without it (${r.reason}). It needs Debian's apt with a reachable ` +
        `mirror once; set tinyImage false to silence this.`,
    );
  }
  return r;
}
