import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { ctxOf } from '../http/service-api.js';
import type { Views } from './views.js';
import { allowed } from '../../services/policy.js';
import { op, publicRoute } from '../http/route-policy.js';
import { fromParam, querySchema } from './crud.js';
import { forbidden, unauthorized, badRequest } from '../../errors.js';
import { queryBool } from '../../services/identity/common.js';

const subjectToken = (req: FastifyRequest): string => {
  const t = req.headers['x-subject-token'];
  if (typeof t !== 'string' || !t) throw unauthorized('X-Subject-Token is missing.');
  return t;
};

/**
 * POST /auth/tokens: the shape at the edge (the methods' own fields are the service's to check, with Keystone's 400s
 * and 401s). Deep or mistyped bodies stop here with a 400 naming the field.
 */
const AUTH_BODY = {
  type: 'object',
  required: ['auth'],
  properties: {
    auth: {
      type: 'object',
      required: ['identity'],
      properties: {
        identity: {
          type: 'object',
          required: ['methods'],
          properties: { methods: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 64 } } },
        },
        scope: { type: ['object', 'string'] },
      },
    },
  },
};

const TOKEN_QUERY = querySchema('nocatalog', 'allow_expired');

/** /v3/auth/*: issue, validate, revoke tokens and what a token may see. */
export function authRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const id = deps.identity;

  app.post(
    '/v3/auth/tokens',
    publicRoute({ schema: { body: AUTH_BODY, querystring: querySchema('nocatalog') } }),
    async (req, reply) => {
      // Authentication with a token method ignores any X-Auth-Token on the request itself.
      const { token, info } = await id.auth.authenticate(req.body);
      const nocatalog = req.query && (req.query as Record<string, unknown>).nocatalog !== undefined;
      const catalog = nocatalog ? undefined : await id.catalog.build(info.project?.id);
      reply.header('X-Subject-Token', token).code(201);
      return v.token(info, catalog);
    },
  );

  const validate = async (req: FastifyRequest) => {
    const ctx = ctxOf(req);
    const q = (req.query ?? {}) as Record<string, unknown>;
    const subject = subjectToken(req);
    const info = await id.tokens.validate(subject, queryBool(q.allow_expired) === true);
    if (info.hash !== ctx.auth.tokenHash && !allowed(ctx.auth, 'identity:admin') && info.user.id !== ctx.auth.userId) {
      throw forbidden('You are not authorized to validate this token.');
    }
    return { info, nocatalog: q.nocatalog !== undefined };
  };

  // The subject check (admin, or a token of the same user) is the handler's: the rule's target is the subject token.
  app.get(
    '/v3/auth/tokens',
    op('identity:validate_token', { exposeHeadRoute: false, schema: { querystring: TOKEN_QUERY } }),
    async (req, reply) => {
      const { info, nocatalog } = await validate(req);
      reply.header('X-Subject-Token', subjectToken(req));
      return v.token(info, nocatalog ? undefined : await id.catalog.build(info.project?.id));
    },
  );
  app.head(
    '/v3/auth/tokens',
    op('identity:check_token', { schema: { querystring: TOKEN_QUERY } }),
    async (req, reply) => {
      await validate(req);
      reply.header('X-Subject-Token', subjectToken(req)).code(200).send();
    },
  );
  app.delete('/v3/auth/tokens', op('identity:revoke_token'), async (req, reply) => {
    const ctx = ctxOf(req);
    const subject = subjectToken(req);
    const info = await id.tokens.validate(subject).catch(() => undefined);
    if (
      info &&
      info.hash !== ctx.auth.tokenHash &&
      !allowed(ctx.auth, 'identity:admin') &&
      info.user.id !== ctx.auth.userId
    ) {
      throw forbidden('You are not authorized to revoke this token.');
    }
    await id.tokens.revoke(subject);
    reply.code(204).send();
  });

  app.get('/v3/auth/catalog', op('identity:get_auth_catalog'), async (req) => {
    const ctx = ctxOf(req);
    return { catalog: await id.catalog.build(ctx.auth.projectId), links: v.collection('/auth/catalog') };
  });

  app.get('/v3/auth/projects', op('identity:get_auth_projects'), async (req) => {
    const ctx = ctxOf(req);
    const ids = await projectIdsOf(deps, ctx.auth.userId);
    const projects = await id.projects.list({ ids, enabled: true });
    return { projects: projects.map((p) => v.project(p)), links: v.collection('/auth/projects') };
  });

  app.get('/v3/auth/domains', op('identity:get_auth_domains'), async (req) => {
    const ctx = ctxOf(req);
    const ids: string[] = [];
    for (const d of await id.domains.list({ enabled: true })) {
      if ((await id.assignments.effectiveRoleIds(ctx.auth.userId, { domain: d.id })).size) ids.push(d.id);
    }
    return { domains: (await id.domains.list({ ids })).map((d) => v.domain(d)), links: v.collection('/auth/domains') };
  });

  app.get('/v3/auth/system', op('identity:get_auth_system'), async (req) => {
    const ctx = ctxOf(req);
    const has = (await id.assignments.effectiveRoleIds(ctx.auth.userId, { system: true })).size > 0;
    return { system: has ? [{ all: true }] : [], links: v.collection('/auth/system') };
  });

  app.get(
    '/v3/users/:user_id/projects',
    op('identity:list_user_projects', {
      target: fromParam('user_id', 'user_id'),
      schema: { querystring: querySchema('name', 'enabled', 'domain_id') },
    }),
    async (req) => {
      const { user_id } = req.params as { user_id: string };
      await id.users.get(user_id);
      const q = (req.query ?? {}) as Record<string, string>;
      const ids = await projectIdsOf(deps, user_id);
      const projects = await id.projects.list({
        ids,
        ...(q.name !== undefined ? { name: q.name } : {}),
        ...(q.enabled !== undefined ? { enabled: queryBool(q.enabled)! } : {}),
        ...(q.domain_id !== undefined ? { domain_id: q.domain_id } : {}),
      });
      return { projects: projects.map((p) => v.project(p)), links: v.collection(`/users/${user_id}/projects`) };
    },
  );

  app.get('/v3/OS-FEDERATION/projects', op('identity:list_projects_for_federation'), async () => {
    throw badRequest('Federation is not enabled.');
  });
}

/** Projects on which the user holds any role, directly, through groups or by inheritance. */
async function projectIdsOf(deps: AppDeps, userId: string): Promise<string[]> {
  const views = await deps.identity.assignments.list({ userId, effective: true });
  return [...new Set(views.filter((v) => v.projectId).map((v) => v.projectId!))];
}
