import type { IdentityDeps } from './common.js';
import { checkName, splitExtra, nowIso } from './common.js';
import type { UserRow, GroupRow } from '../../store/identity-tables.js';
import { bool, fromJson, isUniqueViolation, inTransaction } from '../../store/database.js';
import { hexId } from '../../util/ids.js';
import { badRequest, conflict, notFound, unauthorized } from '../../errors.js';
import { hashPassword, verifyPassword } from './passwords.js';

export interface User {
  id: string;
  name: string;
  domain_id: string;
  enabled: boolean;
  default_project_id: string | null;
  password_expires_at: string | null;
  options: Record<string, unknown>;
  extra: Record<string, unknown>;
}
export interface Group {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  extra: Record<string, unknown>;
}

const USER_KNOWN = [
  'id',
  'name',
  'domain_id',
  'enabled',
  'password',
  'default_project_id',
  'options',
  'password_expires_at',
  'federated',
] as const;
const GROUP_KNOWN = ['id', 'name', 'domain_id', 'description'] as const;

export function toUser(r: UserRow): User {
  return {
    id: r.id,
    name: r.name,
    domain_id: r.domain_id,
    enabled: !!r.enabled,
    default_project_id: r.default_project_id,
    password_expires_at: r.password_expires_at,
    options: fromJson(r.options, {}),
    extra: fromJson(r.extra, {}),
  };
}
const toGroup = (r: GroupRow): Group => ({
  id: r.id,
  name: r.name,
  domain_id: r.domain_id,
  description: r.description,
  extra: fromJson(r.extra, {}),
});

function checkPassword(p: unknown): string {
  if (typeof p !== 'string') throw badRequest("Invalid input for field 'password': must be a string.");
  if (p.length > 4096) throw badRequest("Invalid input for field 'password': too long.");
  return p;
}

/** Users (with scrypt password hashes) and groups with their members. */
export class Users {
  constructor(
    private readonly d: IdentityDeps,
    private readonly revokeUser: (userId: string) => Promise<void>,
  ) {}

