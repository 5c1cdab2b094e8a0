import { badRequest } from '../../errors.js';

/**
 * OS-DCF:diskConfig: AUTO (grow the root partition to the flavor's disk) or MANUAL. It is the server's own setting,
 * kept in its system metadata whatever the driver, so every driver answers the API the same way.
 */
export type DiskConfig = 'AUTO' | 'MANUAL';

const KEY = 'disk_config';
const TRUE_WORDS = ['true', '1', 'yes', 'on', 't', 'y'];

/** Parses the request value; anything but AUTO or MANUAL is a 400, as in Nova. */
export function parseDiskConfig(value: unknown): DiskConfig | undefined {
  if (value === undefined) return undefined;
  if (value === 'AUTO' || value === 'MANUAL') return value;
  throw badRequest(
    `Invalid input for field/attribute OS-DCF:diskConfig. Value: ${String(value)}. '${String(value)}' is not one of ` +
      `['AUTO', 'MANUAL']`,
  );
}

/** The server's setting; before one was chosen, the image's auto_disk_config property decides (Nova's default). */
export function diskConfigOf(systemMetadata: Record<string, string>): DiskConfig {
  const set = systemMetadata[KEY];
  if (set === 'AUTO' || set === 'MANUAL') return set;
  return TRUE_WORDS.includes(String(systemMetadata.image_auto_disk_config ?? '').toLowerCase()) ? 'AUTO' : 'MANUAL';
}

/** System metadata with the setting recorded (unchanged when `dc` is undefined). */
export function withDiskConfig(
  systemMetadata: Record<string, string>,
  dc: DiskConfig | undefined,
): Record<string, string> {
  return dc === undefined ? systemMetadata : { ...systemMetadata, [KEY]: dc };
}
