import { sql } from 'kysely';
import { badRequest, overQuota } from '../../errors.js';
import { type ComputeDeps, type Db, nowIso } from './common.js';

/** Nova's quota resources and their default limits (nova.conf [quota] defaults). */
export const QUOTA_DEFAULTS: Record<string, number> = {
  instances: 10,
  cores: 20,
  ram: 51200,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  key_pairs: 100,
  server_groups: 10,
  server_group_members: 10,
  // Network resources Nova proxied before 2.36 (shown, not enforced here: the network service owns them).
  floating_ips: 10,
  fixed_ips: -1,
  security_groups: 10,
  security_group_rules: 20,
  networks: 3,
};

/** Resources shown at a microversion (2.36 drops the network proxies, 2.57 the injected files). */
export function quotaResources(mv: { atLeast(v: string): boolean }): string[] {
  const base = ['instances', 'cores', 'ram', 'metadata_items', 'key_pairs', 'server_groups', 'server_group_members'];
  const files = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];
  const net = ['floating_ips', 'fixed_ips', 'security_groups', 'security_group_rules'];
  if (mv.atLeast('2.57')) return base;
  if (mv.atLeast('2.36')) return [...base, ...files];
  return [...base, ...files, ...net];
}

/** What instance creation asks for. */
export interface InstanceDelta {
  instances: number;
  cores: number;
  ram: number;
}

/** Project quotas, the default class, and usage counters updated in the same transaction as the instances. */
export class QuotaService {
  constructor(private readonly d: ComputeDeps) {}

  /** The class defaults (class "default" rows override the built-in numbers). */
  async classLimits(name = 'default', trx: Db = this.d.db): Promise<Record<string, number>> {
    const rows = await trx
      .selectFrom('compute_quotas')
      .selectAll()
      .where('scope', '=', 'class')
      .where('target', '=', name)
      .execute();
    const out = { ...QUOTA_DEFAULTS };
    for (const r of rows) out[r.resource] = r.hard_limit;
    return out;
  }

  /** Effective limits of a project. */
  async limits(projectId: string | undefined, trx: Db = this.d.db): Promise<Record<string, number>> {
    const out = await this.classLimits('default', trx);
    if (!projectId) return out;
    const rows = await trx
      .selectFrom('compute_quotas')
      .selectAll()
      .where('scope', '=', 'project')
      .where('target', '=', projectId)
      .execute();
    for (const r of rows) out[r.resource] = r.hard_limit;
    return out;
  }

  async limitFor(projectId: string | undefined, resource: string): Promise<number> {
    return (await this.limits(projectId))[resource] ?? -1;
  }

