import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { AppCred, AccessRule } from '../../services/identity/app-creds.js';
import { ctxOf } from '../http/service-api.js';
import { op } from '../http/route-policy.js';
import { flatQuery, fromParam, querySchema } from './crud.js';
import type { Views } from './views.js';

type Obj = Record<string, unknown>;
type UserParams = { user_id: string };

/** Keystone prints an application credential's expiry without a zone: "2026-11-22T10:00:00.123456". */
const appCredExpiry = (stored: string | null) => (stored ? stored.replace(/Z$/, '') : null);

/** /v3/users/{user_id}/application_credentials and /v3/users/{user_id}/access_rules. */
export function appCredRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const ac = deps.identity.appCreds;
  const view = (c: AppCred) => {
    const out: Obj = {
      id: c.id,
      name: c.name,
      description: c.description,
      user_id: c.user_id,
      project_id: c.project_id,
      expires_at: appCredExpiry(c.expires_at),
      unrestricted: c.unrestricted,
      roles: c.roles,
      access_rules: c.access_rules.map((r) => ({ id: r.id, path: r.path, method: r.method, service: r.service })),
      links: v.self(`/users/${c.user_id}/application_credentials/${c.id}`),
    };
    if (c.secret !== undefined) out.secret = c.secret;
    return out;
  };
  const ruleView = (r: AccessRule) => ({
    id: r.id,
    path: r.path,
    method: r.method,
    service: r.service,
    links: v.self(`/users/${r.user_id}/access_rules/${r.id}`),
  });
  const base = '/v3/users/:user_id/application_credentials';
  const target = fromParam('user_id', 'user_id');
  const body = {
    type: 'object',
    required: ['application_credential'],
    properties: { application_credential: { type: 'object' } },
  };

  app.post(base, op('identity:create_application_credential', { target, schema: { body } }), async (req, reply) => {
    const auth = ctxOf(req).auth;
    const { user_id } = req.params as UserParams;
    const c = await ac.create(auth, user_id, (req.body as { application_credential: Obj }).application_credential);
    reply.code(201);
    return { application_credential: view(c) };
  });
  app.get(
    base,
    op('identity:list_application_credentials', { target, schema: { querystring: querySchema('name') } }),
    async (req) => {
      const { user_id } = req.params as UserParams;
      const q = flatQuery(req);
      const list = await ac.list(user_id, q.name !== undefined ? { name: q.name } : {});
      return {
        application_credentials: list.map(view),
        links: v.collection(`/users/${user_id}/application_credentials`, new URLSearchParams(q).toString()),
      };
    },
  );
  app.get(`${base}/:id`, op('identity:get_application_credential', { target }), async (req) => {
    const { user_id, id } = req.params as UserParams & { id: string };
    return { application_credential: view(await ac.get(user_id, id)) };
  });
  app.delete(`${base}/:id`, op('identity:delete_application_credential', { target }), async (req, reply) => {
    const auth = ctxOf(req).auth;
    const { user_id, id } = req.params as UserParams & { id: string };
    await ac.delete(auth, user_id, id);
    reply.code(204).send();
  });

  const rules = '/v3/users/:user_id/access_rules';
  app.get(
    rules,
    op('identity:list_access_rules', { target, schema: { querystring: querySchema('service', 'path', 'method') } }),
    async (req) => {
      const { user_id } = req.params as UserParams;
      const q = flatQuery(req);
      const list = await ac.listAccessRules(user_id, {
        ...(q.service !== undefined ? { service: q.service } : {}),
        ...(q.path !== undefined ? { path: q.path } : {}),
        ...(q.method !== undefined ? { method: q.method } : {}),
      });
      return {
        access_rules: list.map(ruleView),
        links: v.collection(`/users/${user_id}/access_rules`, new URLSearchParams(q).toString()),
      };
    },
  );
  app.get(`${rules}/:id`, op('identity:get_access_rule', { target }), async (req) => {
    const { user_id, id } = req.params as UserParams & { id: string };
    return { access_rule: ruleView(await ac.getAccessRule(user_id, id)) };
  });
  app.delete(`${rules}/:id`, op('identity:delete_access_rule', { target }), async (req, reply) => {
    const { user_id, id } = req.params as UserParams & { id: string };
    await ac.deleteAccessRule(user_id, id);
    reply.code(204).send();
  });
}
