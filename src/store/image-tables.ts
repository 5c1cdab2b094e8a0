/** Row types of Glance's tables (see migrations/2026112202-image.ts). Booleans are 0/1; JSON is text. */
export interface ImageRow {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  protected: number;
  os_hidden: number;
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
  /** Comma-separated store ids holding the data ('' when none). */
  stores: string;
  /** Bytes held in the staging area for this image (0 when nothing is staged). */
  staged_size: number;
  created_at: string;
  updated_at: string;
}
export interface ImagePropertyRow {
  image_id: string;
  name: string;
  value: string;
}
export interface ImageTagRow {
  image_id: string;
  tag: string;
}
export interface ImageMemberRow {
  image_id: string;
  member_id: string;
  status: string;
  created_at: string;
  updated_at: string;
}
export interface ImageTaskRow {
  id: string;
  image_id: string;
  type: string;
  status: string;
  owner: string | null;
  user_id: string | null;
  request_id: string | null;
  input: string;
  result: string | null;
  message: string;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
}
export interface MetadefNamespaceRow {
  namespace: string;
  display_name: string | null;
  description: string | null;
  visibility: string;
  protected: number;
  owner: string | null;
  created_at: string;
  updated_at: string;
}
export interface MetadefResourceTypeRow {
  name: string;
  protected: number;
  created_at: string;
  updated_at: string;
}
export interface MetadefNsResourceTypeRow {
  namespace: string;
  resource_type: string;
  prefix: string | null;
  properties_target: string | null;
  created_at: string;
  updated_at: string;
}
/** Objects and properties keep their definition as JSON text. */
export interface MetadefObjectRow {
  namespace: string;
  name: string;
  body: string;
  created_at: string;
  updated_at: string;
}
export interface MetadefPropertyRow {
  namespace: string;
  name: string;
  body: string;
  created_at: string;
  updated_at: string;
}
export interface MetadefTagRow {
  namespace: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface ImageTables {
  images: ImageRow;
  image_properties: ImagePropertyRow;
  image_tags: ImageTagRow;
  image_members: ImageMemberRow;
  image_tasks: ImageTaskRow;
  metadef_namespaces: MetadefNamespaceRow;
  metadef_resource_types: MetadefResourceTypeRow;
  metadef_ns_resource_types: MetadefNsResourceTypeRow;
  metadef_objects: MetadefObjectRow;
  metadef_properties: MetadefPropertyRow;
  metadef_tags: MetadefTagRow;
}
