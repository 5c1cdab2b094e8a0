import type { IdentityDeps } from './common.js';
import { checkName } from './common.js';
import type { AppCredRow, AccessRuleRow } from '../../store/identity-tables.js';
import type { AuthContext } from '../auth-context.js';
import type { Roles } from './roles.js';
import type { Assignments } from './assignments.js';
import { parseExpiry, resolveRoleRefs, rejectUnknown, optString } from './delegation.js';
import { sha256 } from './passwords.js';
import { fromJson, isUniqueViolation, inTransaction, bool } from '../../store/database.js';
import { hexId, randomSecret } from '../../util/ids.js';
import { badRequest, conflict, forbidden, notFound } from '../../errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An access rule: which API calls an application credential may make (stored and listed; see AppCreds). */
export interface AccessRule {
  id: string;
  user_id: string;
  service: string;
  path: string;
  method: string;
}

/** An application credential as the API shows it (never with its secret, except once at creation). */
export interface AppCred {
  id: string;
  name: string;
  description: string | null;
  user_id: string;
  project_id: string;
  /** Stored form "YYYY-MM-DDTHH:MM:SS.ffffffZ", or null. */
  expires_at: string | null;
  unrestricted: boolean;
  roles: { id: string; name: string; domain_id: string | null }[];
  access_rules: AccessRule[];
  /** Only on the create answer. */
  secret?: string;
}

const CREATE_KEYS = ['name', 'description', 'secret', 'expires_at', 'roles', 'unrestricted', 'access_rules'] as const;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const RULE_KEYS = ['id', 'path', 'method', 'service'] as const;

const toRule = (r: AccessRuleRow): AccessRule => ({
  id: r.id,
  user_id: r.user_id,
  service: r.service,
  path: r.path,
  method: r.method,
});

/**
 * Application credentials (a user's delegated login for one project, with a subset of their roles) and
 * their access rules. Access rules are stored, attached and listed as Keystone does; like Keystone itself,
 * Gureum's identity API does not enforce them (keystonemiddleware does that in each service): see docs.
 */
export class AppCreds {
  constructor(
    private readonly d: IdentityDeps,
    private readonly roles: Roles,
    private readonly assignments: Assignments,
    private readonly revokeAppCred: (id: string) => Promise<void>,
  ) {}

  /** Refuses callers whose own token came from a restricted application credential (Keystone's rule). */
  async checkUnrestricted(auth: AuthContext, what: string): Promise<void> {
    if (!auth.appCredId) return;
    const ac = await this.d.db
      .selectFrom('application_credentials')
      .select('unrestricted')
      .where('id', '=', auth.appCredId)
      .executeTakeFirst();
    if (!ac?.unrestricted)
      throw forbidden(`Using method 'application_credential' is not allowed for managing ${what}.`);
  }

