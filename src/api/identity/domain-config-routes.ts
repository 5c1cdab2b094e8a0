import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { enforce } from '../../services/policy.js';
import { ctxOf } from '../http/service-api.js';

type P = { domain_id: string; group?: string; option?: string };
const configBody = { type: 'object', required: ['config'], properties: { config: { type: 'object' } } };

/** /v3/domains/{id}/config[/{group}[/{option}]] and /v3/domains/config[/{group}[/{option}]]/default (admin). */
export function domainConfigRoutes(app: FastifyInstance, deps: AppDeps): void {
  const dc = deps.identity.domainConfigs;
  const admin = (req: FastifyRequest) => enforce(ctxOf(req).auth, 'identity:admin');
  const body = (req: FastifyRequest) => (req.body as { config: unknown }).config;

  app.get('/v3/domains/config/default', async (req) => { admin(req); return { config: dc.defaults() }; });
  app.get('/v3/domains/config/:group/default', async (req) => { admin(req); return { config: dc.defaults((req.params as P).group) }; });
  app.get('/v3/domains/config/:group/:option/default', async (req) => {
    admin(req);
    const p = req.params as P;
    return { config: dc.defaults(p.group, p.option) };
  });

  for (const path of ['/v3/domains/:domain_id/config', '/v3/domains/:domain_id/config/:group', '/v3/domains/:domain_id/config/:group/:option']) {
    app.get(path, async (req) => {
      admin(req);
      const p = req.params as P;
      return { config: await dc.get(p.domain_id, p.group, p.option) };
    });
    app.patch(path, { schema: { body: configBody } }, async (req) => {
      admin(req);
      const p = req.params as P;
      return { config: await dc.update(p.domain_id, body(req), p.group, p.option) };
    });
    app.delete(path, async (req, reply) => {
      admin(req);
      const p = req.params as P;
      await dc.delete(p.domain_id, p.group, p.option);
      reply.code(204).send();
    });
  }
  app.put('/v3/domains/:domain_id/config', { schema: { body: configBody } }, async (req, reply) => {
    admin(req);
    const { config, created } = await dc.replace((req.params as P).domain_id, body(req));
    reply.code(created ? 201 : 200);
    return { config };
  });
}
