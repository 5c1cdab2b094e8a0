import type { Kysely } from 'kysely';
import type { Database } from '../../store/tables.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import { isoSeconds } from '../../util/ids.js';

/** Disk formats Glance accepts by default. */
export const DISK_FORMATS = [
  'ami',
  'ari',
  'aki',
  'vhd',
  'vhdx',
  'vmdk',
  'raw',
  'qcow2',
  'vdi',
  'iso',
  'ploop',
] as const;
/** Container formats Glance accepts by default. */
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export const VISIBILITIES = ['public', 'community', 'shared', 'private'] as const;
export const STATUSES = [
  'queued',
  'saving',
  'active',
  'killed',
  'deleted',
  'pending_delete',
  'deactivated',
  'uploading',
  'importing',
] as const;
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
/** The one store this cloud has: the local filesystem under DATA_DIR/images. */
export const STORE_ID = 'local';
export const IMPORT_METHODS = ['glance-direct', 'copy-image'] as const;

/** Settings of the image service (the configurable ones come from the config's `image` section). */
export interface ImageServiceOptions {
  /** Format every imported image is converted to (qemu-img convert), or null for no conversion (Glance's default). */
  convertTo: string | null;
  /** Largest image accepted, in bytes (Glance's image_size_cap, 1 TiB). */
  sizeCap: number;
  /** Most custom properties per image (image_property_quota). */
  maxProperties: number;
  /** Most tags per image (image_tag_quota). */
  maxTags: number;
  /** Most members per image (image_member_quota). */
  maxMembers: number;
  /** Largest member file (the disk) accepted from an OVA, in bytes. */
  ovaMaxBytes: number;
  /** Default and largest page of GET /v2/images. */
  pageDefault: number;
  pageMax: number;
}

/** The service's options from its config section; the quotas and page sizes are Glance's fixed defaults. */
export function imageOptions(section: { convertTo: string; sizeCapBytes: number }): ImageServiceOptions {
  return {
    convertTo: section.convertTo || null,
    sizeCap: section.sizeCapBytes,
    maxProperties: 128,
    maxTags: 128,
    maxMembers: 128,
    ovaMaxBytes: 1024 ** 4,
    pageDefault: 25,
    pageMax: 1000,
  };
}

export interface ImageDeps {
  db: Kysely<Database>;
  dataDir: string;
  options: ImageServiceOptions;
}

/** An image as the API shows it (before the view adds links). */
export interface Image {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  protected: boolean;
  os_hidden: boolean;
  owner: string | null;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  min_disk: number;
  min_ram: number;
  created_at: string;
  updated_at: string;
  tags: string[];
  /** Store ids holding the data. */
  stores: string[];
  /** Custom (and os_glance_*) properties, all strings. */
  properties: Record<string, string>;
}

/** Glance's timestamp format. */
export const now = (): string => isoSeconds();

export const admin = (a: AuthContext): boolean => isAdmin(a);

/** True for ids Glance would accept as an image id (a dashed uuid). */
export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