  async create(auth: AuthContext, userId: string, body: Obj): Promise<AppCred> {
    if (auth.userId !== userId) throw forbidden('Cannot create an application credential for another user.');
    await this.checkUnrestricted(auth, 'additional application credentials');
    rejectUnknown(body, CREATE_KEYS, 'application_credential');
    const name = checkName(body.name);
    const description = optString(body, 'description', 65535) ?? null;
    const secretIn = optString(body, 'secret', 4096);
    if (secretIn === '') throw badRequest("Invalid input for field 'secret': must not be empty.");
    if (body.unrestricted !== undefined && body.unrestricted !== null && typeof body.unrestricted !== 'boolean') {
      throw badRequest("Invalid input for field 'unrestricted': must be a boolean.");
    }
    const expiresAt = parseExpiry(body.expires_at);
    if (!auth.projectId) throw badRequest('An application credential can only be created with a project-scoped token.');
    const projectId = auth.projectId;

    // Roles: the listed ones, else every role of the caller's token; each must be held on the project.
    const roles =
      body.roles === undefined || body.roles === null
        ? auth.roles.map((r) => ({ id: r.id, name: r.name, domain_id: null as string | null }))
        : (await resolveRoleRefs(this.roles, body.roles)).map((r) => ({
            id: r.id,
            name: r.name,
            domain_id: r.domain_id,
          }));
    if (roles.length === 0) throw badRequest('An application credential needs at least one role.');
    const held = await this.assignments.effectiveRoleIds(userId, { project: projectId });
    for (const r of roles) {
      if (!held.has(r.id))
        throw badRequest(
          `Invalid application credential: the user ${userId} has no role ${r.id} (${r.name}) on project ${projectId}.`,
        );
    }

    const rulesIn = body.access_rules === undefined || body.access_rules === null ? [] : body.access_rules;
    if (!Array.isArray(rulesIn)) throw badRequest("Invalid input for field 'access_rules': must be a list.");
    const wanted = rulesIn.map((r) => this.parseRule(r));

    const secret = secretIn ?? randomSecret(48);
    const row: AppCredRow = {
      id: hexId(),
      name,
      user_id: userId,
      project_id: projectId,
      secret_hash: sha256(secret),
      description,
      expires_at: expiresAt,
      unrestricted: bool(body.unrestricted === true),
      roles: JSON.stringify(roles.map((r) => r.id)),
      created_at: new Date().toISOString(),
    };
    const rules: AccessRule[] = [];
    try {
      await inTransaction(this.d.db, async (trx) => {
        const dup = await trx
          .selectFrom('application_credentials')
          .select('id')
          .where('user_id', '=', userId)
          .where('name', '=', name)
          .executeTakeFirst();
        if (dup)
          throw conflict(
            `Conflict occurred attempting to store application_credential - Duplicate entry found with name ${name}.`,
          );
        await trx.insertInto('application_credentials').values(row).execute();
        for (const w of wanted) {
          let rule: AccessRuleRow | undefined;
          if ('id' in w) {
            rule = await trx
              .selectFrom('access_rules')
              .selectAll()
              .where('id', '=', w.id)
              .where('user_id', '=', userId)
              .executeTakeFirst();
            if (!rule) throw notFound(`Could not find access rule: ${w.id}.`);
          } else {
            rule = await trx
              .selectFrom('access_rules')
              .selectAll()
              .where('user_id', '=', userId)
              .where('service', '=', w.service)
              .where('path', '=', w.path)
              .where('method', '=', w.method)
              .executeTakeFirst();
            if (!rule) {
              rule = { id: hexId(), user_id: userId, ...w };
              await trx.insertInto('access_rules').values(rule).execute();
            }
          }
          if (rules.some((x) => x.id === rule!.id)) continue;
          await trx
            .insertInto('app_cred_access_rules')
            .values({ app_cred_id: row.id, access_rule_id: rule.id })
            .execute();
          rules.push(toRule(rule));
        }
      });
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to store application_credential - Duplicate entry found with name ${name}.`,
        );
      throw e;
    }
    return { ...this.shape(row, roles, rules), secret };
  }

  private parseRule(r: unknown): { id: string } | { service: string; path: string; method: string } {
    if (!isObj(r)) throw badRequest("Invalid input for field 'access_rules': each rule must be an object.");
    rejectUnknown(r, RULE_KEYS, 'access_rule');
    if (typeof r.id === 'string' && r.path === undefined && r.method === undefined && r.service === undefined)
      return { id: r.id };
    const { path, method, service } = r;
    if (typeof path !== 'string' || !path.startsWith('/') || path.length > 225) {
      throw badRequest("Invalid input for field 'access_rules': 'path' must be a string starting with '/' (max 225).");
    }
    if (typeof method !== 'string' || !METHODS.has(method)) {
      throw badRequest(`Invalid input for field 'access_rules': 'method' must be one of ${[...METHODS].join(', ')}.`);
    }
    if (typeof service !== 'string' || service.length === 0 || service.length > 64) {
      throw badRequest("Invalid input for field 'access_rules': 'service' must be a service type.");
    }
    return { path, method, service };
  }

  private shape(row: AppCredRow, roles: AppCred['roles'], rules: AccessRule[]): AppCred {
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      user_id: row.user_id,
      project_id: row.project_id,
      expires_at: row.expires_at,
      unrestricted: !!row.unrestricted,
      roles,
      access_rules: rules,
    };
  }

  private async expand(rows: AppCredRow[]): Promise<AppCred[]> {
    if (!rows.length) return [];
    const roleRows = await this.roles.byIds([...new Set(rows.flatMap((r) => fromJson<string[]>(r.roles, [])))]);
    const links = await this.d.db
      .selectFrom('app_cred_access_rules')
      .innerJoin('access_rules', 'access_rules.id', 'app_cred_access_rules.access_rule_id')
      .select([
        'app_cred_access_rules.app_cred_id',
        'access_rules.id',
        'access_rules.user_id',
        'access_rules.service',
        'access_rules.path',
        'access_rules.method',
      ])
      .where(
        'app_cred_access_rules.app_cred_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    return rows.map((r) => {
      // A role deleted since creation is no longer delegated; it drops out of the view as it drops out of tokens.
      const roles = fromJson<string[]>(r.roles, []).flatMap((id) => {
        const role = roleRows.get(id);
        return role ? [{ id: role.id, name: role.name, domain_id: role.domain_id || null }] : [];
      });
      const rules = links
        .filter((l) => l.app_cred_id === r.id)
        .map((l) => ({ id: l.id, user_id: l.user_id, service: l.service, path: l.path, method: l.method }));
      return this.shape(r, roles, rules);
    });
  }

  async list(userId: string, f: { name?: string } = {}): Promise<AppCred[]> {
    await this.requireUser(userId);
    let q = this.d.db.selectFrom('application_credentials').selectAll().where('user_id', '=', userId).orderBy('name');
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    return this.expand(await q.execute());
  }

  async get(userId: string, id: string): Promise<AppCred> {
    const row = await this.d.db
      .selectFrom('application_credentials')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) throw notFound(`Could not find Application Credential: ${id}.`);
    return (await this.expand([row]))[0]!;
  }

  async delete(auth: AuthContext, userId: string, id: string): Promise<void> {
    await this.checkUnrestricted(auth, 'additional application credentials');
    await this.get(userId, id);
    await inTransaction(this.d.db, async (trx) => {
      await trx.deleteFrom('app_cred_access_rules').where('app_cred_id', '=', id).execute();
      await trx.deleteFrom('application_credentials').where('id', '=', id).execute();
    });
    await this.revokeAppCred(id);
  }

  // Access rules.
  private async requireUser(userId: string): Promise<void> {
    if (!(await this.d.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst()))
      throw notFound(`Could not find user: ${userId}.`);
  }

  async listAccessRules(
    userId: string,
    f: { service?: string; path?: string; method?: string } = {},
  ): Promise<AccessRule[]> {
    await this.requireUser(userId);
    let q = this.d.db
      .selectFrom('access_rules')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('service')
      .orderBy('path')
      .orderBy('method');
    if (f.service !== undefined) q = q.where('service', '=', f.service);
    if (f.path !== undefined) q = q.where('path', '=', f.path);
    if (f.method !== undefined) q = q.where('method', '=', f.method);
    return (await q.execute()).map(toRule);
  }

  async getAccessRule(userId: string, id: string): Promise<AccessRule> {
    const r = await this.d.db
      .selectFrom('access_rules')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!r) throw notFound(`Could not find access rule: ${id}.`);
    return toRule(r);
  }

  async deleteAccessRule(userId: string, id: string): Promise<void> {
    await this.getAccessRule(userId, id);
    await inTransaction(this.d.db, async (trx) => {
      const used = await trx
        .selectFrom('app_cred_access_rules')
        .select('app_cred_id')
        .where('access_rule_id', '=', id)
        .executeTakeFirst();
      if (used)
        throw forbidden(`Cannot delete access rule ${id}: it is in use by application credential ${used.app_cred_id}.`);
      await trx.deleteFrom('access_rules').where('id', '=', id).execute();
    });
  }
}
