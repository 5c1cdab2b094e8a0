import type { IdentityDeps } from './common.js';
import type { UserRow, DomainRow } from '../../store/identity-tables.js';
import type { Tokens, TokenInfo } from './tokens.js';
import type { Target } from './assignments.js';
import { verifyPassword, sha256 } from './passwords.js';
import { badRequest, unauthorized, forbidden, notFound } from '../../errors.js';
import { fromJson } from '../../store/database.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const SUPPORTED = new Set(['password', 'token', 'application_credential']);

const denied = (why = 'The request you have made requires authentication.') => unauthorized(why);

/** POST /v3/auth/tokens: who is this, and what may the token be scoped to. */
export class Authenticator {
  constructor(
    private readonly d: IdentityDeps,
    private readonly tokens: Tokens,
  ) {}

  private async domainRef(ref: unknown): Promise<DomainRow> {
    if (!isObj(ref)) throw badRequest("Expecting to find 'domain' with 'id' or 'name'.");
    const q = this.d.db.selectFrom('domains').selectAll();
    const d =
      typeof ref.id === 'string'
        ? await q.where('id', '=', ref.id).executeTakeFirst()
        : typeof ref.name === 'string'
          ? await q.where('name', '=', ref.name).executeTakeFirst()
          : undefined;
    if (!d) throw denied(`Could not find domain: ${String(ref.id ?? ref.name)}.`);
    return d;
  }

  private async userRef(ref: unknown): Promise<UserRow> {
    if (!isObj(ref)) throw badRequest("Expecting to find 'user' in the identity section.");
    let u: UserRow | undefined;
    if (typeof ref.id === 'string') {
      u = await this.d.db.selectFrom('users').selectAll().where('id', '=', ref.id).executeTakeFirst();
    } else if (typeof ref.name === 'string') {
      const dom = await this.domainRef(ref.domain);
      u = await this.d.db
        .selectFrom('users')
        .selectAll()
        .where('name', '=', ref.name)
        .where('domain_id', '=', dom.id)
        .executeTakeFirst();
    } else {
      throw badRequest("Expecting to find 'id' or 'name' in 'user'.");
    }
    if (!u) throw denied();
    return u;
  }

  /** Verifies a password, with Keystone's lockout: N consecutive failures lock the account for a while. */
  private async checkPassword(u: UserRow, password: string): Promise<void> {
    const { lockoutFailureAttempts: max, lockoutDurationSeconds: duration } = this.d.config.securityCompliance;
    const locked =
      max > 0 &&
      u.failed_auth_count >= max &&
      !!u.failed_auth_at &&
      Date.parse(u.failed_auth_at) + duration * 1000 > Date.now();
    if (locked) throw denied(`The account is locked for user: ${u.id}.`);
    if (await verifyPassword(password, u.password_hash)) {
      if (u.failed_auth_count)
        await this.d.db
          .updateTable('users')
          .set({ failed_auth_count: 0, failed_auth_at: null })
          .where('id', '=', u.id)
          .execute();
      return;
    }
    if (max > 0) {
      // After the lockout has passed, counting starts again from one.
      const expired = u.failed_auth_at && Date.parse(u.failed_auth_at) + duration * 1000 <= Date.now();
      const count = expired ? 1 : u.failed_auth_count + 1;
      await this.d.db
        .updateTable('users')
        .set({ failed_auth_count: count, failed_auth_at: new Date().toISOString() })
        .where('id', '=', u.id)
        .execute();
    }
    throw denied();
  }

  private async checkUserUsable(u: UserRow): Promise<void> {
    if (!u.enabled) throw denied(`User ${u.id} is disabled.`);
    const dom = await this.d.db
      .selectFrom('domains')
      .select('enabled')
      .where('id', '=', u.domain_id)
      .executeTakeFirst();
    if (!dom?.enabled) throw denied(`Domain ${u.domain_id} is disabled.`);
  }

  /** Authenticates the request body and issues a token. */
  async authenticate(body: unknown): Promise<{ token: string; info: TokenInfo }> {
    if (!isObj(body) || !isObj(body.auth)) throw badRequest("Expecting to find 'auth' in the request body.");
    const auth = body.auth;
    if (!isObj(auth.identity)) throw badRequest("Expecting to find 'identity' in 'auth'.");
    const identity = auth.identity;
    const methods = identity.methods;
    if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
      throw badRequest("Expecting to find 'methods' as a non-empty list of strings in 'identity'.");
    }
    for (const m of methods as string[]) {
      if (!SUPPORTED.has(m)) throw denied('Attempted to authenticate with an unsupported method.');
      if (!isObj(identity[m])) throw badRequest(`Expecting to find '${m}' in 'identity'.`);
    }

