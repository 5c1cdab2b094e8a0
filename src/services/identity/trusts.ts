import type { IdentityDeps } from './common.js';
import { splitExtra } from './common.js';
import type { TrustRow } from '../../store/identity-tables.js';
import type { AuthContext } from '../auth-context.js';
import type { Roles, Role } from './roles.js';
import type { Assignments } from './assignments.js';
import type { AppCreds } from './app-creds.js';
import { toRole } from './roles.js';
import { parseExpiry, resolveRoleRefs, isExpired } from './delegation.js';
import { fromJson, inTransaction } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, forbidden, notFound } from '../../errors.js';

type Obj = Record<string, unknown>;

/** How deep a trust may be redelegated (Keystone's [trust] max_redelegation_count default). */
export const MAX_REDELEGATION_COUNT = 3;

/** A trust as the API shows it; `roles` are filled in for single-trust answers only. */
export interface Trust {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: boolean;
  expires_at: string | null;
  remaining_uses: number | null;
  redelegated_trust_id: string | null;
  redelegation_count: number;
  allow_redelegation: boolean;
  extra: Record<string, unknown>;
  roleIds: string[];
}

const KNOWN = [
  'id',
  'trustor_user_id',
  'trustee_user_id',
  'project_id',
  'impersonation',
  'expires_at',
  'remaining_uses',
  'roles',
  'allow_redelegation',
  'redelegation_count',
  'redelegated_trust_id',
  'roles_links',
  'deleted_at',
] as const;

const toTrust = (r: TrustRow): Trust => ({
  id: r.id,
  trustor_user_id: r.trustor_user_id,
  trustee_user_id: r.trustee_user_id,
  project_id: r.project_id,
  impersonation: !!r.impersonation,
  expires_at: r.expires_at,
  remaining_uses: r.remaining_uses,
  redelegated_trust_id: r.redelegated_trust_id,
  redelegation_count: r.redelegation_count,
  allow_redelegation: r.redelegation_count > 0,
  extra: fromJson(r.extra, {}),
  roleIds: fromJson<string[]>(r.roles, []),
});

/** A trust that still stands: not deleted, not expired, uses left. */
const live = (r: TrustRow | undefined): r is TrustRow =>
  !!r && !r.deleted_at && !isExpired(r.expires_at) && (r.remaining_uses === null || r.remaining_uses > 0);

/** OS-TRUST: a trustor delegates some of their roles on a project to a trustee, optionally impersonated. */
export class Trusts {
  constructor(
    private readonly d: IdentityDeps,
    private readonly roles: Roles,
    private readonly assignments: Assignments,
    private readonly appCreds: AppCreds,
    private readonly revokeTrust: (id: string) => Promise<void>,
  ) {}

