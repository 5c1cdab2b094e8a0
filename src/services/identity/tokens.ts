import type { IdentityDeps } from './common.js';
import type {
  TokenRow,
  UserRow,
  DomainRow,
  ProjectRow,
  RoleRow,
  TrustRow,
  AppCredRow,
} from '../../store/identity-tables.js';
import type { AuthContext } from '../auth-context.js';
import type { Assignments, Target } from './assignments.js';
import type { Roles } from './roles.js';
import { sha256 } from './passwords.js';
import { randomSecret } from '../../util/ids.js';
import { notFound, unauthorized } from '../../errors.js';
import { fromJson } from '../../store/database.js';
import type { AccessRuleSpec } from './access-rules.js';

/** A validated token with everything the API shows about it. */
export interface TokenInfo {
  hash: string;
  user: UserRow;
  userDomain: DomainRow;
  methods: string[];
  issuedAt: string;
  expiresAt: string;
  auditIds: string[];
  project?: ProjectRow;
  projectDomain?: DomainRow;
  domain?: DomainRow;
  system: boolean;
  roles: RoleRow[];
  trust?: TrustRow;
  appCred?: AppCredRow;
  /** The application credential's access rules; empty means unrestricted. */
  accessRules?: AccessRuleSpec[];
}

/** What a new token is for; validated by the caller (auth.ts). */
export interface NewToken {
  userId: string;
  methods: string[];
  scope: Target | undefined;
  expiresAt: Date;
  parentAuditId?: string;
  trustId?: string;
  appCredId?: string;
}

const invalid = () => notFound('Failed to validate token');

/** Issues, validates and revokes tokens. Tokens are random; only their SHA-256 is stored. */
export class Tokens {
  constructor(
    private readonly d: IdentityDeps,
    private readonly assignments: Assignments,
    private readonly roles: Roles,
  ) {}

  async issue(t: NewToken): Promise<{ token: string; info: TokenInfo }> {
    const token = randomSecret(32);
    const row: TokenRow = {
      id_hash: sha256(token),
      user_id: t.userId,
      project_id: t.scope && 'project' in t.scope ? t.scope.project : null,
      domain_id: t.scope && 'domain' in t.scope ? t.scope.domain : null,
      system: t.scope && 'system' in t.scope ? 1 : 0,
      methods: JSON.stringify(t.methods),
      issued_at: new Date().toISOString(),
      expires_at: t.expiresAt.toISOString(),
      audit_id: randomSecret(16),
      parent_audit_id: t.parentAuditId ?? null,
      trust_id: t.trustId ?? null,
      app_cred_id: t.appCredId ?? null,
    };
    await this.d.db.insertInto('tokens').values(row).execute();
    const info = await this.load(row, false);
    if (!info) {
      await this.d.db.deleteFrom('tokens').where('id_hash', '=', row.id_hash).execute();
      throw unauthorized('The user has no roles in the requested scope.');
    }
    return { token, info };
  }

