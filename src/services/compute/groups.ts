import { badRequest, conflict, notFound, overQuota } from '../../errors.js';
import { isUniqueViolation } from '../../store/database.js';
import type { AggregateRow, ServerGroupRow } from '../../store/compute-tables.js';
import { uuid } from '../../util/ids.js';
import { type AuthContext, type ComputeDeps, isAdmin, nextIntId, nowIso, parseJson, withIdRetry } from './common.js';
import type { QuotaService } from './quotas.js';

export const GROUP_POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'];

/** A server group with its members. */
export interface ServerGroup extends ServerGroupRow {
  members: string[];
}

/** os-server-groups. */
export class ServerGroupService {
  constructor(
    private readonly d: ComputeDeps,
    private readonly quotas: QuotaService,
  ) {}

  async create(ctx: AuthContext, name: string, policy: string, rules: Record<string, unknown>): Promise<ServerGroup> {
    if (!ctx.projectId) throw badRequest('A project-scoped token is required.');
    if (!GROUP_POLICIES.includes(policy))
      throw badRequest(`Invalid input for field/attribute policy. Value: ${policy}.`);
    if (Object.keys(rules).length && policy !== 'anti-affinity')
      throw badRequest('Only anti-affinity policy supports rules.');
    const limit = await this.quotas.limitFor(ctx.projectId, 'server_groups');
    const row: ServerGroupRow = {
      id: uuid(),
      name,
      project_id: ctx.projectId,
      user_id: ctx.userId,
      policy,
      rules: JSON.stringify(rules),
      created_at: nowIso(),
    };
    await this.d.db.transaction().execute(async (trx) => {
      const n = await trx
        .selectFrom('compute_server_groups')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project_id', '=', ctx.projectId!)
        .executeTakeFirstOrThrow();
      if (limit >= 0 && Number(n.n) >= limit)
        throw overQuota('Quota exceeded, too many server groups.', { code: 'QuotaError' });
      await trx.insertInto('compute_server_groups').values(row).execute();
    });
    return { ...row, members: [] };
  }

  private async members(ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(ids.map((i) => [i, []]));
    if (ids.length === 0) return out;
    const rows = await this.d.db
      .selectFrom('compute_server_group_members')
      .innerJoin('compute_instances', 'compute_instances.id', 'compute_server_group_members.instance_id')
      .select(['group_id', 'instance_id'])
      .where('group_id', 'in', ids)
      .where('compute_instances.deleted', '=', 0)
      .execute();
    for (const r of rows) out.get(r.group_id)!.push(r.instance_id);
    return out;
  }

  async get(ctx: AuthContext, id: string): Promise<ServerGroup> {
    const r = await this.d.db.selectFrom('compute_server_groups').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r || (!isAdmin(ctx) && r.project_id !== ctx.projectId))
      throw notFound(`Instance group ${id} could not be found.`, { code: 'InstanceGroupNotFound' });
    return { ...r, members: (await this.members([r.id])).get(r.id)! };
  }

  async list(
    ctx: AuthContext,
    opts: { allProjects: boolean; limit?: number; offset?: number },
  ): Promise<ServerGroup[]> {
    let q = this.d.db.selectFrom('compute_server_groups').selectAll().orderBy('created_at').orderBy('id');
    if (!(opts.allProjects && isAdmin(ctx))) q = q.where('project_id', '=', ctx.projectId ?? '-');
    let rows = await q.execute();
    rows = rows.slice(opts.offset ?? 0, opts.limit !== undefined ? (opts.offset ?? 0) + opts.limit : undefined);
    const m = await this.members(rows.map((r) => r.id));
    return rows.map((r) => ({ ...r, members: m.get(r.id)! }));
  }

  async delete(ctx: AuthContext, id: string): Promise<void> {
    await this.get(ctx, id);
    await this.d.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('compute_server_group_members').where('group_id', '=', id).execute();
      await trx.deleteFrom('compute_server_groups').where('id', '=', id).execute();
    });
  }
}

/** A host aggregate with its hosts. */
export interface Aggregate extends AggregateRow {
  hosts: string[];
  meta: Record<string, string>;
}

/** os-aggregates (admin); an availability_zone on an aggregate makes its hosts that zone. */
export class AggregateService {
  constructor(
    private readonly d: ComputeDeps,
    private readonly onChange: () => void,
    private readonly defaultAz: string,
  ) {}

  private async view(r: AggregateRow): Promise<Aggregate> {
    const hosts = (
      await this.d.db
        .selectFrom('compute_aggregate_hosts')
        .select('host')
        .where('aggregate_id', '=', r.id)
        .orderBy('host')
        .execute()
    ).map((h) => h.host);
    const meta = parseJson<Record<string, string>>(r.metadata, {});
    return { ...r, hosts, meta };
  }

  async list(): Promise<Aggregate[]> {
    const rows = await this.d.db.selectFrom('compute_aggregates').selectAll().orderBy('id').execute();
    return Promise.all(rows.map((r) => this.view(r)));
  }

  async get(id: number): Promise<Aggregate> {
    const r = Number.isInteger(id)
      ? await this.d.db.selectFrom('compute_aggregates').selectAll().where('id', '=', id).executeTakeFirst()
      : undefined;
    if (!r) throw notFound(`Aggregate ${id} could not be found.`, { code: 'AggregateNotFound' });
    return this.view(r);
  }

  private checkAz(az: string | null | undefined): void {
    if (az !== undefined && az !== null && (az.length === 0 || az.length > 255 || az.includes(':'))) {
      throw badRequest(`Invalid input for field/attribute availability_zone. Value: ${az}.`);
    }
  }