  async create(auth: AuthContext, body: Obj): Promise<Trust> {
    const db = this.d.db;
    for (const k of ['trustor_user_id', 'trustee_user_id'] as const) {
      if (typeof body[k] !== 'string' || !(body[k] as string))
        throw badRequest(`Invalid input for field '${k}': a user id is required.`);
    }
    if (typeof body.impersonation !== 'boolean')
      throw badRequest("Invalid input for field 'impersonation': a boolean is required.");
    if (body.project_id !== undefined && body.project_id !== null && typeof body.project_id !== 'string') {
      throw badRequest("Invalid input for field 'project_id': must be a string or null.");
    }
    const rem = body.remaining_uses;
    if (rem !== undefined && rem !== null && (!Number.isInteger(rem) || (rem as number) < 1)) {
      throw badRequest("Invalid input for field 'remaining_uses': must be a positive integer or null.");
    }
    if (
      body.allow_redelegation !== undefined &&
      body.allow_redelegation !== null &&
      typeof body.allow_redelegation !== 'boolean'
    ) {
      throw badRequest("Invalid input for field 'allow_redelegation': must be a boolean.");
    }
    const rc = body.redelegation_count;
    if (rc !== undefined && rc !== null && (!Number.isInteger(rc) || (rc as number) < 0)) {
      throw badRequest("Invalid input for field 'redelegation_count': must be a non-negative integer.");
    }
    if (body.roles !== undefined && body.roles !== null && !Array.isArray(body.roles))
      throw badRequest("Invalid input for field 'roles': must be a list.");
    await this.appCreds.checkUnrestricted(auth, 'trusts');
    const projectId = (body.project_id as string | null | undefined) || null;
    const roleRefs = (body.roles as unknown[] | null | undefined) ?? [];
    if (projectId && roleRefs.length === 0) throw forbidden('At least one role should be specified.');
    const trustorId = body.trustor_user_id as string;
    const trusteeId = body.trustee_user_id as string;
    if (auth.userId !== trustorId) throw forbidden('The authenticated user should match the trustor.');
    if (!(await db.selectFrom('users').select('id').where('id', '=', trusteeId).executeTakeFirst()))
      throw notFound(`Could not find user: ${trusteeId}.`);
    const roles = await resolveRoleRefs(this.roles, roleRefs);
    let expiresAt = parseExpiry(body.expires_at);

    // Redelegation: a trust-scoped caller creates a trust from the trust it holds.
    const parent = auth.trustId
      ? await db.selectFrom('trusts').selectAll().where('id', '=', auth.trustId).executeTakeFirst()
      : undefined;
    if (auth.trustId && !live(parent)) throw forbidden('The trust this token was issued for no longer stands.');
    const originalTrustor = parent ? await this.originalTrustor(parent) : trustorId;

    if (projectId) {
      if (!(await db.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst()))
        throw notFound(`Could not find project: ${projectId}.`);
      const held = await this.assignments.effectiveRoleIds(originalTrustor, { project: projectId });
      for (const r of roles) if (!held.has(r.id)) throw notFound(`Could not find role: ${r.id}.`);
    } else if (roles.length) {
      throw notFound(`Could not find role: ${roles[0]!.id}.`);
    }

    const requested = rc === undefined || rc === null ? undefined : (rc as number);
    const redelegatable = body.allow_redelegation === true && requested !== 0;
    let count: number;
    if (!redelegatable) {
      count = 0;
    } else {
      if (requested !== undefined && requested > MAX_REDELEGATION_COUNT) {
        throw forbidden(
          `Requested redelegation depth of ${requested} is greater than allowed ${MAX_REDELEGATION_COUNT}.`,
        );
      }
      if (rem !== undefined && rem !== null)
        throw badRequest('remaining_uses must not be set if redelegation is allowed.');
      count = requested ?? MAX_REDELEGATION_COUNT;
    }
    if (parent) {
      if (parent.redelegation_count <= 0)
        throw forbidden('The trust this token was issued for does not allow redelegation.');
      if (parent.trustee_user_id !== trustorId) throw forbidden('Only the trustee of a trust can redelegate it.');
      const remaining = parent.redelegation_count - 1;
      if (redelegatable && requested !== undefined && requested !== remaining) {
        throw forbidden(
          'Modifying "redelegation_count" upon redelegation is forbidden. Omitting this parameter is advised.',
        );
      }
      count = redelegatable ? remaining : 0;
      if (rem !== undefined && rem !== null)
        throw forbidden(
          `Field "remaining_uses" is set to ${String(rem)} while it must not be set in order to redelegate a trust.`,
        );
      if ((parent.project_id ?? null) !== projectId)
        throw forbidden('A redelegated trust must be for the same project as its parent.');
      if (!parent.impersonation && body.impersonation)
        throw forbidden('Impersonation is not allowed by the redelegated trust.');
      if (parent.expires_at) {
        if (!expiresAt) expiresAt = parent.expires_at;
        else if (Date.parse(expiresAt) > Date.parse(parent.expires_at))
          throw forbidden('Requested expiration time is more than redelegated trust can provide.');
      }
      const parentRoles = new Set(fromJson<string[]>(parent.roles, []));
      if (!roles.every((r) => parentRoles.has(r.id)))
        throw forbidden('Some of requested roles are not in redelegated trust.');
    }

    const row: TrustRow = {
      id: hexId(),
      trustor_user_id: trustorId,
      trustee_user_id: trusteeId,
      project_id: projectId,
      impersonation: body.impersonation ? 1 : 0,
      expires_at: expiresAt,
      remaining_uses: rem === undefined || rem === null ? null : (rem as number),
      redelegation_count: count,
      redelegated_trust_id: parent?.id ?? null,
      roles: JSON.stringify(roles.map((r) => r.id)),
      deleted_at: null,
      extra: JSON.stringify(splitExtra(body, KNOWN)),
    };
    await db.insertInto('trusts').values(row).execute();
    return toTrust(row);
  }

  /** The first trustor of a redelegation chain (whose roles the whole chain delegates). */
  private async originalTrustor(t: TrustRow): Promise<string> {
    let cur = t;
    for (let i = 0; i <= MAX_REDELEGATION_COUNT + 1 && cur.redelegated_trust_id; i++) {
      const up = await this.d.db
        .selectFrom('trusts')
        .selectAll()
        .where('id', '=', cur.redelegated_trust_id)
        .executeTakeFirst();
      if (!up) break;
      cur = up;
    }
    return cur.trustor_user_id;
  }

  /** A standing trust, else 404 (deleted, expired and used-up trusts are not found, as in Keystone). */
  async get(id: string): Promise<Trust> {
    const r = await this.d.db.selectFrom('trusts').selectAll().where('id', '=', id).executeTakeFirst();
    if (!live(r)) throw notFound(`Could not find trust: ${id}.`);
    return toTrust(r);
  }

  async list(f: { trustor_user_id?: string; trustee_user_id?: string }): Promise<Trust[]> {
    let q = this.d.db.selectFrom('trusts').selectAll().where('deleted_at', 'is', null).orderBy('id');
    if (f.trustor_user_id !== undefined) q = q.where('trustor_user_id', '=', f.trustor_user_id);
    if (f.trustee_user_id !== undefined) q = q.where('trustee_user_id', '=', f.trustee_user_id);
    return (await q.execute()).filter(live).map(toTrust);
  }

  /** The roles a trust delegates (roles deleted since drop out). */
  async rolesOf(t: Trust): Promise<Role[]> {
    const rows = await this.roles.byIds(t.roleIds);
    return t.roleIds.flatMap((id) => (rows.has(id) ? [toRole(rows.get(id)!)] : []));
  }

  /** Deletes a trust and every trust redelegated from it, and revokes their tokens. */
  async delete(auth: AuthContext, id: string): Promise<void> {
    await this.appCreds.checkUnrestricted(auth, 'trusts');
    await this.get(id);
    const gone: string[] = [];
    await inTransaction(this.d.db, async (trx) => {
      const now = new Date().toISOString();
      let frontier = [id];
      while (frontier.length) {
        gone.push(...frontier);
        await trx.updateTable('trusts').set({ deleted_at: now }).where('id', 'in', frontier).execute();
        frontier = (
          await trx
            .selectFrom('trusts')
            .select('id')
            .where('redelegated_trust_id', 'in', frontier)
            .where('deleted_at', 'is', null)
            .execute()
        ).map((r) => r.id);
      }
    });
    for (const t of gone) await this.revokeTrust(t);
  }
}