  /** Validates a subject token (GET/HEAD /v3/auth/tokens): 404 when invalid, as Keystone answers. */
  async validate(token: string, allowExpired = false): Promise<TokenInfo> {
    const row = await this.d.db
      .selectFrom('tokens')
      .selectAll()
      .where('id_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row) throw invalid();
    const info = await this.load(row, allowExpired);
    if (!info) throw invalid();
    return info;
  }

  /** Validates the caller's own X-Auth-Token: 401 when invalid, as keystonemiddleware answers. */
  async validateForRequest(token: string): Promise<AuthContext> {
    let info: TokenInfo;
    try {
      info = await this.validate(token);
    } catch {
      throw unauthorized('The request you have made requires authentication.');
    }
    return toAuthContext(info);
  }

  /** Re-checks everything a token depends on; undefined when it no longer stands. */
  private async load(row: TokenRow, allowExpired: boolean): Promise<TokenInfo | undefined> {
    const db = this.d.db;
    if (!allowExpired && row.expires_at <= new Date().toISOString()) return undefined;
    const user = await db.selectFrom('users').selectAll().where('id', '=', row.user_id).executeTakeFirst();
    if (!user?.enabled) return undefined;
    const userDomain = await db.selectFrom('domains').selectAll().where('id', '=', user.domain_id).executeTakeFirst();
    if (!userDomain?.enabled) return undefined;
    const info: TokenInfo = {
      hash: row.id_hash,
      user,
      userDomain,
      methods: fromJson(row.methods, []),
      issuedAt: row.issued_at,
      expiresAt: row.expires_at,
      auditIds: row.parent_audit_id ? [row.audit_id, row.parent_audit_id] : [row.audit_id],
      system: !!row.system,
      roles: [],
    };
    let scope: Target | undefined;
    if (row.project_id) {
      const project = await db.selectFrom('projects').selectAll().where('id', '=', row.project_id).executeTakeFirst();
      if (!project?.enabled) return undefined;
      const pd = await db.selectFrom('domains').selectAll().where('id', '=', project.domain_id).executeTakeFirst();
      if (!pd?.enabled) return undefined;
      info.project = project;
      info.projectDomain = pd;
      scope = { project: project.id };
    } else if (row.domain_id) {
      const domain = await db.selectFrom('domains').selectAll().where('id', '=', row.domain_id).executeTakeFirst();
      if (!domain?.enabled) return undefined;
      info.domain = domain;
      scope = { domain: domain.id };
    } else if (row.system) {
      scope = { system: true };
    }
    if (!scope) return info;

    let roleIds: Set<string>;
    if (row.trust_id) {
      const trust = await db.selectFrom('trusts').selectAll().where('id', '=', row.trust_id).executeTakeFirst();
      if (!trust || trust.deleted_at || (trust.expires_at && trust.expires_at <= new Date().toISOString()))
        return undefined;
      const trustor = await db
        .selectFrom('users')
        .select(['id', 'enabled'])
        .where('id', '=', trust.trustor_user_id)
        .executeTakeFirst();
      if (!trustor?.enabled) return undefined;
      info.trust = trust;
      // A redelegated trust delegates the original trustor's roles: walk up the chain, which must still stand.
      let origin = trust;
      for (let i = 0; origin.redelegated_trust_id && i < 10; i++) {
        const up = await db
          .selectFrom('trusts')
          .selectAll()
          .where('id', '=', origin.redelegated_trust_id)
          .executeTakeFirst();
        if (!up || up.deleted_at || (up.expires_at && up.expires_at <= new Date().toISOString())) return undefined;
        origin = up;
      }
      const held = await this.assignments.effectiveRoleIds(origin.trustor_user_id, scope);
      const delegated = await this.roles.expandImplied(fromJson<string[]>(trust.roles, []));
      roleIds = new Set([...delegated].filter((r) => held.has(r)));
    } else if (row.app_cred_id) {
      const ac = await db
        .selectFrom('application_credentials')
        .selectAll()
        .where('id', '=', row.app_cred_id)
        .executeTakeFirst();
      if (!ac || (ac.expires_at && ac.expires_at <= new Date().toISOString())) return undefined;
      info.appCred = ac;
      info.accessRules = await db
        .selectFrom('access_rules')
        .innerJoin('app_cred_access_rules', 'app_cred_access_rules.access_rule_id', 'access_rules.id')
        .select(['access_rules.service', 'access_rules.method', 'access_rules.path'])
        .where('app_cred_access_rules.app_cred_id', '=', ac.id)
        .execute();
      const held = await this.assignments.effectiveRoleIds(row.user_id, scope);
      const granted = await this.roles.expandImplied(fromJson<string[]>(ac.roles, []));
      roleIds = new Set([...granted].filter((r) => held.has(r)));
    } else {
      roleIds = await this.assignments.effectiveRoleIds(row.user_id, scope, info.project);
    }
    if (roleIds.size === 0) return undefined;
    const roleRows = await this.roles.byIds([...roleIds]);
    info.roles = [...roleRows.values()].sort((a, b) => a.name.localeCompare(b.name));
    return info;
  }

  async revoke(token: string): Promise<void> {
    const r = await this.d.db.deleteFrom('tokens').where('id_hash', '=', sha256(token)).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw invalid();
  }

  async revokeUser(userId: string): Promise<void> {
    await this.d.db.deleteFrom('tokens').where('user_id', '=', userId).execute();
  }

  async revokeProject(projectId: string): Promise<void> {
    await this.d.db.deleteFrom('tokens').where('project_id', '=', projectId).execute();
  }

  async revokeDomain(domainId: string): Promise<void> {
    const db = this.d.db;
    await db
      .deleteFrom('tokens')
      .where((eb) =>
        eb.or([
          eb('domain_id', '=', domainId),
          eb('project_id', 'in', eb.selectFrom('projects').select('id').where('domain_id', '=', domainId)),
          eb('user_id', 'in', eb.selectFrom('users').select('id').where('domain_id', '=', domainId)),
        ]),
      )
      .execute();
  }

  async revokeTrust(trustId: string): Promise<void> {
    await this.d.db.deleteFrom('tokens').where('trust_id', '=', trustId).execute();
  }

  async revokeAppCred(appCredId: string): Promise<void> {
    await this.d.db.deleteFrom('tokens').where('app_cred_id', '=', appCredId).execute();
  }

  /** After a grant is removed: the affected users' tokens on that target. */
  async revokeFor(userIds: string[], target: Target): Promise<void> {
    if (!userIds.length) return;
    let q = this.d.db.deleteFrom('tokens').where('user_id', 'in', userIds);
    if ('project' in target) q = q.where('project_id', '=', target.project);
    else if ('domain' in target) q = q.where('domain_id', '=', target.domain);
    else q = q.where('system', '=', 1);
    await q.execute();
  }

  /** Drops expired rows; called periodically. */
  async purgeExpired(): Promise<number> {
    const r = await this.d.db
      .deleteFrom('tokens')
      .where('expires_at', '<=', new Date().toISOString())
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

export function toAuthContext(info: TokenInfo): AuthContext {
  const ctx: AuthContext = {
    tokenHash: info.hash,
    userId: info.user.id,
    userName: info.user.name,
    userDomainId: info.userDomain.id,
    userDomainName: info.userDomain.name,
    system: info.system,
    roles: info.roles.map((r) => ({ id: r.id, name: r.name })),
    roleNames: new Set(info.roles.map((r) => r.name)),
    methods: info.methods,
    auditIds: info.auditIds,
    issuedAt: info.issuedAt,
    expiresAt: info.expiresAt,
  };
  if (info.project) {
    ctx.projectId = info.project.id;
    ctx.projectName = info.project.name;
    ctx.projectDomainId = info.projectDomain!.id;
    ctx.projectDomainName = info.projectDomain!.name;
  }
  if (info.domain) {
    ctx.domainId = info.domain.id;
    ctx.domainName = info.domain.name;
  }
  if (info.trust) ctx.trustId = info.trust.id;
  if (info.appCred) ctx.appCredId = info.appCred.id;
  if (info.accessRules?.length) ctx.accessRules = info.accessRules;
  return ctx;
}
