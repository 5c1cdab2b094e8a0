import type { Role } from '../../services/identity/roles.js';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { Actor, Target, AssignmentView } from '../../services/identity/assignments.js';
import { queryBool } from '../../services/identity/common.js';
import { op, type RouteTarget } from '../http/route-policy.js';
import { registerCrud, flatQuery, crudRules, querySchema } from './crud.js';
import type { Views } from './views.js';

/** GET /role_assignments?user.id=X: the listed user is the target (a user may list their own assignments). */
const assignmentUser: RouteTarget = (req) => {
  const u = (req.query as Record<string, unknown> | undefined)?.['user.id'];
  const last = Array.isArray(u) ? u[u.length - 1] : u;
  return { user_id: typeof last === 'string' ? last : null };
};

/** Roles, implied roles, grants (incl. OS-INHERIT and system) and GET /role_assignments. */
export function roleRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const id = deps.identity;

  registerCrud<Role>(app, v, {
    path: '/roles',
    member: 'role',
    view: (r) => v.role(r),
    rules: crudRules('role', 'roles'),
    filters: ['name', 'domain_id'],
    create: async (_a, b) => id.roles.create(b),
    list: async (_a, q) =>
      id.roles.list({ ...(q.name !== undefined ? { name: q.name } : {}), domain_id: q.domain_id ?? null }),
    get: async (_a, rid) => id.roles.get(rid),
    update: async (_a, rid, b) => id.roles.update(rid, b),
    remove: async (_a, rid) => {
      await id.roles.delete(rid);
    },
  });

  // Implied roles.
  type Pair = { prior_role_id: string; implied_role_id: string };
  const inferenceBody = (p: Awaited<ReturnType<typeof id.roles.getImplication>>) => ({
    role_inference: { prior_role: v.roleRef(p.prior), implies: v.roleRef(p.implied) },
    links: v.self(`/roles/${p.prior.id}/implies/${p.implied.id}`),
  });
  app.put(
    '/v3/roles/:prior_role_id/implies/:implied_role_id',
    op('identity:create_implied_role', { body: 'none' }),
    async (req, reply) => {
      const { prior_role_id, implied_role_id } = req.params as Pair;
      const p = await id.roles.createImplication(prior_role_id, implied_role_id);
      reply.code(201);
      return inferenceBody(p);
    },
  );
  app.get(
    '/v3/roles/:prior_role_id/implies/:implied_role_id',
    op('identity:get_implied_role', { exposeHeadRoute: false }),
    async (req) => {
      const { prior_role_id, implied_role_id } = req.params as Pair;
      return inferenceBody(await id.roles.getImplication(prior_role_id, implied_role_id));
    },
  );
  app.head(
    '/v3/roles/:prior_role_id/implies/:implied_role_id',
    op('identity:check_implied_role'),
    async (req, reply) => {
      const { prior_role_id, implied_role_id } = req.params as Pair;
      await id.roles.getImplication(prior_role_id, implied_role_id);
      reply.code(204).send();
    },
  );
  app.delete(
    '/v3/roles/:prior_role_id/implies/:implied_role_id',
    op('identity:delete_implied_role'),
    async (req, reply) => {
      const { prior_role_id, implied_role_id } = req.params as Pair;
      await id.roles.deleteImplication(prior_role_id, implied_role_id);
      reply.code(204).send();
    },
  );
  app.get('/v3/roles/:prior_role_id/implies', op('identity:list_implied_roles'), async (req) => {
    const { prior_role_id } = req.params as { prior_role_id: string };
    const [inf] = await id.roles.listImplications(prior_role_id);
    return { role_inference: v.inference(inf!.prior, inf!.implies), links: v.self(`/roles/${prior_role_id}/implies`) };
  });
  app.get('/v3/role_inferences', op('identity:list_role_inference_rules'), async () => {
    const all = await id.roles.listImplications();
    return { role_inferences: all.map((i) => v.inference(i.prior, i.implies)), links: v.self('/role_inferences') };
  });

  // Grants: /{projects|domains}/{target}/{users|groups}/{actor}/roles[/{role}], also under OS-INHERIT, and /system.
  const combos: { t: 'projects' | 'domains' | 'system'; a: 'users' | 'groups' }[] = [
    { t: 'projects', a: 'users' },
    { t: 'projects', a: 'groups' },
    { t: 'domains', a: 'users' },
    { t: 'domains', a: 'groups' },
    { t: 'system', a: 'users' },
    { t: 'system', a: 'groups' },
  ];
  for (const { t, a } of combos) {
    const actorOf = (p: Record<string, string>): Actor => (a === 'users' ? { user: p.actor! } : { group: p.actor! });
    const targetOf = (p: Record<string, string>): Target =>
      t === 'projects' ? { project: p.target! } : t === 'domains' ? { domain: p.target! } : { system: true };
    const prefixes =
      t === 'system'
        ? [{ base: `/v3/system/${a}/:actor/roles`, suffix: '', inherited: false }]
        : [
            { base: `/v3/${t}/:target/${a}/:actor/roles`, suffix: '', inherited: false },
            {
              base: `/v3/OS-INHERIT/${t}/:target/${a}/:actor/roles`,
              suffix: '/inherited_to_projects',
              inherited: true,
            },
          ];
    // Keystone names the system grants' rules apart (identity:create_system_grant_for_user, ...); the rule is the same.
    const actorTarget: RouteTarget = (req) => ({
      user_id: a === 'users' ? ((req.params as Record<string, string>).actor ?? null) : null,
    });
    for (const { base, suffix, inherited } of prefixes) {
      app.put(`${base}/:role_id${suffix}`, op('identity:create_grant', { body: 'none' }), async (req, reply) => {
        const p = req.params as Record<string, string>;
        await id.assignments.grant(actorOf(p), targetOf(p), p.role_id!, inherited);
        reply.code(204).send();
      });
      app.head(`${base}/:role_id${suffix}`, op('identity:check_grant'), async (req, reply) => {
        const p = req.params as Record<string, string>;
        await id.assignments.check(actorOf(p), targetOf(p), p.role_id!, inherited);
        reply.code(204).send();
      });
      app.get(
        `${base}/:role_id${suffix}`,
        op('identity:check_grant', { exposeHeadRoute: false }),
        async (req, reply) => {
          const p = req.params as Record<string, string>;
          await id.assignments.check(actorOf(p), targetOf(p), p.role_id!, inherited);
          reply.code(204).send();
        },
      );
      app.delete(`${base}/:role_id${suffix}`, op('identity:revoke_grant'), async (req, reply) => {
        const p = req.params as Record<string, string>;
        await id.assignments.revoke(actorOf(p), targetOf(p), p.role_id!, inherited);
        reply.code(204).send();
      });
      app.get(`${base}${suffix}`, op('identity:list_grants', { target: actorTarget }), async (req) => {
        const p = req.params as Record<string, string>;
        const roleIds = await id.assignments.listDirect(actorOf(p), targetOf(p), inherited);
        const roles = await Promise.all(roleIds.map((r) => id.roles.get(r)));
        return {
          roles: roles.map((r) => v.role(r)),
          links: v.collection(req.url.replace(/^.*\/v3/, '').split('?')[0]!),
        };
      });
    }
  }

  // Admins see all; anyone may list their own.
  app.get(
    '/v3/role_assignments',
    op('identity:list_role_assignments', {
      target: assignmentUser,
      schema: {
        querystring: querySchema(
          'user.id',
          'group.id',
          'role.id',
          'scope.project.id',
          'scope.domain.id',
          'scope.system',
          'scope.OS-INHERIT:inherited_to',
          'effective',
          'include_subtree',
          'include_names',
        ),
      },
    }),
    async (req) => {
      const q = flatQuery(req);
      const views = await id.assignments.list({
        ...(q['user.id'] !== undefined ? { userId: q['user.id'] } : {}),
        ...(q['group.id'] !== undefined ? { groupId: q['group.id'] } : {}),
        ...(q['role.id'] !== undefined ? { roleId: q['role.id'] } : {}),
        ...(q['scope.project.id'] !== undefined ? { projectId: q['scope.project.id'] } : {}),
        ...(q['scope.domain.id'] !== undefined ? { domainId: q['scope.domain.id'] } : {}),
        ...(q['scope.system'] !== undefined ? { system: true } : {}),
        ...(q['scope.OS-INHERIT:inherited_to'] !== undefined ? { inherited: true } : {}),
        effective: q.effective !== undefined && queryBool(q.effective || 'true') !== false,
        includeSubtree: q.include_subtree !== undefined && queryBool(q.include_subtree || 'true') !== false,
      });
      const withNames = q.include_names !== undefined && queryBool(q.include_names || 'true') !== false;
      const out = await Promise.all(views.map((x) => assignmentView(deps, v, x, withNames)));
      return { role_assignments: out, links: v.collection('/role_assignments', new URLSearchParams(q).toString()) };
    },
  );
}

