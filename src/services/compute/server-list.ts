// Server list: Nova's filters (in SQL where a column holds the value, in memory for name regexes, IPs, tags and
// status), its sort keys and marker pagination.
import { badRequest } from '../../errors.js';
import type { InstanceRow } from '../../store/compute-tables.js';
import { type AuthContext, type ComputeDeps, isAdmin } from './common.js';
import { imageIdFromRef } from './server-checks.js';
import { statesForStatus, statusOf } from './states.js';

/** Filters of a server list, as the API parsed them. */
export interface ServerListQuery {
  allTenants: boolean;
  projectId?: string;
  userId?: string;
  name?: string;
  status?: string;
  host?: string;
  image?: string;
  flavor?: string;
  ip?: string;
  ip6?: string;
  changesSince?: string;
  changesBefore?: string;
  reservationId?: string;
  availabilityZone?: string;
  deleted?: boolean;
  locked?: boolean;
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
  vmState?: string;
  taskState?: string;
  keyName?: string;
  sortKeys: string[];
  sortDirs: ('asc' | 'desc')[];
  limit?: number;
  marker?: string;
}

/** Nova's sort keys → our columns. */
const SORT_KEYS: Record<string, keyof InstanceRow> = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  display_name: 'name',
  id: 'id',
  uuid: 'id',
  hostname: 'hostname',
  host: 'host',
  node: 'node',
  vm_state: 'vm_state',
  task_state: 'task_state',
  power_state: 'power_state',
  availability_zone: 'availability_zone',
  launched_at: 'launched_at',
  terminated_at: 'terminated_at',
  key_name: 'key_name',
  project_id: 'project_id',
  user_id: 'user_id',
  image_ref: 'image_ref',
  instance_type_id: 'flavor_id',
  locked: 'locked',
  display_description: 'description',
  launch_index: 'launch_index',
  progress: 'progress',
  root_device_name: 'name',
  config_drive: 'config_drive',
  kernel_id: 'image_ref',
  ramdisk_id: 'image_ref',
  access_ip_v4: 'access_ip_v4',
  access_ip_v6: 'access_ip_v6',
  reservation_id: 'reservation_id',
  vcpus: 'vcpus',
  memory_mb: 'memory_mb',
  root_gb: 'root_gb',
};

/** Lists with Nova's filters, sorting and marker pagination. */
export async function listServers(d: ComputeDeps, ctx: AuthContext, q: ServerListQuery): Promise<InstanceRow[]> {
  let query = d.db.selectFrom('compute_instances').selectAll();
  const admin = isAdmin(ctx);
  if (!admin || !q.allTenants)
    query = query.where('project_id', '=', admin && q.projectId ? q.projectId : (ctx.projectId ?? '-'));
  else if (q.projectId) query = query.where('project_id', '=', q.projectId);
  if (q.deleted && admin) query = query.where('deleted', '=', 1);
  else if (!q.changesSince && !q.changesBefore) query = query.where('deleted', '=', 0);
  if (q.userId) query = query.where('user_id', '=', q.userId);
  if (q.host && admin) query = query.where('host', '=', q.host);
  if (q.image) query = query.where('image_ref', '=', imageIdFromRef(q.image));
  if (q.flavor) query = query.where('flavor_id', '=', q.flavor);
  if (q.reservationId) query = query.where('reservation_id', '=', q.reservationId);
  if (q.availabilityZone) query = query.where('availability_zone', '=', q.availabilityZone);
  if (q.changesSince) query = query.where('updated_at', '>=', new Date(q.changesSince).toISOString());
  if (q.changesBefore) query = query.where('updated_at', '<=', new Date(q.changesBefore).toISOString());
  if (q.locked !== undefined) query = query.where('locked', '=', q.locked ? 1 : 0);
  if (q.vmState) query = query.where('vm_state', '=', q.vmState);
  if (q.taskState) query = query.where('task_state', '=', q.taskState);
  if (q.keyName) query = query.where('key_name', '=', q.keyName);
  if (q.status) {
    const vms = [...new Set(statesForStatus(q.status).map((p) => p.vm))];
    if (vms.length === 0) return [];
    query = query.where('vm_state', 'in', vms);
  }
  const keys = q.sortKeys.length ? q.sortKeys : ['created_at'];
  keys.forEach((k, i) => {
    const col = SORT_KEYS[k];
    if (!col) throw badRequest(`Invalid sort key: ${k}`);
    query = query.orderBy(col, q.sortDirs[i] ?? q.sortDirs[0] ?? 'desc');
  });
  query = query.orderBy('id', q.sortDirs[0] ?? 'desc');
  const needsMemoryFilter = !!(q.name || q.ip || q.ip6 || q.tags || q.tagsAny || q.notTags || q.notTagsAny || q.status);
  if (!needsMemoryFilter && q.marker === undefined && q.limit !== undefined) query = query.limit(q.limit);
  let rows = await query.execute();
  if (q.status) rows = rows.filter((r) => statusOf(r.vm_state, r.task_state) === q.status!.toUpperCase());
  if (q.name) {
    let re: RegExp;
    try {
      re = new RegExp(q.name);
    } catch {
      re = new RegExp(q.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    }
    rows = rows.filter((r) => re.test(r.name));
  }
  if (q.ip || q.ip6) {
    const re = new RegExp((q.ip ?? q.ip6)!.replace(/\./g, '\\.'));
    rows = rows.filter((r) =>
      (JSON.parse(r.ports) as { fixedIps: { ipAddress: string }[]; floatingIps: string[] }[]).some(
        (p) => p.fixedIps.some((f) => re.test(f.ipAddress)) || p.floatingIps.some((f) => re.test(f)),
      ),
    );
  }
  const tagsOf = (r: InstanceRow) => new Set(JSON.parse(r.tags) as string[]);
  // tags: all of them; tags-any: one of them; not-tags: not all of them; not-tags-any: none of them.
  const tagFilters: [string[] | undefined, (has: Set<string>, want: string[]) => boolean][] = [
    [q.tags, (has, want) => want.every((x) => has.has(x))],
    [q.tagsAny, (has, want) => want.some((x) => has.has(x))],
    [q.notTags, (has, want) => !want.every((x) => has.has(x))],
    [q.notTagsAny, (has, want) => !want.some((x) => has.has(x))],
  ];
  for (const [want, keep] of tagFilters) if (want) rows = rows.filter((r) => keep(tagsOf(r), want));
  if (q.marker !== undefined) {
    const i = rows.findIndex((r) => r.id === q.marker);
    if (i < 0) throw badRequest(`marker [${q.marker}] not found`, { code: 'MarkerNotFound' });
    rows = rows.slice(i + 1);
  }
  if (q.limit !== undefined) rows = rows.slice(0, q.limit);
  return rows;
}
