// Cinder's JSON shapes for volumes, snapshots, types and attachments, by microversion and role.
import type { Snapshot, Volume, VolumeAttachment, VolumeType, UserMessage } from '../../services/volume/index.js';
import type { ApiVersion } from '../compute/microversion.js';

export class VolumeViews {
  /** `root` is the public URL of /volume (links are `${root}/v3/{project}/...` and bookmarks without the version). */
  constructor(readonly root: string) {}

  links(project: string, kind: string, id: string) {
    return [
      { href: `${this.root}/v3/${project}/${kind}/${id}`, rel: 'self' },
      { href: `${this.root}/${project}/${kind}/${id}`, rel: 'bookmark' },
    ];
  }

  /** `next` link of a page, keeping the caller's query except the marker. */
  nextLink(project: string, kind: string, query: Record<string, unknown>, lastId: string) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (k !== 'marker' && typeof v === 'string') q.set(k, v);
    q.set('marker', lastId);
    return [{ href: `${this.root}/v3/${project}/${kind}?${q.toString()}`, rel: 'next' }];
  }

  attachment(x: VolumeAttachment) {
    return {
      server_id: x.instanceId,
      attachment_id: x.id,
      attached_at: x.attachedAt,
      host_name: x.hostName,
      volume_id: x.volumeId,
      device: x.device,
      id: x.volumeId,
    };
  }

  volumeBrief(v: Volume, project: string) {
    return { id: v.id, name: v.name, links: this.links(project, 'volumes', v.id) };
  }

  /**
   * `extensions` adds the attributes Cinder's extensions put on show and detail only (tenant, host, migration, image
   * metadata);
   * create and update answer without them, and Tempest's schemas for those responses refuse them.
   */
  volume(v: Volume, ver: ApiVersion, admin: boolean, project: string, extensions = true) {
    const out: Record<string, unknown> = {
      id: v.id,
      name: v.name,
      description: v.description,
      size: v.size,
      status: v.status,
      availability_zone: v.availabilityZone,
      created_at: v.createdAt,
      updated_at: v.updatedAt,
      volume_type: v.volumeTypeName,
      snapshot_id: v.snapshotId,
      source_volid: v.sourceVolid,
      metadata: { ...v.metadata, ...v.visibleAdminMetadata },
      links: this.links(project, 'volumes', v.id),
      user_id: v.userId,
      bootable: String(v.bootable),
      encrypted: false,
      replication_status: null,
      consistencygroup_id: null,
      multiattach: v.multiattach,
      migration_status: v.migrationStatus,
      attachments: v.attachments.filter((x) => x.attachStatus === 'attached').map((x) => this.attachment(x)),
    };
    if (extensions) out['os-vol-tenant-attr:tenant_id'] = v.projectId;
    if (extensions && Object.keys(v.imageMetadata).length) out.volume_image_metadata = v.imageMetadata;
    if (admin && extensions) {
      out['os-vol-host-attr:host'] = v.host;
      out['os-vol-mig-status-attr:migstat'] = v.migrationStatus;
      out['os-vol-mig-status-attr:name_id'] = null;
    }
    if (ver.atLeast('3.13')) out.group_id = null;
    if (ver.atLeast('3.21') && admin) out.provider_id = null;
    if (ver.atLeast('3.48')) {
      out.shared_targets = false;
      out.service_uuid = null;
    }
    if (ver.atLeast('3.61') && admin) out.cluster_name = null;
    if (ver.atLeast('3.63')) out.volume_type_id = v.volumeTypeId;
    return out;
  }

  snapshot(s: Snapshot, ver: ApiVersion, detail: boolean) {
    const out: Record<string, unknown> = {
      id: s.id,
      name: s.name,
      description: s.description,
      volume_id: s.volumeId,
      status: s.status,
      size: s.size,
      metadata: s.metadata,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
    };
    if (detail) {
      out['os-extended-snapshot-attributes:progress'] = s.progress;
      out['os-extended-snapshot-attributes:project_id'] = s.projectId;
    }
    if (ver.atLeast('3.14')) out.group_snapshot_id = null;
    if (ver.atLeast('3.41')) out.user_id = s.userId;
    return out;
  }

  volumeType(t: VolumeType, admin: boolean, withQos = true) {
    const out: Record<string, unknown> = {
      id: t.id,
      name: t.name,
      description: t.description,
      is_public: t.isPublic,
      'os-volume-type-access:is_public': t.isPublic,
    };
    // Extra specs and the QoS link are shown to admins (Cinder's type_get policy hides them from others).
    if (admin) {
      out.extra_specs = t.extraSpecs;
      if (withQos) out.qos_specs_id = t.qosSpecsId;
    }
    return out;
  }

  message(m: UserMessage, project: string) {
    return {
      id: m.id,
      message_level: m.messageLevel,
      event_id: m.eventId,
      user_message: m.userMessage,
      resource_type: m.resourceType,
      resource_uuid: m.resourceUuid,
      created_at: m.createdAt,
      guaranteed_until: m.guaranteedUntil,
      request_id: m.requestId,
      links: this.links(project, 'messages', m.id),
    };
  }
}
