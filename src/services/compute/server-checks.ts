// What a server create (and a rebuild) checks before anything is written: the image reference, the image against
// the flavor, user data and metadata limits.
import { badRequest, isCloudError, overQuota } from '../../errors.js';
import type { AuthContext } from './common.js';
import type { FlavorSnapshot } from './model.js';
import type { ComputeImage, ComputeImagePort } from './peer-services.js';

/** Nova's limit on user data as sent (base64). */
export const MAX_USER_DATA = 65535;

/** The image id from an imageRef that may be a URL. */
export function imageIdFromRef(ref: string): string {
  const m = /\/images\/([^/?#]+)\/?$/.exec(ref);
  return m ? m[1]! : ref;
}

/** The image a request names (an id or an image URL), or Nova's 400 ImageNotFound when the image service has none. */
export async function findImage(
  port: ComputeImagePort | undefined | null,
  ctx: AuthContext,
  ref: string,
): Promise<ComputeImage> {
  const id = imageIdFromRef(ref);
  if (!port) throw badRequest(`Image ${id} could not be found.`, { code: 'ImageNotFound' });
  try {
    return await port.getImage(ctx, id);
  } catch (e) {
    if (isCloudError(e) && e.status === 404)
      throw badRequest(`Image ${id} could not be found.`, { code: 'ImageNotFound' });
    throw e;
  }
}

/** Nova's image/flavor fit checks. */
export function checkFit(image: ComputeImage, flavor: FlavorSnapshot): void {
  if (image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`, { code: 'ImageNotActive' });
  const gib = 1024 ** 3;
  if (flavor.disk > 0) {
    if (image.size !== null && image.size > flavor.disk * gib) {
      throw badRequest(
        `Flavor's disk is too small for requested image. Flavor disk is ${flavor.disk * gib} bytes, image is ` +
          `${image.size} bytes.`,
        { code: 'FlavorDiskTooSmall' },
      );
    }
    if (image.minDisk > flavor.disk) {
      throw badRequest(
        `Flavor's disk is too small for requested image. Flavor disk is ${flavor.disk * gib} bytes, minimum ` +
          `required by image is ${image.minDisk * gib} bytes.`,
        { code: 'FlavorDiskTooSmall' },
      );
    }
  }
  checkMemoryFit(image, flavor);
}

/** The one fit check a volume-backed server keeps: its root disk is the volume, but memory still has to fit. */
export function checkMemoryFit(image: ComputeImage, flavor: FlavorSnapshot): void {
  if (image.minRam > flavor.ram)
    throw badRequest(`Flavor's memory is too small for requested image.`, { code: 'FlavorMemoryTooSmall' });
}

/** Validates user data: base64, at most 65535 bytes as sent. */
export function checkUserData(data: string): void {
  if (data.length > MAX_USER_DATA) {
    throw badRequest(
      `User data too large. User data must be no larger than ${MAX_USER_DATA} bytes once base64 encoded. Your data ` +
        `is ${data.length} bytes`,
    );
  }
  const clean = data.replace(/\s/g, '');
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean))
    throw badRequest('User data needs to be valid base 64.');
}

/** Checks metadata against the project's metadata_items limit (negative: unlimited) and Nova's key/value sizes. */
export function checkMetadataLimits(limit: number, md: Record<string, string>): void {
  const n = Object.keys(md).length;
  if (limit >= 0 && n > limit)
    throw overQuota(
      `Quota exceeded for metadata_items: Requested ${n}, but already used 0 of ${limit} metadata_items`,
      {
        code: 'MetadataLimitExceeded',
      },
    );
  for (const [k, v] of Object.entries(md)) {
    if (k.length === 0 || k.length > 255)
      throw badRequest('Metadata property key greater than 255 characters', { code: 'InvalidMetadataSize' });
    if (typeof v !== 'string' || v.length > 255)
      throw badRequest('Metadata property value greater than 255 characters', { code: 'InvalidMetadataSize' });
  }
}