    const ttlMs = this.d.config.tokenTtlSeconds * 1000;
    let expiresAt = new Date(Date.now() + ttlMs);
    let user: UserRow | undefined;
    let parent: TokenInfo | undefined;
    let appCred: { id: string; project_id: string; expires_at: string | null; unrestricted: number } | undefined;
    const tokenMethods: string[] = [];

    for (const m of methods as string[]) {
      const sec = identity[m] as Obj;
      let who: UserRow;
      if (m === 'password') {
        who = await this.userRef(sec.user);
        const pw = (sec.user as Obj).password;
        if (typeof pw !== 'string') throw badRequest("Expecting to find 'password' in 'user'.");
        await this.checkPassword(who, pw);
        await this.checkUserUsable(who);
        tokenMethods.push('password');
      } else if (m === 'token') {
        if (typeof sec.id !== 'string') throw badRequest("Expecting to find 'id' in 'token'.");
        // A revoked or expired token is "not found" (404), as Keystone answers; only bad credentials are 401.
        parent = await this.tokens.validate(sec.id).catch(() => {
          throw notFound('Could not find token.');
        });
        if (parent.trust) throw forbidden('Trust-scoped tokens cannot be rescoped.');
        if (parent.appCred) throw forbidden('Application credential tokens cannot be rescoped.');
        who = parent.user;
        expiresAt = new Date(Math.min(expiresAt.getTime(), Date.parse(parent.expiresAt)));
        for (const pm of parent.methods) if (!tokenMethods.includes(pm)) tokenMethods.push(pm);
        if (!tokenMethods.includes('token')) tokenMethods.unshift('token');
      } else {
        const ac = await this.appCredRef(sec);
        if (ac.expires_at && ac.expires_at <= new Date().toISOString())
          throw denied('Application credential has expired.');
        if (typeof sec.secret !== 'string' || sha256(sec.secret) !== ac.secret_hash) throw denied();
        who = (await this.d.db.selectFrom('users').selectAll().where('id', '=', ac.user_id).executeTakeFirst())!;
        if (!who) throw denied();
        await this.checkUserUsable(who);
        appCred = ac;
        if (ac.expires_at) expiresAt = new Date(Math.min(expiresAt.getTime(), Date.parse(ac.expires_at)));
        tokenMethods.push('application_credential');
      }
      if (user && user.id !== who.id) throw denied('The methods identify different users.');
      user = who;
    }
    if (!user) throw denied();

    // Scope.
    let scope: Target | undefined;
    let trustId: string | undefined;
    let tokenUserId = user.id;
    const reqScope = auth.scope;
    if (appCred) {
      if (reqScope !== undefined && reqScope !== 'unscoped') {
        const s = await this.resolveScope(reqScope);
        if (!('project' in s) || s.project !== appCred.project_id)
          throw denied('Application credentials are bound to their project.');
      }
      scope = { project: appCred.project_id };
    } else if (reqScope === undefined) {
      if (parent) {
        // Re-authenticating with a token and no scope keeps the token unscoped.
        scope = undefined;
      } else if (user.default_project_id) {
        const p = await this.d.db
          .selectFrom('projects')
          .select(['id', 'enabled'])
          .where('id', '=', user.default_project_id)
          .executeTakeFirst();
        if (p?.enabled) scope = { project: p.id };
      }
    } else if (reqScope === 'unscoped') {
      scope = undefined;
    } else if (isObj(reqScope) && isObj(reqScope['OS-TRUST:trust'])) {
      const t = await this.useTrust(reqScope['OS-TRUST:trust'], user.id);
      trustId = t.id;
      if (t.impersonation) tokenUserId = t.trustor_user_id;
      if (t.expires_at) expiresAt = new Date(Math.min(expiresAt.getTime(), Date.parse(t.expires_at)));
      scope = t.project_id ? { project: t.project_id } : undefined;
      tokenMethods.length = 0;
      tokenMethods.push(...(methods as string[]));
    } else {
      scope = await this.resolveScope(reqScope);
    }

