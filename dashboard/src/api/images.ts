// Glance v2 beyond the list: one image with its custom properties, edits as a JSON patch (only what changed),
// members (sharing with projects), the images shared with this project, and what the golden-image factory records.
import { useQuery } from '@tanstack/react-query';
import { call, get } from './client';
import { useSession } from './session';
import type { Image } from './types';

/** An image as Glance answers it: the core fields and every custom property as a top-level string. */
export type ImageRecord = Image & { tags: string[]; checksum?: string | null; os_hash_value?: string | null } & Record<string, unknown>;

export interface Member { member_id: string; image_id: string; status: 'pending' | 'accepted' | 'rejected'; created_at: string; updated_at: string }

/** Fields Glance owns or the edit form handles: everything else is a custom property. */
const CORE = new Set([
  'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'checksum', 'os_hash_algo', 'os_hash_value', 'owner',
  'size', 'virtual_size', 'min_disk', 'min_ram', 'container_format', 'disk_format', 'created_at', 'updated_at', 'tags',
  'file', 'self', 'schema', 'direct_url', 'locations', 'stores',
]);

/** The golden-image factory's audit result: `gureum image publish`/`audit --image` write it as this property. */
export const AUDIT_PROPERTY = 'gureum_audit';

export function customProperties(img: ImageRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(img)) if (!CORE.has(k) && v !== null && v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

export interface ImageEdits {
  name: string;
  min_disk: number;
  min_ram: number;
  visibility: string;
  protected: boolean;
  tags: string[];
  properties: Record<string, string>;
}

export const editsOf = (img: ImageRecord): ImageEdits => ({
  name: img.name ?? '', min_disk: img.min_disk, min_ram: img.min_ram, visibility: img.visibility, protected: img.protected,
  tags: [...img.tags], properties: customProperties(img),
});

const pointer = (key: string) => `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** RFC 6902 operations turning `before` into `after`: only the fields that differ. */
export function patchOps(before: ImageEdits, after: ImageEdits): { op: 'add' | 'replace' | 'remove'; path: string; value?: unknown }[] {
  const ops: { op: 'add' | 'replace' | 'remove'; path: string; value?: unknown }[] = [];
  for (const k of ['name', 'min_disk', 'min_ram', 'visibility', 'protected'] as const) {
    if (before[k] !== after[k]) ops.push({ op: 'replace', path: `/${k}`, value: after[k] });
  }
  if (before.tags.join('\n') !== after.tags.join('\n')) ops.push({ op: 'replace', path: '/tags', value: after.tags });
  for (const k of Object.keys(before.properties)) if (!(k in after.properties)) ops.push({ op: 'remove', path: pointer(k) });
  for (const [k, v] of Object.entries(after.properties)) {
    if (!(k in before.properties)) ops.push({ op: 'add', path: pointer(k), value: v });
    else if (before.properties[k] !== v) ops.push({ op: 'replace', path: pointer(k), value: v });
  }
  return ops;
}

export async function patchImage(id: string, ops: ReturnType<typeof patchOps>): Promise<ImageRecord> {
  return (await call<ImageRecord>('image', `/v2/images/${id}`, {
    method: 'PATCH', body: ops, headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' },
  })).data;
}

export function useImage(id: string) {
  const s = useSession();
  return useQuery({
    queryKey: ['image', s.project.id, id],
    queryFn: () => get<ImageRecord>('image', `/v2/images/${id}`),
    refetchInterval: (q) => (['queued', 'saving', 'importing'].includes(q.state.data?.status ?? '') ? 2000 : 30_000),
  });
}

export function useImageMembers(id: string, enabled: boolean) {
  const s = useSession();
  return useQuery({
    queryKey: ['image-members', s.project.id, id],
    queryFn: async () => (await get<{ members: Member[] }>('image', `/v2/images/${id}/members`)).members,
    enabled,
  });
}

/** Images other projects shared with this one, with this project's answer (three lists: Glance filters by it). */
export function useSharedWithMe() {
  const s = useSession();
  return useQuery({
    queryKey: ['images-shared', s.project.id],
    queryFn: async () => {
      const lists = await Promise.all((['pending', 'accepted', 'rejected'] as const).map(async (status) =>
        (await get<{ images: ImageRecord[] }>('image', `/v2/images?visibility=shared&member_status=${status}&limit=1000`)).images
          .filter((i) => i.owner !== s.project.id)
          .map((image) => ({ image, status }))));
      return lists.flat();
    },
  });
}
