import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { AuthContext } from '../../services/auth-context.js';
import type { EndpointGroup } from '../../services/identity/endpoint-filter.js';
import type { OAuthConsumer } from '../../services/identity/oauth-consumers.js';
import { enforce } from '../../services/policy.js';
import { ctxOf } from '../http/service-api.js';
import { registerCrud } from './crud.js';
import type { Views } from './views.js';

const admin = (a: AuthContext) => enforce(a, 'identity:admin');

/** OS-EP-FILTER (endpoint groups and project associations) and OS-OAUTH1 consumers; all admin-only. */
export function endpointFilterRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const f = deps.identity.endpointFilter;
  const groupView = (g: EndpointGroup) => ({ ...g, links: v.self(`/OS-EP-FILTER/endpoint_groups/${g.id}`) });
  registerCrud<EndpointGroup>(app, v, {
    path: '/OS-EP-FILTER/endpoint_groups', member: 'endpoint_group', view: groupView,
    create: async (a, b) => { admin(a); return f.create(b); },
    list: async (a, q) => { admin(a); return f.list(q.name !== undefined ? { name: q.name } : {}); },
    get: async (a, id) => { admin(a); return f.get(id); },
    update: async (a, id, b) => { admin(a); return f.update(id, b); },
    remove: async (a, id) => { admin(a); await f.delete(id); },
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
    { assoc: f.groupProjects, path: '/v3/OS-EP-FILTER/endpoint_groups/:left/projects/:project_id', checkBody: true },
    { assoc: f.endpointProjects, path: '/v3/OS-EP-FILTER/projects/:project_id/endpoints/:left', checkBody: false },
  ];
  for (const { assoc, path, checkBody } of links) {
    app.put(path, async (req, reply) => {
      admin(ctxOf(req).auth);
      const p = req.params as LP;
      await assoc.add(p.left, p.project_id);
      reply.code(204).send();
    });
    app.get(path, async (req, reply) => {
      admin(ctxOf(req).auth);
      const p = req.params as LP;
      await assoc.check(p.left, p.project_id);
      if (!checkBody) return reply.code(204).send();
      return { project_endpoint_group: { endpoint_group_id: p.left, project_id: p.project_id,
        links: v.self(`/OS-EP-FILTER/endpoint_groups/${p.left}/projects/${p.project_id}`) } };
    });
    app.delete(path, async (req, reply) => {
      admin(ctxOf(req).auth);
      const p = req.params as LP;
      await assoc.remove(p.left, p.project_id);
      reply.code(204).send();
    });
  }
  app.get('/v3/OS-EP-FILTER/endpoint_groups/:left/projects', async (req) => {
    admin(ctxOf(req).auth);
    const { left } = req.params as LP;
    return projectsBody(await f.groupProjects.projectIdsOf(left), `/OS-EP-FILTER/endpoint_groups/${left}/projects`);
  });
  app.get('/v3/OS-EP-FILTER/endpoints/:left/projects', async (req) => {
    admin(ctxOf(req).auth);
    const { left } = req.params as LP;
    return projectsBody(await f.endpointProjects.projectIdsOf(left), `/OS-EP-FILTER/endpoints/${left}/projects`);
  });
  app.get('/v3/OS-EP-FILTER/endpoint_groups/:left/endpoints', async (req) => {
    admin(ctxOf(req).auth);
    const { left } = req.params as LP;
    return endpointsBody((await f.endpointsOf(left)).map((e) => e.id), `/OS-EP-FILTER/endpoint_groups/${left}/endpoints`);
  });
  app.get('/v3/OS-EP-FILTER/projects/:project_id/endpoint_groups', async (req) => {
    admin(ctxOf(req).auth);
    const { project_id } = req.params as LP;
    const groups = await f.groupsOfProject(project_id);
    return { endpoint_groups: groups.map(groupView), links: v.collection(`/OS-EP-FILTER/projects/${project_id}/endpoint_groups`) };
  });
  app.get('/v3/OS-EP-FILTER/projects/:project_id/endpoints', async (req) => {
    admin(ctxOf(req).auth);
    const { project_id } = req.params as LP;
    await deps.identity.projects.get(project_id);
    const allowed = (await f.allowedEndpointIds(project_id)) ?? new Set<string>();
    return endpointsBody(allowed, `/OS-EP-FILTER/projects/${project_id}/endpoints`);
  });

  const c = deps.identity.oauthConsumers;
  registerCrud<OAuthConsumer>(app, v, {
    path: '/OS-OAUTH1/consumers', member: 'consumer',
    view: (x) => ({ ...x.extra, id: x.id, description: x.description, ...(x.secret ? { secret: x.secret } : {}), links: v.self(`/OS-OAUTH1/consumers/${x.id}`) }),
    create: async (a, b) => { admin(a); return c.create(b); },
    list: async (a) => { admin(a); return c.list(); },
    get: async (a, id) => { admin(a); return c.get(id); },
    update: async (a, id, b) => { admin(a); return c.update(id, b); },
    remove: async (a, id) => { admin(a); await c.delete(id); },
  });
}