    const issued = await this.tokens
      .issue({
        userId: tokenUserId,
        methods: tokenMethods,
        scope,
        expiresAt,
        ...(parent ? { parentAuditId: parent.auditIds[0] } : {}),
        ...(trustId ? { trustId } : {}),
        ...(appCred ? { appCredId: appCred.id } : {}),
      })
      .catch(async (e) => {
        // Keystone distinguishes "no roles" from other failures only in the message.
        throw e;
      });
    if (scope && issued.info.roles.length === 0) throw denied('The user has no roles in the requested scope.');
    return issued;
  }

  private async appCredRef(sec: Obj) {
    const q = this.d.db.selectFrom('application_credentials').selectAll();
    let ac;
    if (typeof sec.id === 'string') ac = await q.where('id', '=', sec.id).executeTakeFirst();
    else if (typeof sec.name === 'string') {
      const u = await this.userRef(sec.user);
      ac = await q.where('name', '=', sec.name).where('user_id', '=', u.id).executeTakeFirst();
    } else throw badRequest("Expecting to find 'id' or 'name' in 'application_credential'.");
    if (!ac) throw denied();
    return ac;
  }

  private async useTrust(ref: Obj, trusteeId: string) {
    if (typeof ref.id !== 'string') throw badRequest("Expecting to find 'id' in 'OS-TRUST:trust'.");
    const db = this.d.db;
    const t = await db.selectFrom('trusts').selectAll().where('id', '=', ref.id).executeTakeFirst();
    if (!t || t.deleted_at) throw denied(`Could not find trust: ${ref.id}.`);
    if (t.trustee_user_id !== trusteeId) throw forbidden('The user is not the trustee of this trust.');
    if (t.expires_at && t.expires_at <= new Date().toISOString()) throw denied('The trust has expired.');
    const trustor = await db.selectFrom('users').selectAll().where('id', '=', t.trustor_user_id).executeTakeFirst();
    if (!trustor) throw denied();
    await this.checkUserUsable(trustor);
    if (t.remaining_uses !== null) {
      if (t.remaining_uses <= 0) throw denied('The trust has no remaining uses.');
      // Decrement only if nobody else used the last one in between.
      const r = await db
        .updateTable('trusts')
        .set({ remaining_uses: t.remaining_uses - 1 })
        .where('id', '=', t.id)
        .where('remaining_uses', '=', t.remaining_uses)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw denied('The trust has no remaining uses.');
    }
    return t;
  }

  private async resolveScope(s: unknown): Promise<Target> {
    if (!isObj(s)) throw badRequest('Invalid scope.');
    const db = this.d.db;
    if (isObj(s.project)) {
      const ref = s.project;
      let p;
      if (typeof ref.id === 'string')
        p = await db.selectFrom('projects').selectAll().where('id', '=', ref.id).executeTakeFirst();
      else if (typeof ref.name === 'string') {
        const dom = await this.domainRef(ref.domain);
        p = await db
          .selectFrom('projects')
          .selectAll()
          .where('name', '=', ref.name)
          .where('domain_id', '=', dom.id)
          .executeTakeFirst();
      } else throw badRequest("Expecting to find 'id' or 'name' in 'project'.");
      if (!p) throw denied(`Could not find project: ${String(ref.id ?? ref.name)}.`);
      if (!p.enabled) throw denied(`Project ${p.id} is disabled.`);
      const dom = await db.selectFrom('domains').select('enabled').where('id', '=', p.domain_id).executeTakeFirst();
      if (!dom?.enabled) throw denied(`Domain ${p.domain_id} is disabled.`);
      return { project: p.id };
    }
    if (isObj(s.domain)) {
      const dom = await this.domainRef(s.domain);
      if (!dom.enabled) throw denied(`Domain ${dom.id} is disabled.`);
      return { domain: dom.id };
    }
    if (isObj(s.system)) {
      if (s.system.all !== true) throw badRequest("Expecting 'system': {'all': true}.");
      return { system: true };
    }
    throw badRequest('Specify a project, a domain, the system or a trust as the scope.');
  }
}

/** Reads a TrustRow's role ids. */
export const trustRoleIds = (roles: string) => fromJson<string[]>(roles, []);
