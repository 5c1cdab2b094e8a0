import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { EndpointGroup } from '../../services/identity/endpoint-filter.js';
import type { OAuthConsumer } from '../../services/identity/oauth-consumers.js';
import { op } from '../http/route-policy.js';
import { registerCrud, crudRules } from './crud.js';
import type { Views } from './views.js';

/** OS-EP-FILTER (endpoint groups and project associations) and OS-OAUTH1 consumers; all admin-only. */
export function endpointFilterRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const f = deps.identity.endpointFilter;
  const groupView = (g: EndpointGroup) => ({ ...g, links: v.self(`/OS-EP-FILTER/endpoint_groups/${g.id}`) });
  registerCrud<EndpointGroup>(app, v, {
    path: '/OS-EP-FILTER/endpoint_groups',
    member: 'endpoint_group',
    view: groupView,
    rules: crudRules('endpoint_group', 'endpoint_groups'),
    filters: ['name'],
    create: async (_a, b) => f.create(b),
    list: async (_a, q) => f.list(q.name !== undefined ? { name: q.name } : {}),
    get: async (_a, id) => f.get(id),
    update: async (_a, id, b) => f.update(id, b),
    remove: async (_a, id) => {
      await f.delete(id);
    },
  });

  /** `left` is the endpoint group or endpoint id. */
  type LP = { left: string; project_id: string };
  const projectsBody = async (ids: string[], self: string) => {
    const projects = await deps.identity.projects.list({ ids });
    return { projects: projects.map((p) => v.project(p)), links: v.collection(self) };
  };
  const endpointsBody = async (ids: Iterable<string>, self: string) => {
    const wanted = new Set(ids);
    const endpoints = (await deps.identity.catalog.listEndpoints({})).filter((e) => wanted.has(e.id));
    return { endpoints: endpoints.map((e) => v.endpoint(e)), links: v.collection(self) };
  };

  // The two association kinds (endpoint group <-> project, endpoint <-> project) share their four routes.
  const links = [
    {
      assoc: f.groupProjects,
      path: '/v3/OS-EP-FILTER/endpoint_groups/:left/projects/:project_id',
      checkBody: true,
      rules: [
        'identity:add_endpoint_group_to_project',
        'identity:get_endpoint_group_in_project',
        'identity:remove_endpoint_group_from_project',
      ] as const,
    },
    {
      assoc: f.endpointProjects,
      path: '/v3/OS-EP-FILTER/projects/:project_id/endpoints/:left',
      checkBody: false,
      rules: [
        'identity:add_endpoint_to_project',
        'identity:check_endpoint_in_project',
        'identity:remove_endpoint_from_project',
      ] as const,
    },
  ];
  for (const {
    assoc,
    path,
    checkBody,
    rules: [add, check, remove],
  } of links) {
    app.put(path, op(add, { body: 'none' }), async (req, reply) => {
      const p = req.params as LP;
      await assoc.add(p.left, p.project_id);
      reply.code(204).send();
    });
    app.get(path, op(check), async (req, reply) => {
      const p = req.params as LP;
      await assoc.check(p.left, p.project_id);
      if (!checkBody) return reply.code(204).send();
      return {
        project_endpoint_group: {
          endpoint_group_id: p.left,
          project_id: p.project_id,
          links: v.self(`/OS-EP-FILTER/endpoint_groups/${p.left}/projects/${p.project_id}`),
        },
      };
    });
    app.delete(path, op(remove), async (req, reply) => {
      const p = req.params as LP;
      await assoc.remove(p.left, p.project_id);
      reply.code(204).send();
    });
  }
  app.get(
    '/v3/OS-EP-FILTER/endpoint_groups/:left/projects',
    op('identity:list_projects_associated_with_endpoint_group'),
    async (req) => {
      const { left } = req.params as LP;
      return projectsBody(await f.groupProjects.projectIdsOf(left), `/OS-EP-FILTER/endpoint_groups/${left}/projects`);
    },
  );
  app.get('/v3/OS-EP-FILTER/endpoints/:left/projects', op('identity:list_projects_for_endpoint'), async (req) => {
    const { left } = req.params as LP;
    return projectsBody(await f.endpointProjects.projectIdsOf(left), `/OS-EP-FILTER/endpoints/${left}/projects`);
  });
  app.get(
    '/v3/OS-EP-FILTER/endpoint_groups/:left/endpoints',
    op('identity:list_endpoints_associated_with_endpoint_group'),
    async (req) => {
      const { left } = req.params as LP;
      return endpointsBody(
        (await f.endpointsOf(left)).map((e) => e.id),
        `/OS-EP-FILTER/endpoint_groups/${left}/endpoints`,
      );
    },
  );
  app.get(
    '/v3/OS-EP-FILTER/projects/:project_id/endpoint_groups',
    op('identity:list_endpoint_groups_for_project'),
    async (req) => {
      const { project_id } = req.params as LP;
      const groups = await f.groupsOfProject(project_id);
      return {
        endpoint_groups: groups.map(groupView),
        links: v.collection(`/OS-EP-FILTER/projects/${project_id}/endpoint_groups`),
      };
    },
  );
  app.get('/v3/OS-EP-FILTER/projects/:project_id/endpoints', op('identity:list_endpoints_for_project'), async (req) => {
    const { project_id } = req.params as LP;
    await deps.identity.projects.get(project_id);
    const allowed = (await f.allowedEndpointIds(project_id)) ?? new Set<string>();
    return endpointsBody(allowed, `/OS-EP-FILTER/projects/${project_id}/endpoints`);
  });

  const c = deps.identity.oauthConsumers;
  registerCrud<OAuthConsumer>(app, v, {
    path: '/OS-OAUTH1/consumers',
    member: 'consumer',
    rules: crudRules('consumer', 'consumers'),
    view: (x) => ({
      ...x.extra,
      id: x.id,
      description: x.description,
      ...(x.secret ? { secret: x.secret } : {}),
      links: v.self(`/OS-OAUTH1/consumers/${x.id}`),
    }),
    create: async (_a, b) => c.create(b),
    list: async (_a) => c.list(),
    get: async (_a, id) => c.get(id),
    update: async (_a, id, b) => c.update(id, b),
    remove: async (_a, id) => {
      await c.delete(id);
    },
  });
}
