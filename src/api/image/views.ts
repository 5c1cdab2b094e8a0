// How Glance shows images, members and tasks.
import type { Image, ImageMember, ImageTask } from '../../services/image/index.js';

/** An image as GET /v2/images/{id} returns it: custom properties flattened beside the core attributes. */
export function imageView(img: Image): Record<string, unknown> {
  const v: Record<string, unknown> = { ...img.properties };
  Object.assign(v, {
    name: img.name,
    disk_format: img.disk_format,
    container_format: img.container_format,
    visibility: img.visibility,
    size: img.size,
    virtual_size: img.virtual_size,
    status: img.status,
    checksum: img.checksum,
    protected: img.protected,
    min_ram: img.min_ram,
    min_disk: img.min_disk,
    owner: img.owner,
    os_hidden: img.os_hidden,
    os_hash_algo: img.os_hash_algo,
    os_hash_value: img.os_hash_value,
    id: img.id,
    created_at: img.created_at,
    updated_at: img.updated_at,
    tags: img.tags,
    self: `/v2/images/${img.id}`,
    file: `/v2/images/${img.id}/file`,
    schema: '/v2/schemas/image',
  });
  if (img.stores.length) v.stores = img.stores.join(',');
  return v;
}

export function memberView(m: ImageMember): Record<string, unknown> {
  return {
    created_at: m.created_at,
    updated_at: m.updated_at,
    image_id: m.image_id,
    member_id: m.member_id,
    status: m.status,
    schema: '/v2/schemas/member',
  };
}

export function taskView(t: ImageTask): Record<string, unknown> {
  return { ...t };
}