  async create(body: Record<string, unknown>, defaultDomainId: string): Promise<User> {
    const name = checkName(body.name);
    const domainId = (body.domain_id as string | undefined) ?? defaultDomainId;
    if (!(await this.d.db.selectFrom('domains').select('id').where('id', '=', domainId).executeTakeFirst())) {
      throw notFound(`Could not find domain: ${domainId}.`);
    }
    if (body.enabled !== undefined && typeof body.enabled !== 'boolean')
      throw badRequest("Invalid input for field 'enabled': must be a boolean.");
    const password = body.password === undefined || body.password === null ? null : checkPassword(body.password);
    const row: UserRow = {
      id: hexId(),
      name,
      domain_id: domainId,
      enabled: bool(body.enabled ?? true),
      password_hash: password === null ? null : await hashPassword(password, this.d.config.passwordHash),
      password_expires_at: null,
      default_project_id: (body.default_project_id as string | undefined) ?? null,
      options: JSON.stringify(body.options ?? {}),
      extra: JSON.stringify(splitExtra(body, USER_KNOWN)),
      created_at: nowIso(),
      failed_auth_count: 0,
      failed_auth_at: null,
    };
    try {
      await this.d.db.insertInto('users').values(row).execute();
      if (row.password_hash) await this.remember(row.id, row.password_hash);
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to store user - Duplicate entry found with name ${name} at domain ID ` +
            `${domainId}.`,
        );
      throw e;
    }
    return toUser(row);
  }

  async find(id: string): Promise<UserRow | undefined> {
    return this.d.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(id: string): Promise<User> {
    const r = await this.find(id);
    if (!r) throw notFound(`Could not find user: ${id}.`);
    return toUser(r);
  }

  async findByName(name: string, domainId: string): Promise<UserRow | undefined> {
    return this.d.db
      .selectFrom('users')
      .selectAll()
      .where('name', '=', name)
      .where('domain_id', '=', domainId)
      .executeTakeFirst();
  }

  async list(f: { name?: string; domain_id?: string; enabled?: boolean; ids?: string[] }): Promise<User[]> {
    let q = this.d.db.selectFrom('users').selectAll().orderBy('name');
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.domain_id !== undefined) q = q.where('domain_id', '=', f.domain_id);
    if (f.enabled !== undefined) q = q.where('enabled', '=', bool(f.enabled));
    if (f.ids) q = f.ids.length ? q.where('id', 'in', f.ids) : q.where('id', '=', '\u0000');
    return (await q.execute()).map(toUser);
  }

  async update(id: string, body: Record<string, unknown>): Promise<User> {
    const cur = await this.get(id);
    if (body.domain_id !== undefined && body.domain_id !== cur.domain_id)
      throw badRequest('Cannot change the domain_id of a user.');
    const patch: Partial<UserRow> = {};
    if (body.name !== undefined) patch.name = checkName(body.name);
    if (body.enabled !== undefined) {
      if (typeof body.enabled !== 'boolean') throw badRequest("Invalid input for field 'enabled': must be a boolean.");
      patch.enabled = bool(body.enabled);
    }
    if (body.default_project_id !== undefined)
      patch.default_project_id = (body.default_project_id as string | null) ?? null;
    if (body.options !== undefined) patch.options = JSON.stringify({ ...cur.options, ...(body.options as object) });
    let passwordChanged = false;
    if (body.password !== undefined) {
      // An admin reset is recorded in the history but, as in Keystone, not checked against it.
      patch.password_hash =
        body.password === null ? null : await hashPassword(checkPassword(body.password), this.d.config.passwordHash);
      patch.failed_auth_count = 0;
      passwordChanged = true;
    }
    patch.extra = JSON.stringify({ ...cur.extra, ...splitExtra(body, USER_KNOWN) });
    try {
      await this.d.db.updateTable('users').set(patch).where('id', '=', id).execute();
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to update user - Duplicate entry found with name ${String(body.name)}.`,
        );
      throw e;
    }
    if (patch.password_hash) await this.remember(id, patch.password_hash);
    if ((cur.enabled && patch.enabled === 0) || passwordChanged) await this.revokeUser(id);
    return this.get(id);
  }

  /** A user changes their own password; the original must match. All their tokens are revoked. */
  async changeOwnPassword(id: string, original: unknown, next: unknown): Promise<void> {
    const row = await this.find(id);
    if (!row) throw notFound(`Could not find user: ${id}.`);
    if (typeof original !== 'string' || !(await verifyPassword(original, row.password_hash))) {
      throw unauthorized('The request you have made requires authentication.');
    }
    const password = checkPassword(next);
    await this.checkAgainstPolicy(id, password);
    const hash = await hashPassword(password, this.d.config.passwordHash);
    await this.d.db
      .updateTable('users')
      .set({ password_hash: hash, failed_auth_count: 0 })
      .where('id', '=', id)
      .execute();
    await this.remember(id, hash);
    await this.revokeUser(id);
  }

  /** security_compliance for self-service changes: minimum password age and no reuse of the last N passwords. */
  private async checkAgainstPolicy(id: string, password: string): Promise<void> {
    const sc = this.d.config.securityCompliance;
    const history = await this.d.db
      .selectFrom('password_history')
      .select(['password_hash', 'created_at'])
      .where('user_id', '=', id)
      .orderBy('created_at', 'desc')
      .limit(Math.max(1, sc.uniqueLastPasswordCount))
      .execute();
    if (sc.minimumPasswordAgeDays > 0 && history[0]) {
      const ageDays = (Date.now() - Date.parse(history[0].created_at)) / 86_400_000;
      if (ageDays < sc.minimumPasswordAgeDays) {
        throw badRequest(
          `You cannot change your password at this time due to the minimum password age. Once you change your ` +
            `password, it must be used for ${sc.minimumPasswordAgeDays} day(s) before it can be changed.`,
        );
      }
    }
    if (sc.uniqueLastPasswordCount > 0) {
      for (const h of history) {
        if (await verifyPassword(password, h.password_hash)) {
          throw badRequest(
            `The new password cannot be identical to a previous password. The total number which includes the new ` +
              `password must be unique is ${sc.uniqueLastPasswordCount}.`,
          );
        }
      }
    }
  }

  /** Appends to the password history, keeping only as many entries as the policy looks at (at least one). */
  private async remember(userId: string, hash: string): Promise<void> {
    const db = this.d.db;
    // ISO timestamps with a sequence guard: two changes in the same millisecond still sort in order.
    const last = await db
      .selectFrom('password_history')
      .select('created_at')
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    let at = new Date();
    if (last && Date.parse(last.created_at) >= at.getTime()) at = new Date(Date.parse(last.created_at) + 1);
    await db
      .insertInto('password_history')
      .values({ user_id: userId, password_hash: hash, created_at: at.toISOString() })
      .execute();
    const keep = Math.max(1, this.d.config.securityCompliance.uniqueLastPasswordCount);
    const old = await db
      .selectFrom('password_history')
      .select('created_at')
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .offset(keep)
      .limit(1000)
      .execute();
    if (old.length)
      await db
        .deleteFrom('password_history')
        .where('user_id', '=', userId)
        .where('created_at', '<=', old[0]!.created_at)
        .execute();
  }

  async delete(id: string, cascade: (trx: IdentityDeps['db'], userId: string) => Promise<void>): Promise<void> {
    await this.get(id);
    await inTransaction(this.d.db, async (trx) => {
      await cascade(trx as unknown as IdentityDeps['db'], id);
      await trx.deleteFrom('group_members').where('user_id', '=', id).execute();
      await trx.deleteFrom('password_history').where('user_id', '=', id).execute();
      await trx.deleteFrom('users').where('id', '=', id).execute();
    });
    await this.revokeUser(id);
  }

  // Groups.
  async createGroup(body: Record<string, unknown>, defaultDomainId: string): Promise<Group> {
    const name = checkName(body.name);
    const domainId = (body.domain_id as string | undefined) ?? defaultDomainId;
    if (!(await this.d.db.selectFrom('domains').select('id').where('id', '=', domainId).executeTakeFirst())) {
      throw notFound(`Could not find domain: ${domainId}.`);
    }
    const row: GroupRow = {
      id: hexId(),
      name,
      domain_id: domainId,
      description: typeof body.description === 'string' ? body.description : '',
      extra: JSON.stringify(splitExtra(body, GROUP_KNOWN)),
    };
    try {
      await this.d.db.insertInto('identity_groups').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(`Conflict occurred attempting to store group - Duplicate entry found with name ${name}.`);
      throw e;
    }
    return toGroup(row);
  }

  async getGroup(id: string): Promise<Group> {
    const r = await this.d.db.selectFrom('identity_groups').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find group: ${id}.`);
    return toGroup(r);
  }

  async findGroupByName(name: string, domainId: string): Promise<Group | undefined> {
    const r = await this.d.db
      .selectFrom('identity_groups')
      .selectAll()
      .where('name', '=', name)
      .where('domain_id', '=', domainId)
      .executeTakeFirst();
    return r ? toGroup(r) : undefined;
  }

  async listGroups(f: { name?: string; domain_id?: string; userId?: string }): Promise<Group[]> {
    let q = this.d.db.selectFrom('identity_groups').selectAll().orderBy('name');
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.domain_id !== undefined) q = q.where('domain_id', '=', f.domain_id);
    if (f.userId !== undefined) {
      const uid = f.userId;
      q = q.where('id', 'in', (eb) => eb.selectFrom('group_members').select('group_id').where('user_id', '=', uid));
    }
    return (await q.execute()).map(toGroup);
  }

  async updateGroup(id: string, body: Record<string, unknown>): Promise<Group> {
    const cur = await this.getGroup(id);
    if (body.domain_id !== undefined && body.domain_id !== cur.domain_id)
      throw badRequest('Cannot change the domain_id of a group.');
    const patch: Partial<GroupRow> = { extra: JSON.stringify({ ...cur.extra, ...splitExtra(body, GROUP_KNOWN) }) };
    if (body.name !== undefined) patch.name = checkName(body.name);
    if (body.description !== undefined) patch.description = String(body.description ?? '');
    try {
      await this.d.db.updateTable('identity_groups').set(patch).where('id', '=', id).execute();
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to update group - Duplicate entry found with name ${String(body.name)}.`,
        );
      throw e;
    }
    return this.getGroup(id);
  }

  async deleteGroup(id: string): Promise<void> {
    await this.getGroup(id);
    const members = await this.groupMemberIds(id);
    await inTransaction(this.d.db, async (trx) => {
      await trx.deleteFrom('assignments').where('actor_id', '=', id).execute();
      await trx.deleteFrom('group_members').where('group_id', '=', id).execute();
      await trx.deleteFrom('identity_groups').where('id', '=', id).execute();
    });
    for (const u of members) await this.revokeUser(u);
  }

  async groupMemberIds(groupId: string): Promise<string[]> {
    return (
      await this.d.db.selectFrom('group_members').select('user_id').where('group_id', '=', groupId).execute()
    ).map((r) => r.user_id);
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    await this.getGroup(groupId);
    await this.get(userId);
    const exists = await this.isMember(groupId, userId);
    if (!exists) await this.d.db.insertInto('group_members').values({ group_id: groupId, user_id: userId }).execute();
  }

  async isMember(groupId: string, userId: string): Promise<boolean> {
    return !!(await this.d.db
      .selectFrom('group_members')
      .select('user_id')
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst());
  }

  async removeMember(groupId: string, userId: string): Promise<void> {
    await this.getGroup(groupId);
    await this.get(userId);
    if (!(await this.isMember(groupId, userId)))
      throw notFound(`Could not find user, ${userId}, in group, ${groupId}.`);
    await this.d.db.deleteFrom('group_members').where('group_id', '=', groupId).where('user_id', '=', userId).execute();
    await this.revokeUser(userId);
  }
}
