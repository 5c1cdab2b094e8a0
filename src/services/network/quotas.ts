import type { AuthContext } from '../auth-context.js';
import type { NetworkDeps, Db, Obj } from './common.js';
import { admin, badInput, nerr, projectOf } from './common.js';

/** Which table counts toward each quota resource. */
const counted: Record<string, (db: Db, project: string) => Promise<number>> = {
  network: (db, p) => count(db, 'net_networks', p),
  subnet: (db, p) => count(db, 'net_subnets', p),
  port: (db, p) => count(db, 'net_ports', p),
  router: (db, p) => count(db, 'net_routers', p),
  floatingip: (db, p) => count(db, 'net_floating_ips', p),
  security_group: (db, p) => count(db, 'net_security_groups', p),
  security_group_rule: (db, p) => count(db, 'net_security_group_rules', p),
  subnetpool: (db, p) => count(db, 'net_subnet_pools', p),
  rbac_policy: async () => 0,
};

async function count(
  db: Db,
  table:
    | 'net_networks'
    | 'net_subnets'
    | 'net_ports'
    | 'net_routers'
    | 'net_floating_ips'
    | 'net_security_groups'
    | 'net_security_group_rules'
    | 'net_subnet_pools',
  project: string,
): Promise<number> {
  const r = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', project)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Per-project limits with Neutron's defaults; exceeding one is 409 OverQuota. */
export class Quotas {
  constructor(private readonly d: NetworkDeps) {}

  get resources(): string[] {
    return Object.keys(this.d.options.quotas);
  }

  async limits(project: string, db: Db = this.d.db): Promise<Record<string, number>> {
    const out = { ...this.d.options.quotas };
    const rows = await db.selectFrom('net_quotas').selectAll().where('project_id', '=', project).execute();
    for (const r of rows) out[r.resource] = r.hard_limit;
    return out;
  }

  /** Throws OverQuota when adding `n` of `resource` would pass the project's limit. */
  async check(db: Db, project: string, resource: string, n = 1): Promise<void> {
    if (!project) return;
    const limit = (await this.limits(project, db))[resource] ?? -1;
    if (limit < 0) return;
    const used = await counted[resource]!(db, project);
    if (used + n > limit) throw nerr('OverQuota', 'OverQuota', `Quota exceeded for resources: ['${resource}'].`, 409);
  }

  private canRead(a: AuthContext, project: string): void {
    if (!admin(a) && project !== projectOf(a))
      throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:get_quota is disallowed by policy');
  }

  async show(a: AuthContext, project: string): Promise<Obj> {
    this.canRead(a, project);
    return this.limits(project);
  }

  async details(a: AuthContext, project: string): Promise<Obj> {
    this.canRead(a, project);
    const limits = await this.limits(project);
    const out: Obj = {};
    for (const [k, limit] of Object.entries(limits))
      out[k] = { limit, used: await counted[k]!(this.d.db, project), reserved: 0 };
    return out;
  }

  defaults(): Obj {
    return { ...this.d.options.quotas };
  }

  /** Projects with any non-default limit (admin). */
  async list(a: AuthContext): Promise<Obj[]> {
    if (!admin(a)) throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:get_quota is disallowed by policy');
    const projects = await this.d.db.selectFrom('net_quotas').select('project_id').distinct().execute();
    const out: Obj[] = [];
    for (const p of projects)
      out.push({ ...(await this.limits(p.project_id)), project_id: p.project_id, tenant_id: p.project_id });
    return out;
  }

  async update(a: AuthContext, project: string, body: Obj): Promise<Obj> {
    if (!admin(a)) throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:update_quota is disallowed by policy');
    const changes: [string, number][] = [];
    for (const [k, v] of Object.entries(body)) {
      if (!(k in this.d.options.quotas)) throw badInput(`Unrecognized quota resource '${k}'.`);
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < -1 || n > 2147483647)
        throw badInput(`'${String(v)}' is not a valid quota for ${k} (-1 or more).`);
      changes.push([k, n]);
    }
    for (const [resource, hard_limit] of changes) {
      await this.d.db
        .insertInto('net_quotas')
        .values({ project_id: project, resource, hard_limit })
        .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ hard_limit }))
        .execute();
    }
    return this.limits(project);
  }

  async reset(a: AuthContext, project: string): Promise<void> {
    if (!admin(a)) throw nerr('Forbidden', 'PolicyNotAuthorized', 'rule:delete_quota is disallowed by policy');
    await this.d.db.deleteFrom('net_quotas').where('project_id', '=', project).execute();
  }
}
