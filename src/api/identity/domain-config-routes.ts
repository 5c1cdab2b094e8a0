import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { op } from '../http/route-policy.js';

type P = { domain_id: string; group?: string; option?: string };
const configBody = { type: 'object', required: ['config'], properties: { config: { type: 'object' } } };

/** /v3/domains/{id}/config[/{group}[/{option}]] and /v3/domains/config[/{group}[/{option}]]/default (admin). */
export function domainConfigRoutes(app: FastifyInstance, deps: AppDeps): void {
  const dc = deps.identity.domainConfigs;
  const body = (req: FastifyRequest) => (req.body as { config: unknown }).config;

  const getDefault = op('identity:get_domain_config_default');
  app.get('/v3/domains/config/default', getDefault, async () => ({ config: dc.defaults() }));
  app.get('/v3/domains/config/:group/default', getDefault, async (req) => ({
    config: dc.defaults((req.params as P).group),
  }));
  app.get('/v3/domains/config/:group/:option/default', getDefault, async (req) => {
    const p = req.params as P;
    return { config: dc.defaults(p.group, p.option) };
  });

  for (const path of [
    '/v3/domains/:domain_id/config',
    '/v3/domains/:domain_id/config/:group',
    '/v3/domains/:domain_id/config/:group/:option',
  ]) {
    app.get(path, op('identity:get_domain_config'), async (req) => {
      const p = req.params as P;
      return { config: await dc.get(p.domain_id, p.group, p.option) };
    });
    app.patch(path, op('identity:update_domain_config', { schema: { body: configBody } }), async (req) => {
      const p = req.params as P;
      return { config: await dc.update(p.domain_id, body(req), p.group, p.option) };
    });
    app.delete(path, op('identity:delete_domain_config'), async (req, reply) => {
      const p = req.params as P;
      await dc.delete(p.domain_id, p.group, p.option);
      reply.code(204).send();
    });
  }
  app.put(
    '/v3/domains/:domain_id/config',
    op('identity:create_domain_config', { schema: { body: configBody } }),
    async (req, reply) => {
      const { config, created } = await dc.replace((req.params as P).domain_id, body(req));
      reply.code(created ? 201 : 200);
      return { config };
    },
  );
}
