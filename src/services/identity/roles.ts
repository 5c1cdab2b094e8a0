import type { IdentityDeps } from './common.js';
import { checkName, splitExtra } from './common.js';
import type { RoleRow } from '../../store/identity-tables.js';
import { fromJson, isUniqueViolation, inTransaction } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, conflict, forbidden, notFound } from '../../errors.js';

/** How old the cached role snapshot may be before it is read again. */
const SNAPSHOT_TTL_MS = 2000;

export interface Role {
  id: string;
  name: string;
  domain_id: string | null;
  description: string;
  options: Record<string, unknown>;
  extra: Record<string, unknown>;
}

const KNOWN = ['id', 'name', 'domain_id', 'description', 'options'] as const;
/** Roles that may never be implied by another (Keystone's `prohibited_implied_role`). */
const PROHIBITED_IMPLIED = new Set(['admin']);

export const toRole = (r: RoleRow): Role => ({
  id: r.id,
  name: r.name,
  domain_id: r.domain_id || null,
  description: r.description,
  options: fromJson(r.options, {}),
  extra: fromJson(r.extra, {}),
});

/** Roles (global and domain-specific) and role inference rules (implied roles). */
export class Roles {
  /**
   * Snapshot of all roles and the inference graph: small and read on every token validation. Invalidated on every
   * local change, and at most SNAPSHOT_TTL_MS old, so changes made by another controller (PostgreSQL) show soon.
   */
  private snapshot: { rows: Map<string, RoleRow>; graph: Map<string, string[]>; at: number } | undefined;

  constructor(
    private readonly d: IdentityDeps,
    private readonly onRoleDeleted: (roleId: string) => Promise<void>,
  ) {}

