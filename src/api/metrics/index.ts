// GET /metrics: Prometheus's text exposition (format 0.0.4) of the control plane, the hosts and the instances
// (src/services/monitoring/metrics.ts). Never open: an admin's X-Auth-Token, or the scrape credential as
// `Authorization: Bearer <token>` (observability.metricsToken, else generated into DATA_DIR/metrics-token, 0600, for
// Prometheus's `authorization.credentials_file`). Without either: 401 in Keystone's error body; a valid token
// without the admin role: 403. The route is public to the auth hook because a bearer token is not a Keystone token;
// this handler makes the check itself.
import { isAdmin } from '../../services/auth-context.js';
import { forbidden, unauthorized } from '../../errors.js';
import { EXPOSITION_CONTENT_TYPE } from '../../util/prometheus.js';
import type { ServiceApi } from '../http/service-api.js';

export const metricsApi: ServiceApi = {
  type: 'metrics',
  name: 'gureum-metrics',
  prefix: '/metrics',
  endpointPath: '/metrics',
  errorFormat: 'keystone',
  catalog: false,
  routes(app, deps) {
    const metrics = deps.metrics;
    app.get('/', { config: { public: true } }, async (req, reply) => {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const byToken = bearer !== undefined && metrics.acceptsScrapeToken(bearer);
      if (!byToken) {
        // On this public route the auth hook ignored a bad X-Auth-Token (ctx unset): that is a 401 here.
        if (!req.ctx) throw unauthorized();
        if (!isAdmin(req.ctx.auth)) throw forbidden('Only an admin or the scrape credential may read /metrics.');
      }
      return reply.type(EXPOSITION_CONTENT_TYPE).send(await metrics.render());
    });
  },
};
