import type { IdentityDeps } from './common.js';
import type { AssignmentRow, AssignmentType, ProjectRow } from '../../store/identity-tables.js';
import { notFound, badRequest } from '../../errors.js';
import type { Roles } from './roles.js';
import type { Projects } from './projects.js';

export const SYSTEM_TARGET = 'system';

/** Where a role is granted. */
export type Target = { project: string } | { domain: string } | { system: true };
/** To whom. */
export type Actor = { user: string } | { group: string };

/** One row of GET /v3/role_assignments, before names and links are added by the API. */
export interface AssignmentView {
  roleId: string;
  userId?: string;
  groupId?: string;
  projectId?: string;
  domainId?: string;
  system?: boolean;
  inherited: boolean;
  /** Effective listing: the group through which the user got it. */
  viaGroupId?: string;
  /** Effective listing: the role that implied this one. */
  priorRoleId?: string;
}

export interface AssignmentFilter {
  userId?: string;
  groupId?: string;
  roleId?: string;
  projectId?: string;
  domainId?: string;
  system?: boolean;
  inherited?: boolean;
  effective?: boolean;
  includeSubtree?: boolean;
}

function typeOf(actor: Actor, target: Target): AssignmentType {
  const a = 'user' in actor ? 'User' : 'Group';
  const t = 'project' in target ? 'Project' : 'domain' in target ? 'Domain' : 'System';
  return `${a}${t}` as AssignmentType;
}
const actorId = (a: Actor) => ('user' in a ? a.user : a.group);
const targetId = (t: Target) => ('project' in t ? t.project : 'domain' in t ? t.domain : SYSTEM_TARGET);

/** Role assignments: grants of a role to a user or group on a project, a domain or the system. */
export class Assignments {
  constructor(
    private readonly d: IdentityDeps,
    private readonly roles: Roles,
    private readonly projects: Projects,
    private readonly revokeFor: (userIds: string[], target: Target) => Promise<void>,
  ) {}

  private async checkParties(actor: Actor, target: Target, roleId: string): Promise<void> {
    const db = this.d.db;
    if ('user' in actor && !(await db.selectFrom('users').select('id').where('id', '=', actor.user).executeTakeFirst()))
      throw notFound(`Could not find user: ${actor.user}.`);
    if (
      'group' in actor &&
      !(await db.selectFrom('identity_groups').select('id').where('id', '=', actor.group).executeTakeFirst())
    )
      throw notFound(`Could not find group: ${actor.group}.`);
    if (
      'project' in target &&
      !(await db.selectFrom('projects').select('id').where('id', '=', target.project).executeTakeFirst())
    )
      throw notFound(`Could not find project: ${target.project}.`);
    if (
      'domain' in target &&
      !(await db.selectFrom('domains').select('id').where('id', '=', target.domain).executeTakeFirst())
    )
      throw notFound(`Could not find domain: ${target.domain}.`);
    const role = await this.roles.find(roleId);
    if (!role) throw notFound(`Could not find role: ${roleId}.`);
    if (role.domain_id) {
      // A domain-specific role can only be granted within its own domain.
      const tDomain =
        'domain' in target
          ? target.domain
          : 'project' in target
            ? (await this.projects.find(target.project))?.domain_id
            : undefined;
      if (tDomain !== role.domain_id)
        throw badRequest(`The role ${roleId} is specific to domain ${role.domain_id} and cannot be granted here.`);
    }
  }

  async grant(actor: Actor, target: Target, roleId: string, inherited = false): Promise<void> {
    await this.checkParties(actor, target, roleId);
    const row: AssignmentRow = {
      type: typeOf(actor, target),
      actor_id: actorId(actor),
      target_id: targetId(target),
      role_id: roleId,
      inherited: inherited ? 1 : 0,
    };
    if (!(await this.find(row))) await this.d.db.insertInto('assignments').values(row).execute();
  }

  private find(row: AssignmentRow) {
    return this.d.db
      .selectFrom('assignments')
      .select('role_id')
      .where('type', '=', row.type)
      .where('actor_id', '=', row.actor_id)
      .where('target_id', '=', row.target_id)
      .where('role_id', '=', row.role_id)
      .where('inherited', '=', row.inherited)
      .executeTakeFirst();
  }