  async create(name: string, az: string | null): Promise<Aggregate> {
    if (name.trim().length === 0 || name.length > 255)
      throw badRequest(`Invalid input for field/attribute name. Value: ${name}.`);
    this.checkAz(az);
    const now = nowIso();
    try {
      const id = await withIdRetry(() =>
        this.d.db.transaction().execute(async (trx) => {
          const n = await nextIntId(trx, 'compute_aggregates');
          if (await trx.selectFrom('compute_aggregates').select('id').where('name', '=', name).executeTakeFirst()) {
            throw conflict(`Aggregate ${name} already exists.`, { code: 'AggregateNameExists' });
          }
          await trx
            .insertInto('compute_aggregates')
            .values({
              id: n,
              uuid: uuid(),
              name,
              availability_zone: az,
              metadata: JSON.stringify(az ? { availability_zone: az } : {}),
              created_at: now,
              updated_at: null,
            })
            .execute();
          return n;
        }),
      );
      this.onChange();
      return this.get(id);
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Aggregate ${name} already exists.`, { code: 'AggregateNameExists' });
      throw e;
    }
  }

  async update(id: number, change: { name?: string; availabilityZone?: string | null }): Promise<Aggregate> {
    const a = await this.get(id);
    this.checkAz(change.availabilityZone);
    const meta = { ...a.meta };
    const set: Partial<AggregateRow> = { updated_at: nowIso() };
    if (change.name !== undefined) {
      const other = await this.d.db
        .selectFrom('compute_aggregates')
        .select('id')
        .where('name', '=', change.name)
        .where('id', '!=', id)
        .executeTakeFirst();
      if (other) throw conflict(`Aggregate ${change.name} already exists.`, { code: 'AggregateNameExists' });
      set.name = change.name;
    }
    if (change.availabilityZone !== undefined) {
      set.availability_zone = change.availabilityZone;
      if (change.availabilityZone) meta.availability_zone = change.availabilityZone;
      else delete meta.availability_zone;
      set.metadata = JSON.stringify(meta);
    }
    await this.d.db.updateTable('compute_aggregates').set(set).where('id', '=', id).execute();
    this.onChange();
    return this.get(id);
  }

  async delete(id: number): Promise<void> {
    const a = await this.get(id);
    if (a.hosts.length)
      throw badRequest(`Cannot remove aggregate ${id}: it still has hosts.`, { code: 'InvalidAggregateAction' });
    await this.d.db.deleteFrom('compute_aggregates').where('id', '=', id).execute();
    this.onChange();
  }

  async addHost(id: number, host: string): Promise<Aggregate> {
    const a = await this.get(id);
    const svc = await this.d.db
      .selectFrom('compute_services')
      .select('id')
      .where('host', '=', host)
      .where('binary', '=', 'nova-compute')
      .executeTakeFirst();
    if (!svc) throw notFound(`Compute host ${host} could not be found.`, { code: 'ComputeHostNotFound' });
    if (a.hosts.includes(host))
      throw conflict(`Aggregate ${id} already has host ${host}.`, { code: 'AggregateHostExists' });
    if (a.availability_zone) {
      const other = await this.d.db
        .selectFrom('compute_aggregate_hosts')
        .innerJoin('compute_aggregates', 'compute_aggregates.id', 'compute_aggregate_hosts.aggregate_id')
        .select('compute_aggregates.availability_zone as az')
        .where('host', '=', host)
        .where('compute_aggregates.availability_zone', 'is not', null)
        .executeTakeFirst();
      if (other && other.az !== a.availability_zone) {
        throw conflict(
          `Cannot add host to aggregate ${id}. Reason: One or more hosts already in availability zone(s) ` +
            `['${other.az}'].`,
          { code: 'InvalidAggregateAction' },
        );
      }
    }
    await this.d.db.insertInto('compute_aggregate_hosts').values({ aggregate_id: id, host }).execute();
    this.onChange();
    return this.get(id);
  }

  async removeHost(id: number, host: string): Promise<Aggregate> {
    await this.get(id);
    const r = await this.d.db
      .deleteFrom('compute_aggregate_hosts')
      .where('aggregate_id', '=', id)
      .where('host', '=', host)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0)
      throw notFound(`Cannot remove host ${host} in aggregate ${id}`, { code: 'AggregateHostNotFound' });
    this.onChange();
    return this.get(id);
  }

  async setMetadata(id: number, md: Record<string, string | null>): Promise<Aggregate> {
    const a = await this.get(id);
    const meta = { ...a.meta };
    let az = a.availability_zone;
    for (const [k, v] of Object.entries(md)) {
      if (k.length === 0 || k.length > 255)
        throw badRequest(`Invalid input for field/attribute metadata. Value: ${k}.`);
      if (v === null) {
        delete meta[k];
        if (k === 'availability_zone') az = null;
      } else {
        if (typeof v !== 'string' || v.length > 255)
          throw badRequest(`Invalid input for field/attribute metadata. Value: ${String(v)}.`);
        meta[k] = v;
        if (k === 'availability_zone') {
          this.checkAz(v);
          az = v;
        }
      }
    }
    await this.d.db
      .updateTable('compute_aggregates')
      .set({ metadata: JSON.stringify(meta), availability_zone: az, updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
    this.onChange();
    return this.get(id);
  }

  get defaultZone(): string {
    return this.defaultAz;
  }
}
