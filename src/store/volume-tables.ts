/** Row types of migrations/2026120701-volume.ts (Cinder v3). Booleans are 0/1, JSON is text. */
export interface VolumeTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  /** JSON object of string values. */
  extra_specs: string;
  qos_specs_id: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface VolumeTypeAccessRow {
  volume_type_id: string;
  project_id: string;
}

export interface VolumeRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  /** GiB. */
  size: number;
  /** Cinder's status machine (creating, available, in-use, ...). */
  status: string;
  /** detached | attaching | attached | detaching. */
  attach_status: string;
  migration_status: string | null;
  availability_zone: string;
  volume_type_id: string;
  snapshot_id: string | null;
  source_volid: string | null;
  image_id: string | null;
  bootable: number;
  readonly: number;
  multiattach: number;
  metadata: string;
  /** JSON: Cinder's admin metadata (readonly once set); its visible keys show inside metadata. */
  admin_metadata: string;
  /** volume_image_metadata: what the image said, when made from one. */
  image_metadata: string;
  /** Cinder's host@backend#pool. */
  host: string;
  /** Format of the file behind the volume (qcow2 or raw). */
  disk_format: string;
  created_at: string;
  updated_at: string | null;
}

export interface VolumeSnapshotRow {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  volume_type_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  progress: string;
  metadata: string;
  created_at: string;
  updated_at: string | null;
}

export interface VolumeQuotaRow {
  project_id: string;
  resource: string;
  hard_limit: number;
}

export interface VolumeAttachmentRow {
  id: string;
  volume_id: string;
  project_id: string;
  instance_id: string | null;
  host_name: string | null;
  /** What the guest sees it as (/dev/vdb). */
  device: string | null;
  /** reserved | attaching | attached | detaching | error_attaching. */
  attach_status: string;
  attach_mode: string;
  connector: string | null;
  attached_at: string | null;
  created_at: string;
  updated_at: string | null;
  /** Nova's device tag (2.49+). */
  tag: string | null;
  /** Delete the volume when the server is deleted (boot from volume). */
  delete_on_termination: number;
  /** The server boots from this volume when 0. */
  boot_index: number | null;
}

/** Cinder's user messages: what went wrong in an asynchronous operation, for the project to read. */
export interface VolumeMessageRow {
  id: string;
  project_id: string;
  /** VOLUME, SNAPSHOT, BACKUP, ... */
  resource_type: string;
  resource_uuid: string | null;
  /** Cinder's VOLUME_<resource>_<action>_<detail> id. */
  event_id: string;
  message_level: string;
  user_message: string;
  /** The underlying error, for admins. */
  detail: string | null;
  request_id: string | null;
  created_at: string;
  expires_at: string;
}

/** A volume transfer (migrations/2026120703-volume-transfers.ts); the key itself is never stored. */
export interface VolumeTransferRow {
  id: string;
  volume_id: string;
  source_project_id: string;
  destination_project_id: string | null;
  name: string | null;
  salt: string;
  /** sha256(salt + auth key), hex. */
  crypt_hash: string;
  no_snapshots: number;
  accepted: number;
  deleted: number;
  created_at: string;
  updated_at: string | null;
}

/** A volume backup (migrations/2026120704-volume-backups.ts); its data is in the backup store. */
export interface VolumeBackupRow {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  snapshot_id: string | null;
  /** The backup an incremental one builds on. */
  parent_id: string | null;
  name: string | null;
  description: string | null;
  container: string | null;
  /** creating, available, deleting, error, restoring, error_deleting. */
  status: string;
  fail_reason: string | null;
  /** GiB of the volume backed up. */
  size: number;
  object_count: number;
  is_incremental: number;
  metadata: string;
  /** JSON: the volume's metadata when it was backed up (restored with the data). */
  volume_metadata: string;
  availability_zone: string;
  data_timestamp: string;
  deleted: number;
  created_at: string;
  updated_at: string | null;
}

/** A QoS specs set (migrations/2026120711-volume-qos-specs.ts); types link to it by volume_types.qos_specs_id. */
export interface VolumeQosSpecsRow {
  id: string;
  name: string;
  /** front-end | back-end | both. */
  consumer: string;
  /** JSON object of string values. */
  specs: string;
  created_at: string;
  updated_at: string | null;
}

export interface VolumeTables {
  volume_qos_specs: VolumeQosSpecsRow;
  volume_messages: VolumeMessageRow;
  volume_types: VolumeTypeRow;
  volume_type_access: VolumeTypeAccessRow;
  volume_volumes: VolumeRow;
  volume_snapshots: VolumeSnapshotRow;
  volume_quotas: VolumeQuotaRow;
  volume_attachments: VolumeAttachmentRow;
  volume_transfers: VolumeTransferRow;
  volume_backups: VolumeBackupRow;
}
