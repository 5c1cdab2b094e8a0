import type { Domain } from '../../services/identity/domains.js';
import type { Project } from '../../services/identity/projects.js';
import type { User, Group } from '../../services/identity/users.js';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { AuthContext } from '../../services/auth-context.js';
import { allowed, enforce } from '../../services/policy.js';
import { op } from '../http/route-policy.js';
import { queryBool } from '../../services/identity/common.js';
import { DEFAULT_DOMAIN_ID } from '../../services/identity/domains.js';
import { registerCrud, flatQuery, fromParam, querySchema } from './crud.js';
import type { Views } from './views.js';
import { badRequest, notFound } from '../../errors.js';

const defaultDomain = (a: AuthContext) => a.domainId ?? DEFAULT_DOMAIN_ID;
const opt = <K extends string>(k: K, val: string | undefined) =>
  (val === undefined ? {} : { [k]: val }) as Partial<Record<K, string>>;
const optBool = (k: string, val: string | undefined) => (val === undefined ? {} : { [k]: queryBool(val) });
const csv = (val: string | undefined) => (val === undefined ? undefined : val.split(',').filter(Boolean));

/** Domains, projects (with tags), users, groups and their memberships. */
export function resourceRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const id = deps.identity;

  registerCrud<Domain>(app, v, {
    path: '/domains',
    member: 'domain',
    view: (d) => v.domain(d),
    filters: ['name', 'enabled'],
    rules: {
      create: 'identity:create_domain',
      list: 'identity:list_domains',
      get: 'identity:get_domain',
      update: 'identity:update_domain',
      remove: 'identity:delete_domain',
    },
    targets: { get: fromParam('domain_id', 'domain_id') },
    create: async (_a, b) => id.domains.create(b),
    list: async (a, q) => {
      if (!allowed(a, 'identity:admin')) {
        // Non-admins see only the domain their token is scoped to (or their project's domain).
        const own = a.domainId ?? a.projectDomainId;
        return id.domains.list({ ids: own ? [own] : [], ...opt('name', q.name) });
      }
      return id.domains.list({ ...opt('name', q.name), ...optBool('enabled', q.enabled) });
    },
    get: async (_a, did) => id.domains.get(did),
    update: async (_a, did, b) => id.domains.update(did, b),
    remove: async (_a, did) => {
      await id.deleteDomain(did);
    },
  });

  // A project with is_domain is a domain; both APIs reach it. `asDomain` marks such items for the view.
  type ProjectOrDomain = Project | (Domain & { asDomain: true });
  const projectView = (p: ProjectOrDomain) => ('asDomain' in p ? v.domainAsProject(p) : v.project(p));
  const domainIfAny = async (pid: string) => {
    if (await id.projects.find(pid)) return undefined;
    return id.domains
      .get(pid)
      .then((d) => ({ ...d, asDomain: true as const }))
      .catch(() => undefined);
  };
  registerCrud<ProjectOrDomain>(app, v, {
    path: '/projects',
    member: 'project',
    view: projectView,
    filters: ['name', 'domain_id', 'parent_id', 'enabled', 'is_domain', 'tags', 'tags-any', 'not-tags', 'not-tags-any'],
    rules: {
      create: 'identity:create_project',
      list: 'identity:list_projects',
      update: 'identity:update_project',
      remove: 'identity:delete_project',
    },
    create: async (a, b) => {
      if (b.is_domain === true) {
        const { is_domain: _skip, domain_id: _none, ...rest } = b;
        return { ...(await id.domains.create(rest)), asDomain: true as const };
      }
      return id.projects.create(b, defaultDomain(a));
    },
    list: async (_a, q) => {
      if (q.is_domain !== undefined && queryBool(q.is_domain)) {
        return (await id.domains.list({ ...opt('name', q.name), ...optBool('enabled', q.enabled) })).map((d) => ({
          ...d,
          asDomain: true as const,
        }));
      }
      return id.projects.list({
        ...opt('name', q.name),
        ...opt('domain_id', q.domain_id),
        ...opt('parent_id', q.parent_id),
        ...optBool('enabled', q.enabled),
        ...(q.tags ? { tags: csv(q.tags)! } : {}),
        ...(q['tags-any'] ? { tagsAny: csv(q['tags-any'])! } : {}),
        ...(q['not-tags'] ? { notTags: csv(q['not-tags'])! } : {}),
        ...(q['not-tags-any'] ? { notTagsAny: csv(q['not-tags-any'])! } : {}),
      });
    },
    update: async (_a, pid, b) => {
      const dom = await domainIfAny(pid);
      if (dom) {
        const { is_domain: _skip, domain_id: _none, parent_id: _parent, ...rest } = b;
        return { ...(await id.domains.update(pid, rest)), asDomain: true as const };
      }
      return id.projects.update(pid, b);
    },
    remove: async (_a, pid) => {
      if (await domainIfAny(pid)) await id.deleteDomain(pid);
      else await id.deleteProject(pid);
    },
  });

  // GET /projects/{id} with the hierarchy options.
  const projectParam = fromParam('project_id', 'project_id');
  app.get(
    '/v3/projects/:project_id',
    op('identity:get_project', {
      target: projectParam,
      schema: { querystring: querySchema('parents_as_list', 'parents_as_ids', 'subtree_as_list', 'subtree_as_ids') },
    }),
    async (req) => {
      const { project_id } = req.params as { project_id: string };
      const asDomain = await domainIfAny(project_id);
      if (asDomain) return { project: v.domainAsProject(asDomain) };
      const p = await id.projects.get(project_id);
      const q = flatQuery(req);
      const body: Record<string, unknown> = v.project(p);
      if (
        q.parents_as_list !== undefined ||
        q.parents_as_ids !== undefined ||
        q.subtree_as_list !== undefined ||
        q.subtree_as_ids !== undefined
      ) {
        if (
          (q.parents_as_list !== undefined && q.parents_as_ids !== undefined) ||
          (q.subtree_as_list !== undefined && q.subtree_as_ids !== undefined)
        ) {
          throw badRequest(
            'Cannot use parents_as_list and parents_as_ids (or subtree_as_list and subtree_as_ids) together.',
          );
        }
      }
      if (q.parents_as_list !== undefined) {
        const ancestors = await id.projects.ancestors(project_id);
        body.parents = await Promise.all(
          ancestors.map(async (r) => ({ project: v.project(await id.projects.get(r.id)) })),
        );
      }
      if (q.parents_as_ids !== undefined) {
        const ancestors = await id.projects.ancestors(project_id);
        let nested: Record<string, unknown> | null = null;
        for (const anc of [...ancestors].reverse()) nested = { [anc.id]: nested };
        body.parents = nested;
      }
      if (q.subtree_as_list !== undefined) {
        const desc = await id.projects.descendants(project_id);
        body.subtree = await Promise.all(desc.map(async (r) => ({ project: v.project(await id.projects.get(r.id)) })));
      }
      if (q.subtree_as_ids !== undefined) {
        const desc = await id.projects.descendants(project_id);
        const build = (pid: string): Record<string, unknown> | null => {
          const kids = desc.filter((d) => d.parent_id === pid);
          if (!kids.length) return null;
          return Object.fromEntries(kids.map((k) => [k.id, build(k.id)]));
        };
        body.subtree = build(project_id);
      }
      return { project: body };
    },
  );

  // Project tags.
  app.get('/v3/projects/:project_id/tags', op('identity:list_project_tags', { target: projectParam }), async (req) => {
    const { project_id } = req.params as { project_id: string };
    return { tags: (await id.projects.get(project_id)).tags, links: v.collection(`/projects/${project_id}/tags`) };
  });
  app.put(
    '/v3/projects/:project_id/tags',
    op('identity:update_project_tags', {
      schema: { body: { type: 'object', required: ['tags'], properties: { tags: { type: 'array' } } } },
    }),
    async (req) => {
      const { project_id } = req.params as { project_id: string };
      return {
        tags: await id.projects.setTags(project_id, (req.body as { tags: unknown }).tags),
        links: v.collection(`/projects/${project_id}/tags`),
      };
    },
  );
  app.delete('/v3/projects/:project_id/tags', op('identity:delete_project_tags'), async (req, reply) => {
    const { project_id } = req.params as { project_id: string };
    await id.projects.setTags(project_id, []);
    reply.code(204).send();
  });
  app.get(
    '/v3/projects/:project_id/tags/:tag',
    op('identity:get_project_tag', { target: projectParam }),
    async (req, reply) => {
      const { project_id, tag } = req.params as { project_id: string; tag: string };
      if (!(await id.projects.hasTag(project_id, tag))) {
        throw notFound(`Tag ${tag} not found for project ${project_id}.`);
      }
      reply.code(204).send();
    },
  );
  app.put(
    '/v3/projects/:project_id/tags/:tag',
    op('identity:create_project_tag', { body: 'none' }),
    async (req, reply) => {
      const { project_id, tag } = req.params as { project_id: string; tag: string };
      await id.projects.addTag(project_id, tag);
      reply
        .code(201)
        .header('Location', `${v.base}/projects/${project_id}/tags/${encodeURIComponent(tag)}`)
        .send();
    },
  );
  app.delete('/v3/projects/:project_id/tags/:tag', op('identity:delete_project_tag'), async (req, reply) => {
    const { project_id, tag } = req.params as { project_id: string; tag: string };
    await id.projects.removeTag(project_id, tag);
    reply.code(204).send();
  });

  registerCrud<User>(app, v, {
    path: '/users',
    member: 'user',
    view: (u) => v.user(u),
    filters: ['name', 'domain_id', 'enabled'],
    rules: {
      create: 'identity:create_user',
      list: 'identity:list_users',
      get: 'identity:get_user',
      update: 'identity:update_user',
      remove: 'identity:delete_user',
    },
    targets: { get: fromParam('user_id', 'user_id') },
    create: async (a, b) => id.users.create(b, defaultDomain(a)),
    list: async (_a, q) => {
      return id.users.list({
        ...opt('name', q.name),
        ...opt('domain_id', q.domain_id),
        ...optBool('enabled', q.enabled),
      });
    },
    get: async (_a, uid) => id.users.get(uid),
    update: async (_a, uid, b) => id.users.update(uid, b),
    remove: async (_a, uid) => {
      await id.deleteUser(uid);
    },
  });

  app.post(
    '/v3/users/:user_id/password',
    {
      config: { public: true },
      schema: {
        body: {
          type: 'object',
          required: ['user'],
          properties: { user: { type: 'object', required: ['password', 'original_password'] } },
        },
      },
    },
    async (req, reply) => {
      // Keystone lets a user change an expired password without a token; the original password is the proof.
      const { user_id } = req.params as { user_id: string };
      if (req.ctx && req.ctx.auth.userId !== user_id) enforce(req.ctx.auth, 'identity:change_password', { user_id });
      const u = (req.body as { user: { password: unknown; original_password: unknown } }).user;
      await id.users.changeOwnPassword(user_id, u.original_password, u.password);
      reply.code(204).send();
    },
  );

  app.get(
    '/v3/users/:user_id/groups',
    op('identity:list_groups_for_user', { target: fromParam('user_id', 'user_id') }),
    async (req) => {
      const { user_id } = req.params as { user_id: string };
      await id.users.get(user_id);
      const groups = await id.users.listGroups({ userId: user_id });
      return { groups: groups.map((g) => v.group(g)), links: v.collection(`/users/${user_id}/groups`) };
    },
  );

  registerCrud<Group>(app, v, {
    path: '/groups',
    member: 'group',
    view: (g) => v.group(g),
    filters: ['name', 'domain_id'],
    rules: {
      create: 'identity:create_group',
      list: 'identity:list_groups',
      get: 'identity:get_group',
      update: 'identity:update_group',
      remove: 'identity:delete_group',
    },
    create: async (a, b) => id.users.createGroup(b, defaultDomain(a)),
    list: async (_a, q) => id.users.listGroups({ ...opt('name', q.name), ...opt('domain_id', q.domain_id) }),
    get: async (_a, gid) => id.users.getGroup(gid),
    update: async (_a, gid, b) => id.users.updateGroup(gid, b),
    remove: async (_a, gid) => {
      await id.users.deleteGroup(gid);
    },
  });

  app.get(
    '/v3/groups/:group_id/users',
    op('identity:list_users_in_group', { schema: { querystring: querySchema('name', 'enabled') } }),
    async (req) => {
      const { group_id } = req.params as { group_id: string };
      await id.users.getGroup(group_id);
      const q = flatQuery(req);
      const users = await id.users.list({
        ids: await id.users.groupMemberIds(group_id),
        ...optBool('enabled', q.enabled),
        ...opt('name', q.name),
      });
      return { users: users.map((u) => v.user(u)), links: v.collection(`/groups/${group_id}/users`) };
    },
  );
  app.put(
    '/v3/groups/:group_id/users/:user_id',
    op('identity:add_user_to_group', { body: 'none' }),
    async (req, reply) => {
      const { group_id, user_id } = req.params as { group_id: string; user_id: string };
      await id.users.addMember(group_id, user_id);
      reply.code(204).send();
    },
  );
  app.head('/v3/groups/:group_id/users/:user_id', op('identity:check_user_in_group'), async (req, reply) => {
    const { group_id, user_id } = req.params as { group_id: string; user_id: string };
    await id.users.getGroup(group_id);
    await id.users.get(user_id);
    if (!(await id.users.isMember(group_id, user_id))) {
      throw notFound(`User ${user_id} is not a member of group ${group_id}.`);
    }
    reply.code(204).send();
  });
  app.delete('/v3/groups/:group_id/users/:user_id', op('identity:remove_user_from_group'), async (req, reply) => {
    const { group_id, user_id } = req.params as { group_id: string; user_id: string };
    await id.users.removeMember(group_id, user_id);
    reply.code(204).send();
  });
}
