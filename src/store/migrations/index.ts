import type { Migration } from 'kysely';
import * as identity from './2026112201-identity.js';
import * as identityExtra from './2026112203-identity-extra.js';
import * as identityFilters from './2026112206-identity-filters.js';
import * as identitySecurity from './2026112207-identity-security.js';
import * as image from './2026112202-image.js';
import * as compute from './2026112205-compute.js';
import * as network from './2026112204-network.js';
import * as consoleTokens from './2026112208-console.js';
import * as volume from './2026120701-volume.js';
import * as volumeAttachments from './2026120702-volume-attachments.js';
import * as volumeTransfers from './2026120703-volume-transfers.js';
import * as volumeBackups from './2026120704-volume-backups.js';
import * as volumeBackupMetadata from './2026120705-volume-backup-metadata.js';
import * as networkAgents from './2026120710-network-agents.js';
import * as volumeQosSpecs from './2026120711-volume-qos-specs.js';
import * as volumeAdminMetadata from './2026120712-volume-admin-metadata.js';
import * as audit from './2026120713-audit.js';
import * as networkMetering from './2026120714-network-metering.js';

/**
 * Every migration, by name. Names sort in the order they must run; each service adds its own file here.
 * Never edit a migration that has shipped: add a new one.
 */
export const migrations: Record<string, Migration> = {
  '2026112201-identity': identity,
  '2026112203-identity-extra': identityExtra,
  '2026112206-identity-filters': identityFilters,
  '2026112207-identity-security': identitySecurity,
  '2026112202-image': image,
  '2026112205-compute': compute,
  '2026112204-network': network,
  '2026112208-console': consoleTokens,
  '2026120701-volume': volume,
  '2026120702-volume-attachments': volumeAttachments,
  '2026120703-volume-transfers': volumeTransfers,
  '2026120704-volume-backups': volumeBackups,
  '2026120705-volume-backup-metadata': volumeBackupMetadata,
  '2026120710-network-agents': networkAgents,
  '2026120711-volume-qos-specs': volumeQosSpecs,
  '2026120712-volume-admin-metadata': volumeAdminMetadata,
  '2026120713-audit': audit,
  '2026120714-network-metering': networkMetering,
};