  async check(actor: Actor, target: Target, roleId: string, inherited = false): Promise<void> {
    await this.checkParties(actor, target, roleId);
    const row: AssignmentRow = {
      type: typeOf(actor, target),
      actor_id: actorId(actor),
      target_id: targetId(target),
      role_id: roleId,
      inherited: inherited ? 1 : 0,
    };
    if (!(await this.find(row)))
      throw notFound(
        `Could not find role assignment with role: ${roleId}, ${'user' in actor ? 'user' : 'group'}: ` +
          `${actorId(actor)}.`,
      );
  }

  async revoke(actor: Actor, target: Target, roleId: string, inherited = false): Promise<void> {
    await this.check(actor, target, roleId, inherited);
    await this.d.db
      .deleteFrom('assignments')
      .where('type', '=', typeOf(actor, target))
      .where('actor_id', '=', actorId(actor))
      .where('target_id', '=', targetId(target))
      .where('role_id', '=', roleId)
      .where('inherited', '=', inherited ? 1 : 0)
      .execute();
    const users =
      'user' in actor
        ? [actor.user]
        : (
            await this.d.db.selectFrom('group_members').select('user_id').where('group_id', '=', actor.group).execute()
          ).map((r) => r.user_id);
    await this.revokeFor(users, target);
  }

  /** Roles granted directly to the actor on the target (GET /projects/{p}/users/{u}/roles). */
  async listDirect(actor: Actor, target: Target, inherited = false): Promise<string[]> {
    await this.checkParties(actor, target, (await this.anyRoleId()) ?? '');
    const rows = await this.d.db
      .selectFrom('assignments')
      .select('role_id')
      .where('type', '=', typeOf(actor, target))
      .where('actor_id', '=', actorId(actor))
      .where('target_id', '=', targetId(target))
      .where('inherited', '=', inherited ? 1 : 0)
      .execute();
    return rows.map((r) => r.role_id);
  }

  private async anyRoleId(): Promise<string | undefined> {
    return (await this.d.db.selectFrom('roles').select('id').executeTakeFirst())?.id;
  }

  /** The role ids a user effectively holds on a scope, implied roles included, domain-specific roles left out. */
  async effectiveRoleIds(userId: string, scope: Target, loadedProject?: ProjectRow): Promise<Set<string>> {
    const db = this.d.db;
    const groups = (
      await db.selectFrom('group_members').select('group_id').where('user_id', '=', userId).execute()
    ).map((r) => r.group_id);
    const actors = [userId, ...groups];
    let direct: { role_id: string }[];
    if ('project' in scope) {
      const proj = loadedProject?.id === scope.project ? loadedProject : await this.projects.find(scope.project);
      if (!proj) return new Set();
      // A top-level project has no ancestors: skip the walk.
      const ancestors = proj.parent_id ? (await this.projects.ancestors(scope.project)).map((p) => p.id) : [];
      direct = await db
        .selectFrom('assignments')
        .select('role_id')
        .where('actor_id', 'in', actors)
        .where((eb) =>
          eb.or([
            eb.and([
              eb('type', 'in', ['UserProject', 'GroupProject']),
              eb('target_id', '=', scope.project),
              eb('inherited', '=', 0),
            ]),
            ...(ancestors.length
              ? [
                  eb.and([
                    eb('type', 'in', ['UserProject', 'GroupProject']),
                    eb('target_id', 'in', ancestors),
                    eb('inherited', '=', 1),
                  ]),
                ]
              : []),
            eb.and([
              eb('type', 'in', ['UserDomain', 'GroupDomain']),
              eb('target_id', '=', proj.domain_id),
              eb('inherited', '=', 1),
            ]),
          ]),
        )
        .execute();
    } else if ('domain' in scope) {
      direct = await db
        .selectFrom('assignments')
        .select('role_id')
        .where('actor_id', 'in', actors)
        .where('type', 'in', ['UserDomain', 'GroupDomain'])
        .where('target_id', '=', scope.domain)
        .where('inherited', '=', 0)
        .execute();
    } else {
      direct = await db
        .selectFrom('assignments')
        .select('role_id')
        .where('actor_id', 'in', actors)
        .where('type', 'in', ['UserSystem', 'GroupSystem'])
        .where('target_id', '=', SYSTEM_TARGET)
        .execute();
    }
    return this.withoutDomainSpecific(await this.roles.expandImplied(direct.map((r) => r.role_id)));
  }

  async withoutDomainSpecific(ids: Set<string>): Promise<Set<string>> {
    const rows = await this.roles.byIds([...ids]);
    return new Set([...ids].filter((id) => rows.get(id) && !rows.get(id)!.domain_id));
  }