  async create(body: Record<string, unknown>): Promise<Role> {
    const name = checkName(body.name);
    const domainId = (body.domain_id as string | null | undefined) ?? '';
    if (
      domainId &&
      !(await this.d.db.selectFrom('domains').select('id').where('id', '=', domainId).executeTakeFirst())
    ) {
      throw notFound(`Could not find domain: ${domainId}.`);
    }
    const row: RoleRow = {
      id: hexId(),
      name,
      domain_id: domainId,
      description: typeof body.description === 'string' ? body.description : '',
      options: JSON.stringify(body.options ?? {}),
      extra: JSON.stringify(splitExtra(body, KNOWN)),
    };
    try {
      await this.d.db.insertInto('roles').values(row).execute();
      this.invalidate();
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${name}.`);
      throw e;
    }
    return toRole(row);
  }

  async find(id: string): Promise<RoleRow | undefined> {
    return this.d.db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(id: string): Promise<Role> {
    const r = await this.find(id);
    if (!r) throw notFound(`Could not find role: ${id}.`);
    return toRole(r);
  }

  async findByName(name: string, domainId: string | null = null): Promise<Role | undefined> {
    const r = await this.d.db
      .selectFrom('roles')
      .selectAll()
      .where('name', '=', name)
      .where('domain_id', '=', domainId ?? '')
      .executeTakeFirst();
    return r ? toRole(r) : undefined;
  }

  async list(f: { name?: string; domain_id?: string | null }): Promise<Role[]> {
    let q = this.d.db.selectFrom('roles').selectAll().orderBy('name');
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    q = q.where('domain_id', '=', f.domain_id ?? '');
    return (await q.execute()).map(toRole);
  }

  async byIds(ids: string[]): Promise<Map<string, RoleRow>> {
    if (!ids.length) return new Map();
    const { rows } = await this.load();
    const out = new Map<string, RoleRow>();
    for (const id of ids) {
      const r = rows.get(id);
      if (r) out.set(id, r);
    }
    return out;
  }

  private async load(): Promise<NonNullable<Roles['snapshot']>> {
    if (this.snapshot && Date.now() - this.snapshot.at < SNAPSHOT_TTL_MS) return this.snapshot;
    const at = Date.now();
    const [roleRows, implied] = [
      await this.d.db.selectFrom('roles').selectAll().execute(),
      await this.d.db.selectFrom('implied_roles').selectAll().execute(),
    ];
    const graph = new Map<string, string[]>();
    for (const r of implied) graph.set(r.prior_role_id, [...(graph.get(r.prior_role_id) ?? []), r.implied_role_id]);
    this.snapshot = { rows: new Map(roleRows.map((r) => [r.id, r])), graph, at };
    return this.snapshot;
  }

  async update(id: string, body: Record<string, unknown>): Promise<Role> {
    const cur = await this.get(id);
    if (body.domain_id !== undefined && (body.domain_id ?? null) !== cur.domain_id)
      throw badRequest('Cannot change the domain_id of a role.');
    const patch: Partial<RoleRow> = { extra: JSON.stringify({ ...cur.extra, ...splitExtra(body, KNOWN) }) };
    if (body.name !== undefined) patch.name = checkName(body.name);
    if (body.description !== undefined) patch.description = String(body.description ?? '');
    if (body.options !== undefined) patch.options = JSON.stringify({ ...cur.options, ...(body.options as object) });
    try {
      await this.d.db.updateTable('roles').set(patch).where('id', '=', id).execute();
      this.invalidate();
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to update role - Duplicate entry found with name ${String(body.name)}.`,
        );
      throw e;
    }
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    const cur = await this.get(id);
    if (cur.options.immutable === true) throw forbidden(`Role ${id} is immutable.`);
    await inTransaction(this.d.db, async (trx) => {
      await trx.deleteFrom('assignments').where('role_id', '=', id).execute();
      await trx
        .deleteFrom('implied_roles')
        .where((eb) => eb.or([eb('prior_role_id', '=', id), eb('implied_role_id', '=', id)]))
        .execute();
      await trx.deleteFrom('roles').where('id', '=', id).execute();
    });
    this.invalidate();
    await this.onRoleDeleted(id);
  }

  // Implied roles.
  async createImplication(priorId: string, impliedId: string): Promise<{ prior: Role; implied: Role }> {
    const prior = await this.get(priorId);
    const implied = await this.get(impliedId);
    if (PROHIBITED_IMPLIED.has(implied.name)) throw forbidden(`${implied.name} role cannot be an implied role.`);
    if (implied.domain_id && !prior.domain_id)
      throw forbidden('A domain-specific role cannot be implied by a global role.');
    if (priorId === impliedId) throw badRequest('A role cannot imply itself.');
    const graph = await this.graph();
    if (this.expand([impliedId], graph).has(priorId)) throw badRequest('This implied role would create a cycle.');
    const exists = await this.hasImplication(priorId, impliedId);
    if (!exists)
      await this.d.db
        .insertInto('implied_roles')
        .values({ prior_role_id: priorId, implied_role_id: impliedId })
        .execute();
    this.invalidate();
    return { prior, implied };
  }

  async hasImplication(priorId: string, impliedId: string): Promise<boolean> {
    return !!(await this.d.db
      .selectFrom('implied_roles')
      .select('prior_role_id')
      .where('prior_role_id', '=', priorId)
      .where('implied_role_id', '=', impliedId)
      .executeTakeFirst());
  }

  async getImplication(priorId: string, impliedId: string): Promise<{ prior: Role; implied: Role }> {
    const prior = await this.get(priorId);
    const implied = await this.get(impliedId);
    if (!(await this.hasImplication(priorId, impliedId)))
      throw notFound(`Could not find implied role: ${priorId} implies ${impliedId}.`);
    return { prior, implied };
  }

  async deleteImplication(priorId: string, impliedId: string): Promise<void> {
    await this.getImplication(priorId, impliedId);
    await this.d.db
      .deleteFrom('implied_roles')
      .where('prior_role_id', '=', priorId)
      .where('implied_role_id', '=', impliedId)
      .execute();
    this.invalidate();
  }

  async listImplications(priorId?: string): Promise<{ prior: Role; implies: Role[] }[]> {
    let q = this.d.db.selectFrom('implied_roles').selectAll();
    if (priorId) {
      await this.get(priorId);
      q = q.where('prior_role_id', '=', priorId);
    }
    const rows = await q.execute();
    const byPrior = new Map<string, string[]>();
    for (const r of rows) byPrior.set(r.prior_role_id, [...(byPrior.get(r.prior_role_id) ?? []), r.implied_role_id]);
    if (priorId && !byPrior.has(priorId)) byPrior.set(priorId, []);
    const all = await this.byIds([...new Set([...byPrior.keys(), ...rows.map((r) => r.implied_role_id)])]);
    return [...byPrior.entries()].map(([p, imps]) => ({
      prior: toRole(all.get(p)!),
      implies: imps.map((i) => toRole(all.get(i)!)),
    }));
  }

  private async graph(): Promise<Map<string, string[]>> {
    return (await this.load()).graph;
  }

  private expand(ids: Iterable<string>, g: Map<string, string[]>): Set<string> {
    const out = new Set<string>();
    const stack = [...ids];
    while (stack.length) {
      const id = stack.pop()!;
      if (out.has(id)) continue;
      out.add(id);
      for (const n of g.get(id) ?? []) stack.push(n);
    }
    return out;
  }

  /** Closes a set of role ids over the inference rules. */
  async expandImplied(ids: Iterable<string>): Promise<Set<string>> {
    return this.expand(ids, await this.graph());
  }

  /** Which role implied `implied` within a set (for role_assignments' `prior_role` link): direct parents only. */
  async priorsOf(impliedId: string, within: Set<string>): Promise<string[]> {
    const g = await this.graph();
    return [...within].filter((p) => (g.get(p) ?? []).includes(impliedId));
  }

  invalidate(): void {
    this.snapshot = undefined;
  }
}
