// The records the volume API renders (the API never sees rows) and the row → record mapping.
import { fromJson } from '../../util/json.js';
import type { VolumeAttachmentRow, VolumeRow, VolumeSnapshotRow, VolumeTypeRow } from '../../store/volume-tables.js';

/** One attachment of a volume to a server (Cinder's volume_attachment). */
export interface VolumeAttachment {
  id: string;
  volumeId: string;
  projectId: string;
  instanceId: string | null;
  hostName: string | null;
  device: string | null;
  attachStatus: string;
  attachMode: string;
  connector: Record<string, unknown> | null;
  attachedAt: string | null;
  createdAt: string;
  updatedAt: string | null;
  tag: string | null;
  deleteOnTermination: boolean;
  bootIndex: number | null;
}

/** A volume as the API shows it. */
export interface Volume {
  id: string;
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  attachStatus: string;
  migrationStatus: string | null;
  availabilityZone: string;
  volumeTypeId: string;
  volumeTypeName: string | null;
  snapshotId: string | null;
  sourceVolid: string | null;
  imageId: string | null;
  bootable: boolean;
  readonly: boolean;
  /** Admin metadata clients see inside `metadata` (readonly once set, attached_mode), as Cinder shows it. */
  visibleAdminMetadata: Record<string, string>;
  multiattach: boolean;
  metadata: Record<string, string>;
  imageMetadata: Record<string, string>;
  host: string;
  diskFormat: string;
  createdAt: string;
  updatedAt: string | null;
  attachments: VolumeAttachment[];
}

export interface Snapshot {
  id: string;
  projectId: string;
  userId: string;
  volumeId: string;
  volumeTypeId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  progress: string;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string | null;
}

export interface VolumeType {
  id: string;
  name: string;
  description: string | null;
  isPublic: boolean;
  extraSpecs: Record<string, string>;
  qosSpecsId: string | null;
  createdAt: string;
  updatedAt: string | null;
}

/** Cinder's timestamps: microseconds, no zone letter ("2026-12-07T10:00:00.000000"). */
export function now(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export function attachmentOf(r: VolumeAttachmentRow): VolumeAttachment {
  return {
    id: r.id,
    volumeId: r.volume_id,
    projectId: r.project_id,
    instanceId: r.instance_id,
    hostName: r.host_name,
    device: r.device,
    attachStatus: r.attach_status,
    attachMode: r.attach_mode,
    connector: fromJson<Record<string, unknown> | null>(r.connector, null),
    attachedAt: r.attached_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    tag: r.tag,
    deleteOnTermination: r.delete_on_termination === 1,
    bootIndex: r.boot_index,
  };
}

export function volumeOf(r: VolumeRow, typeName: string | null, attachments: VolumeAttachment[]): Volume {
  return {
    id: r.id,
    projectId: r.project_id,
    userId: r.user_id,
    name: r.name,
    description: r.description,
    size: r.size,
    status: r.status,
    attachStatus: r.attach_status,
    migrationStatus: r.migration_status,
    availabilityZone: r.availability_zone,
    volumeTypeId: r.volume_type_id,
    volumeTypeName: typeName,
    snapshotId: r.snapshot_id,
    sourceVolid: r.source_volid,
    imageId: r.image_id,
    bootable: r.bootable === 1,
    readonly: r.readonly === 1,
    multiattach: r.multiattach === 1,
    metadata: fromJson(r.metadata, {}),
    visibleAdminMetadata: visibleAdminMetadata(fromJson(r.admin_metadata ?? '{}', {})),
    imageMetadata: fromJson(r.image_metadata, {}),
    host: r.host,
    diskFormat: r.disk_format,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    attachments,
  };
}

export function snapshotOf(r: VolumeSnapshotRow): Snapshot {
  return {
    id: r.id,
    projectId: r.project_id,
    userId: r.user_id,
    volumeId: r.volume_id,
    volumeTypeId: r.volume_type_id,
    name: r.name,
    description: r.description,
    size: r.size,
    status: r.status,
    progress: r.progress,
    metadata: fromJson(r.metadata, {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function volumeTypeOf(r: VolumeTypeRow): VolumeType {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    isPublic: r.is_public === 1,
    extraSpecs: fromJson(r.extra_specs, {}),
    qosSpecsId: r.qos_specs_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function visibleAdminMetadata(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).filter(([k]) => k === 'readonly' || k === 'attached_mode'));
}
