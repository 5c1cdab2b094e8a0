// Where a new server may go, read from the request before the create transaction: the availability zone (and an
// admin's forced "zone:host"), the server group it joins, and the same_host/different_host hints.
import { badRequest, forbidden, overQuota } from '../../errors.js';
import { type AuthContext, type ComputeDeps, isAdmin } from './common.js';
import type { HostService } from './hosts.js';
import type { QuotaService } from './quotas.js';

/** The server group a create joins, as the scheduler needs it. */
export interface GroupPlacement {
  id: string;
  policy: string;
  maxPerHost: number;
}

/** "zone", "zone:host" or ":host" (admin only) → the zone and the forced host, each checked to exist. */
export async function resolveAz(
  d: ComputeDeps,
  hosts: HostService,
  defaultAz: string,
  ctx: AuthContext,
  az: string | null | undefined,
): Promise<{ az: string | null; forceHost: string | null }> {
  if (!az) return { az: null, forceHost: null };
  const parts = az.split(':');
  const zone = parts[0] || null;
  const host = parts[1] || null;
  if (host) {
    if (!isAdmin(ctx))
      throw forbidden(`Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.`);
    const node = await d.db
      .selectFrom('compute_nodes')
      .select('host')
      .where((eb) => eb.or([eb('host', '=', host), eb('hypervisor_hostname', '=', host)]))
      .executeTakeFirst();
    if (!node) throw badRequest(`Compute host ${host} could not be found.`, { code: 'ComputeHostNotFound' });
  }
  if (zone) {
    const zones = new Set([defaultAz, ...(await hosts.hostZones()).values()]);
    if (!zones.has(zone))
      throw badRequest('The requested availability zone is not available', { code: 'InvalidRequest' });
  }
  return { az: zone, forceHost: host };
}

/** The server group named by the "group" hint (visible to the caller, with room for minCount more members). */
export async function groupFromHint(
  d: ComputeDeps,
  quotas: QuotaService,
  ctx: AuthContext,
  projectId: string,
  groupHint: unknown,
  minCount: number,
): Promise<GroupPlacement | null> {
  if (groupHint === undefined) return null;
  const g = await d.db
    .selectFrom('compute_server_groups')
    .selectAll()
    .where('id', '=', String(groupHint))
    .executeTakeFirst();
  if (!g || (g.project_id !== projectId && !isAdmin(ctx)))
    throw badRequest(`Invalid server group ${String(groupHint)}`, { code: 'InvalidServerGroup' });
  const rules = JSON.parse(g.rules) as { max_server_per_host?: number };
  const limit = await quotas.limitFor(projectId, 'server_group_members');
  const members = await d.db
    .selectFrom('compute_server_group_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('group_id', '=', g.id)
    .executeTakeFirstOrThrow();
  if (limit >= 0 && Number(members.n) + minCount > limit)
    throw overQuota('Quota exceeded, too many servers in group', { code: 'QuotaError' });
  return { id: g.id, policy: g.policy, maxPerHost: rules.max_server_per_host ?? 1 };
}

/** The hosts of the live instances a same_host/different_host hint names; null when the hint is absent. */
export async function hintHosts(d: ComputeDeps, hints: Record<string, unknown>, key: string): Promise<string[] | null> {
  const v = hints[key];
  if (v === undefined) return null;
  const ids = (Array.isArray(v) ? v : [v]).map(String);
  const rows = await d.db
    .selectFrom('compute_instances')
    .select(['id', 'host'])
    .where('id', 'in', ids.length ? ids : ['-'])
    .where('deleted', '=', 0)
    .execute();
  return rows.map((r) => r.host).filter((h): h is string => !!h);
}
