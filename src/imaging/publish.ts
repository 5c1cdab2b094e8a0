// publish, capture, and running a step on an image that lives in the image service.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GlanceImage } from './cloud-client.js';
import { convertImage, sizesOf } from './disk-tools.js';
import { ImagingError } from './errors.js';
import { diskFormatOf } from './guest.js';
import { auditImage, sealImage, type AuditReport, type SealReport } from './seal.js';

/** What publish needs from an image service (the HTTP CloudClient; an in-process adapter can implement it too). */
export interface ImageRepo {
  findImage(nameOrId: string): Promise<GlanceImage>;
  download(id: string, file: string): Promise<void>;
  upload(file: string, fields: Record<string, unknown>): Promise<GlanceImage>;
  deleteImage(id: string): Promise<void>;
  setProperties(id: string, props: Record<string, string>, existing: Record<string, unknown>): Promise<void>;
  waitActive(id: string): Promise<GlanceImage>;
  createServerImage(server: string, name: string): Promise<string>;
}

const GIB = 2 ** 30;

/** The property that records an audit: "clean", or "identity-left: op,op". */
export function auditProperty(a: AuditReport): string {
  return a.clean ? 'clean' : `identity-left: ${[...new Set(a.findings.map((f) => f.op))].join(',')}`;
}

/** Options of publish. */
export interface PublishOptions {
  name: string;
  minRamMb?: number;
  osDistro?: string;
  osVersion?: string;
  visibility?: 'public' | 'private' | 'shared' | 'community';
  properties?: Record<string, string>;
  /** Publish even when the audit finds identity (recorded in the property). */
  force?: boolean;
}

/** Audits then uploads: min_disk = virtual size rounded up to GiB; refused when the audit fails unless forced. */
export async function publishImage(
  repo: ImageRepo,
  file: string,
  opts: PublishOptions,
): Promise<{ image: GlanceImage; audit: AuditReport }> {
  const format = await diskFormatOf(file);
  const audit = await auditImage(file, { format });
  if (!audit.clean && !opts.force) {
    throw new ImagingError(
      'refused',
      `${file}: the audit found ${audit.findings.length} identities left (${auditProperty(audit)}); seal it first, ` +
        `or publish with --force`,
    );
  }
  const sizes = await sizesOf(file, format);
  const props: Record<string, string> = {
    architecture: 'x86_64',
    os_type: 'linux',
    hw_qemu_guest_agent: 'yes',
    os_distro: opts.osDistro ?? audit.os?.distro ?? 'unknown',
    ...((opts.osVersion ?? audit.os?.version) ? { os_version: (opts.osVersion ?? audit.os?.version)! } : {}),
    gureum_audit: auditProperty(audit),
    ...opts.properties,
  };
  const image = await repo.upload(file, {
    name: opts.name,
    disk_format: format === 'vpc' ? 'vhd' : format,
    container_format: 'bare',
    min_disk: Math.ceil(sizes.virtualBytes / GIB),
    min_ram: opts.minRamMb ?? 0,
    ...(opts.visibility ? { visibility: opts.visibility } : {}),
    ...props,
  });
  return { image, audit };
}

/** Downloads a service image to a private temp dir, runs `fn` on the file, and removes the copy. */
export async function withDownloaded<T>(
  repo: ImageRepo,
  nameOrId: string,
  fn: (file: string, img: GlanceImage) => Promise<T>,
): Promise<T> {
  const img = await repo.findImage(nameOrId);
  if (img.status !== 'active') throw new ImagingError('bad-input', `image ${img.id} is ${img.status}, not active`);
  if (!['qcow2', 'raw'].includes(String(img.disk_format)))
    throw new ImagingError(
      'bad-input',
      `image ${img.id} is ${String(img.disk_format)}; only qcow2 and raw images are handled`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'gureum-image-'));
  try {
    const file = join(dir, `disk.${String(img.disk_format)}`);
    await repo.download(img.id, file);
    return await fn(file, img);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const CORE = new Set([
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'size',
  'virtual_size',
  'created_at',
  'updated_at',
  'file',
  'schema',
  'self',
  'tags',
  'owner',
  'disk_format',
  'container_format',
  'min_disk',
  'min_ram',
  'direct_url',
  'locations',
  'stores',
  'os_hidden',
  'gureum_audit',
  'image_type',
  'instance_uuid',
  'base_image_ref',
  'user_id',
  'image_location',
  'image_state',
  'owner_specified.openstack.md5',
  'owner_specified.openstack.sha256',
  'owner_specified.openstack.object',
]);

/** The string properties of an image worth carrying to a derived one. */
export function carriedProperties(img: GlanceImage): Record<string, string> {
  return Object.fromEntries(Object.entries(img).filter(([k, v]) => !CORE.has(k) && typeof v === 'string')) as Record<
    string,
    string
  >;
}

/** capture: server image create, then seal + compress + publish as `name`; the unsealed snapshot is deleted. */
export async function captureServer(
  repo: ImageRepo,
  server: string,
  name: string,
  opts: { keepSnapshot?: boolean; force?: boolean; progress?: (l: string) => void } = {},
): Promise<{ image: GlanceImage; seal: SealReport; audit: AuditReport; snapshotId: string; snapshotDeleted: boolean }> {
  const log = opts.progress ?? (() => undefined);
  const snapName = `${name}-snapshot-${new Date().toISOString().replace(/[:.]/g, '')}`;
  log(`snapshot: server image create ${server} → ${snapName}`);
  const snapId = await repo.createServerImage(server, snapName);
  let snapshotDeleted = false;
  try {
    const snap = await repo.waitActive(snapId);
    log(`snapshot ${snapId} active (${String(snap.size ?? '?')} bytes); downloading`);
    const result = await withDownloaded(repo, snapId, async (file, img) => {
      log('seal');
      const seal = await sealImage(file).catch((e: unknown) => {
        if (e instanceof ImagingError)
          throw new ImagingError(
            e.code,
            `the snapshot of server ${server} (image ${snapId}) cannot be sealed, nothing was published: ${e.message}`,
          );
        throw e;
      });
      log(`sealed: ${seal.changes.length} changes; compress`);
      const compressed = `${file}.compressed.qcow2`;
      await convertImage(file, { toFormat: 'qcow2', compress: true, output: compressed });
      log('publish');
      const props = carriedProperties(img);
      const minRam = typeof img.min_ram === 'number' ? img.min_ram : undefined;
      const { image, audit } = await publishImage(repo, compressed, {
        name,
        properties: { ...props, gureum_captured_from: server },
        ...(minRam !== undefined ? { minRamMb: minRam } : {}),
        ...(opts.force ? { force: true } : {}),
      });
      return { image, seal, audit };
    });
    return { ...result, snapshotId: snapId, snapshotDeleted: await finish() };
  } catch (e) {
    await finish();
    throw e;
  }
  async function finish(): Promise<boolean> {
    if (opts.keepSnapshot || snapshotDeleted) return snapshotDeleted;
    await repo.deleteImage(snapId).catch(() => undefined);
    snapshotDeleted = true;
    return true;
  }
}