  /** GET /v3/role_assignments. */
  async list(f: AssignmentFilter): Promise<AssignmentView[]> {
    if (f.effective && f.groupId) throw badRequest('Specifying group.id with effective=true is not allowed.');
    if (f.includeSubtree && !f.projectId) throw badRequest('include_subtree requires scope.project.id.');
    const db = this.d.db;
    const rows = await db.selectFrom('assignments').selectAll().execute();
    let views: AssignmentView[] = rows.map((r) => {
      const v: AssignmentView = { roleId: r.role_id, inherited: !!r.inherited };
      if (r.type.startsWith('User')) v.userId = r.actor_id;
      else v.groupId = r.actor_id;
      if (r.type.endsWith('Project')) v.projectId = r.target_id;
      else if (r.type.endsWith('Domain')) v.domainId = r.target_id;
      else v.system = true;
      return v;
    });

    if (f.effective) views = await this.effective(views);

    let projectIds: Set<string> | undefined;
    if (f.projectId) {
      projectIds = new Set([f.projectId]);
      if (f.includeSubtree) for (const p of await this.projects.descendants(f.projectId)) projectIds.add(p.id);
    }
    return views.filter((v) => {
      if (f.userId !== undefined && v.userId !== f.userId) return false;
      if (f.groupId !== undefined && v.groupId !== f.groupId) return false;
      if (f.roleId !== undefined && v.roleId !== f.roleId) return false;
      if (projectIds && !(v.projectId && projectIds.has(v.projectId))) return false;
      if (f.domainId !== undefined && v.domainId !== f.domainId) return false;
      if (f.system !== undefined && !!v.system !== f.system) return false;
      if (f.inherited !== undefined && v.inherited !== f.inherited) return false;
      return true;
    });
  }

  /** Expands group grants to members, inherited grants to the projects below, and implied roles. */
  private async effective(views: AssignmentView[]): Promise<AssignmentView[]> {
    const db = this.d.db;
    const members = await db.selectFrom('group_members').selectAll().execute();
    const byGroup = new Map<string, string[]>();
    for (const m of members) byGroup.set(m.group_id, [...(byGroup.get(m.group_id) ?? []), m.user_id]);
    const out: AssignmentView[] = [];
    for (const v of views) {
      const users: { userId: string; viaGroupId?: string }[] = v.userId
        ? [{ userId: v.userId }]
        : (byGroup.get(v.groupId!) ?? []).map((u) => ({ userId: u, viaGroupId: v.groupId! }));
      let targets: { projectId?: string; domainId?: string; system?: boolean }[];
      if (v.inherited) {
        const projects = v.domainId
          ? await db.selectFrom('projects').select('id').where('domain_id', '=', v.domainId).execute()
          : await this.projects.descendants(v.projectId!);
        targets = projects.map((p) => ({ projectId: p.id }));
      } else {
        targets = [{ projectId: v.projectId, domainId: v.domainId, system: v.system }];
      }
      for (const u of users)
        for (const t of targets) {
          const base: AssignmentView = { roleId: v.roleId, userId: u.userId, inherited: false };
          if (u.viaGroupId) base.viaGroupId = u.viaGroupId;
          if (t.projectId) base.projectId = t.projectId;
          if (t.domainId) base.domainId = t.domainId;
          if (t.system) base.system = true;
          out.push(base);
        }
    }
    // Implied roles: each grant also yields the roles it implies, linked to the prior role.
    const withImplied: AssignmentView[] = [];
    for (const v of out) {
      withImplied.push(v);
      const closure = await this.roles.expandImplied([v.roleId]);
      closure.delete(v.roleId);
      for (const implied of closure) {
        withImplied.push({ ...v, roleId: implied, priorRoleId: v.roleId });
      }
    }
    // Domain-specific roles never show as effective; only what they imply does.
    const roleRows = await this.roles.byIds([...new Set(withImplied.map((v) => v.roleId))]);
    const seen = new Set<string>();
    return withImplied.filter((v) => {
      if (roleRows.get(v.roleId)?.domain_id) return false;
      const key = [v.roleId, v.userId, v.projectId, v.domainId, v.system, v.viaGroupId, v.priorRoleId].join('|');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /** Removes every grant that names one of these actors or targets (used by deletes). */
  async purge(db: IdentityDeps['db'], ids: { actors?: string[]; targets?: string[] }): Promise<void> {
    if (ids.actors?.length) await db.deleteFrom('assignments').where('actor_id', 'in', ids.actors).execute();
    if (ids.targets?.length) await db.deleteFrom('assignments').where('target_id', 'in', ids.targets).execute();
  }
}
