import type { ServiceApi } from '../http/service-api.js';
import { Views } from './views.js';
import { authRoutes } from './auth-routes.js';
import { resourceRoutes } from './resource-routes.js';
import { roleRoutes } from './role-routes.js';
import { catalogRoutes } from './catalog-routes.js';
import { appCredRoutes } from './app-cred-routes.js';
import { trustRoutes } from './trust-routes.js';
import { credentialRoutes } from './credential-routes.js';
import { limitRoutes } from './limit-routes.js';
import { domainConfigRoutes } from './domain-config-routes.js';
import { endpointFilterRoutes } from './endpoint-filter-routes.js';

const VERSION = 'v3.14';
const UPDATED = '2020-04-07T00:00:00Z';

function versionDoc(href: string) {
  return {
    id: VERSION,
    status: 'stable',
    updated: UPDATED,
    links: [{ rel: 'self', href }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

/** Keystone v3 at /identity. */
export const identityApi: ServiceApi = {
  type: 'identity',
  name: 'keystone',
  prefix: '/identity',
  endpointPath: '/identity',
  errorFormat: 'keystone',
  routes(app, deps) {
    const base = `${deps.config.server.publicUrl}/identity`;
    const v = new Views(`${base}/v3`);
    app.get('/', { config: { public: true } }, async (_req, reply) => {
      reply.code(300);
      return { versions: { values: [versionDoc(`${base}/v3/`)] } };
    });
    app.get('/v3', { config: { public: true } }, async () => ({ version: versionDoc(`${base}/v3/`) }));
    authRoutes(app, deps, v);
    resourceRoutes(app, deps, v);
    roleRoutes(app, deps, v);
    catalogRoutes(app, deps, v);
    appCredRoutes(app, deps, v);
    trustRoutes(app, deps, v);
    credentialRoutes(app, deps, v);
    limitRoutes(app, deps, v);
    domainConfigRoutes(app, deps);
    endpointFilterRoutes(app, deps, v);
  },
};