/** One role assignment in Keystone's shape, with links and optionally names. */
async function assignmentView(
  deps: AppDeps,
  v: Views,
  x: AssignmentView,
  names: boolean,
): Promise<Record<string, unknown>> {
  const id = deps.identity;
  const out: Record<string, unknown> = {};
  const role = await id.roles.get(x.roleId);
  out.role = names
    ? { id: role.id, name: role.name, ...(role.domain_id ? { domain: await domainRef(deps, role.domain_id) } : {}) }
    : { id: role.id };
  const actorPath = x.viaGroupId ? `/groups/${x.viaGroupId}` : x.userId ? `/users/${x.userId}` : `/groups/${x.groupId}`;
  if (x.userId) {
    const u = names ? await id.users.get(x.userId) : undefined;
    out.user = u ? { id: u.id, name: u.name, domain: await domainRef(deps, u.domain_id) } : { id: x.userId };
  } else if (x.groupId) {
    const g = names ? await id.users.getGroup(x.groupId) : undefined;
    out.group = g ? { id: g.id, name: g.name, domain: await domainRef(deps, g.domain_id) } : { id: x.groupId };
  }
  let targetPath: string;
  if (x.projectId) {
    const p = names ? await id.projects.get(x.projectId) : undefined;
    out.scope = {
      project: p ? { id: p.id, name: p.name, domain: await domainRef(deps, p.domain_id) } : { id: x.projectId },
    };
    targetPath = `/projects/${x.projectId}`;
  } else if (x.domainId) {
    out.scope = { domain: names ? await domainRef(deps, x.domainId) : { id: x.domainId } };
    targetPath = `/domains/${x.domainId}`;
  } else {
    out.scope = { system: { all: true } };
    targetPath = '/system';
  }
  if (x.inherited) (out.scope as Record<string, unknown>)['OS-INHERIT:inherited_to'] = 'projects';
  const rolePart = `${actorPath}/roles/${x.priorRoleId ?? x.roleId}`;
  const assignment = x.inherited
    ? `${v.base}/OS-INHERIT${targetPath}${rolePart}/inherited_to_projects`
    : `${v.base}${targetPath}${rolePart}`;
  const links: Record<string, string> = { assignment };
  if (x.viaGroupId) links.membership = `${v.base}/groups/${x.viaGroupId}/users/${x.userId}`;
  if (x.priorRoleId) links.prior_role = `${v.base}/roles/${x.priorRoleId}`;
  out.links = links;
  return out;
}

async function domainRef(deps: AppDeps, domainId: string) {
  const d = await deps.identity.domains.get(domainId).catch(() => undefined);
  return d ? { id: d.id, name: d.name } : { id: domainId };
}