  /** Usage a project has now, per resource Nova counts. */
  async usage(projectId: string, userId?: string): Promise<Record<string, number>> {
    const u = await this.d.db
      .selectFrom('compute_usages')
      .selectAll()
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    const groups = await this.d.db
      .selectFrom('compute_server_groups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    let keys = 0;
    if (userId) {
      const k = await this.d.db
        .selectFrom('compute_keypairs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      keys = Number(k.n);
    }
    return {
      instances: Number(u?.instances ?? 0),
      cores: Number(u?.cores ?? 0),
      ram: Number(u?.ram ?? 0),
      server_groups: Number(groups.n),
      key_pairs: keys,
      metadata_items: 0,
      injected_files: 0,
      injected_file_content_bytes: 0,
      injected_file_path_bytes: 0,
      server_group_members: 0,
      floating_ips: 0,
      fixed_ips: 0,
      security_groups: 0,
      security_group_rules: 0,
    };
  }

  /**
   * Checks and takes `delta` of a project's instances/cores/ram inside the caller's transaction. The usage row is
   * locked (PostgreSQL `FOR UPDATE`; SQLite has one writer), so concurrent creates cannot both pass the check.
   * Throws Nova's 403 when over quota.
   */
  async reserve(trx: Db, projectId: string, delta: InstanceDelta): Promise<void> {
    await this.lockUsage(trx, projectId);
    const u = await trx
      .selectFrom('compute_usages')
      .selectAll()
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    const lim = await this.limits(projectId, trx);
    const overs: string[] = [];
    const used: Record<string, number> = { instances: Number(u.instances), cores: Number(u.cores), ram: Number(u.ram) };
    for (const k of ['instances', 'cores', 'ram'] as const) {
      const l = lim[k]!;
      if (l >= 0 && delta[k] > 0 && used[k]! + delta[k] > l) overs.push(k);
    }
    if (overs.length > 0) {
      const req = overs.map((k) => delta[k as keyof InstanceDelta]).join(', ');
      const usedS = overs.map((k) => used[k]).join(', ');
      const allowed = overs.map((k) => lim[k]).join(', ');
      throw overQuota(
        `Quota exceeded for ${overs.join(', ')}: Requested ${req}, but already used ${usedS} of ${allowed} ` +
          `${overs.join(', ')}`,
        { code: 'TooManyInstances' },
      );
    }
    await this.add(trx, projectId, delta);
  }

  /** Adds (or with negative numbers releases) usage without a check. */
  async add(trx: Db, projectId: string, delta: InstanceDelta): Promise<void> {
    await this.lockUsage(trx, projectId);
    await trx
      .updateTable('compute_usages')
      .set({
        instances: sql<number>`instances + ${delta.instances}`,
        cores: sql<number>`cores + ${delta.cores}`,
        ram: sql<number>`ram + ${delta.ram}`,
        updated_at: nowIso(),
      })
      .where('project_id', '=', projectId)
      .execute();
  }

  private async lockUsage(trx: Db, projectId: string): Promise<void> {
    const q = trx.selectFrom('compute_usages').select('project_id').where('project_id', '=', projectId);
    const hit = this.d.dialect === 'postgres' ? await q.forUpdate().executeTakeFirst() : await q.executeTakeFirst();
    if (hit) return;
    await trx
      .insertInto('compute_usages')
      .values({ project_id: projectId, instances: 0, cores: 0, ram: 0, updated_at: nowIso() })
      .onConflict((oc) => oc.column('project_id').doNothing())
      .execute();
    if (this.d.dialect === 'postgres') await q.forUpdate().executeTakeFirst();
  }

  /** Admin update with Nova's checks; values below current usage need `force`. */
  async update(projectId: string, values: Record<string, number>, force: boolean): Promise<void> {
    const usage = await this.usage(projectId);
    for (const [k, v] of Object.entries(values)) {
      if (!(k in QUOTA_DEFAULTS)) throw badRequest(`Bad key(s) ${k} in quota_set`);
      if (!Number.isInteger(v) || v < -1) throw badRequest(`Quota limit ${v} for ${k} must be -1 or greater.`);
      if (!force && v >= 0 && (usage[k] ?? 0) > v) {
        throw badRequest(
          `Quota limit ${v} for ${k} must be greater than or equal to already used and reserved ${usage[k]}.`,
        );
      }
    }
    await this.d.db.transaction().execute(async (trx) => {
      for (const [k, v] of Object.entries(values)) {
        await trx
          .deleteFrom('compute_quotas')
          .where('scope', '=', 'project')
          .where('target', '=', projectId)
          .where('resource', '=', k)
          .execute();
        await trx
          .insertInto('compute_quotas')
          .values({ scope: 'project', target: projectId, resource: k, hard_limit: v })
          .execute();
      }
    });
  }

  async updateClass(name: string, values: Record<string, number>): Promise<void> {
    await this.d.db.transaction().execute(async (trx) => {
      for (const [k, v] of Object.entries(values)) {
        if (!(k in QUOTA_DEFAULTS)) throw badRequest(`Bad key(s) ${k} in quota_class_set`);
        if (!Number.isInteger(v) || v < -1) throw badRequest(`Quota limit ${v} for ${k} must be -1 or greater.`);
        await trx
          .deleteFrom('compute_quotas')
          .where('scope', '=', 'class')
          .where('target', '=', name)
          .where('resource', '=', k)
          .execute();
        await trx
          .insertInto('compute_quotas')
          .values({ scope: 'class', target: name, resource: k, hard_limit: v })
          .execute();
      }
    });
  }

  /** Back to the defaults. */
  async reset(projectId: string): Promise<void> {
    await this.d.db
      .deleteFrom('compute_quotas')
      .where('scope', '=', 'project')
      .where('target', '=', projectId)
      .execute();
  }
}
