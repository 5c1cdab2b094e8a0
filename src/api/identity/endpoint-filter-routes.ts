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

  type GP = { endpoint_group_id: string; project_id: string };
  type EP = { endpoint_id: string; project_id: string };
  const projectsBody = async (ids: string[], self: string) => {
    const projects = await deps.identity.projects.list({ ids });
    return { projects: projects.map((p) => v.project(p)), links: v.collection(self) };
  };
  const endpointsBody = async (ids: Iterable<string>, self: string) => {
    const wanted = new Set(ids);
    const endpoints = (await deps.identity.catalog.listEndpoints({})).filter((e) => wanted.has(e.id));
    return { endpoints: endpoints.map((e) => v.endpoint(e)), links: v.collection(self) };
  };

  app.put('/v3/OS-EP-FILTER/endpoint_groups/:endpoint_group_id/projects/:project_id', async (req, reply) => {
    admin(ctxOf(req).auth);
    const p = req.params as GP;
    await f.addGroupProject(p.endpoint_group_id, p.project_id);
    reply.code(204).send();
  });
  app.get('/v3/OS-EP-FILTER/endpoint_groups/:endpoint_group_id/projects/:project_id', async (req) => {
    admin(ctxOf(req).auth);
    const p = req.params as GP;
    await f.checkGroupProject(p.endpoint_group_id, p.project_id);
    return { project_endpoint_group: { endpoint_group_id: p.endpoint_group_id, project_id: p.project_id,
      links: v.self(`/OS-EP-FILTER/endpoint_groups/${p.endpoint_group_id}/projects/${p.project_id}`) } };
  });
  app.delete('/v3/OS-EP-FILTER/endpoint_groups/:endpoint_group_id/projects/:project_id', async (req, reply) => {
    admin(ctxOf(req).auth);
    const p = req.params as GP;
    await f.removeGroupProject(p.endpoint_group_id, p.project_id);
    reply.code(204).send();
  });
  app.get('/v3/OS-EP-FILTER/endpoint_groups/:endpoint_group_id/projects', async (req) => {
    admin(ctxOf(req).auth);
    const { endpoint_group_id } = req.params as GP;
    return projectsBody(await f.projectIdsOfGroup(endpoint_group_id), `/OS-EP-FILTER/endpoint_groups/${endpoint_group_id}/projects`);
  });
  app.get('/v3/OS-EP-FILTER/endpoint_groups/:endpoint_group_id/endpoints', async (req) => {
    admin(ctxOf(req).auth);
    const { endpoint_group_id } = req.params as GP;
    return endpointsBody((await f.endpointsOf(endpoint_group_id)).map((e) => e.id), `/OS-EP-FILTER/endpoint_groups/${endpoint_group_id}/endpoints`);
  });
  app.get('/v3/OS-EP-FILTER/projects/:project_id/endpoint_groups', async (req) => {
    admin(ctxOf(req).auth);
    const { project_id } = req.params as GP;
    const groups = await f.groupsOfProject(project_id);
    return { endpoint_groups: groups.map(groupView), links: v.collection(`/OS-EP-FILTER/projects/${project_id}/endpoint_groups`) };
  });

  app.put('/v3/OS-EP-FILTER/projects/:project_id/endpoints/:endpoint_id', async (req, reply) => {
    admin(ctxOf(req).auth);
    const p = req.params as EP;
    await f.addEndpointProject(p.endpoint_id, p.project_id);
    reply.code(204).send();
  });
  app.get('/v3/OS-EP-FILTER/projects/:project_id/endpoints/:endpoint_id', async (req, reply) => {
    admin(ctxOf(req).auth);
    const p = req.params as EP;
    await f.checkEndpointProject(p.endpoint_id, p.project_id);
    reply.code(204).send();
  });
  app.delete('/v3/OS-EP-FILTER/projects/:project_id/endpoints/:endpoint_id', async (req, reply) => {
    admin(ctxOf(req).auth);
    const p = req.params as EP;
    await f.removeEndpointProject(p.endpoint_id, p.project_id);
    reply.code(204).send();
  });
  app.get('/v3/OS-EP-FILTER/projects/:project_id/endpoints', async (req) => {
    admin(ctxOf(req).auth);
    const { project_id } = req.params as EP;
    await deps.identity.projects.get(project_id);
    const allowed = (await f.allowedEndpointIds(project_id)) ?? new Set<string>();
    return endpointsBody(allowed, `/OS-EP-FILTER/projects/${project_id}/endpoints`);
  });
  app.get('/v3/OS-EP-FILTER/endpoints/:endpoint_id/projects', async (req) => {
    admin(ctxOf(req).auth);
    const { endpoint_id } = req.params as EP;
    return projectsBody(await f.projectIdsOfEndpoint(endpoint_id), `/OS-EP-FILTER/endpoints/${endpoint_id}/projects`);
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
