// Config drive: the metadata tree as an ISO 9660 (+ Joliet) image labelled "config-2", as Nova writes it and
// cloud-init's ConfigDrive datasource finds it (by label).
import { rename, rm, writeFile } from 'node:fs/promises';
import { writeIso9660 } from './iso9660.js';

/** The label guests look for. */
export const CONFIG_DRIVE_LABEL = 'config-2';

/**
 * Writes a config drive holding `files` ([path, bytes]: openstack/<version>/meta_data.json, user_data, ...,
 * ec2/<version>/meta-data.json) to `path`, atomically (a temporary file renamed into place), mode 0600.
 */
export async function buildConfigDrive(
  files: [string, Buffer][],
  path: string,
  opts: { date?: Date } = {},
): Promise<void> {
  const img = writeIso9660(files, {
    volumeId: CONFIG_DRIVE_LABEL,
    application: 'GUREUM CONFIG DRIVE',
    ...(opts.date ? { date: opts.date } : {}),
  });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, img, { mode: 0o600 });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
