import type { ServiceApi } from '../http/service-api.js';
import { installVolumeMicroversions, MAX_VOLUME_VERSION, MIN_VOLUME_VERSION } from './microversion.js';
import { VolumeViews } from './views.js';
import { volumeRoutes } from './volume-routes.js';
import { snapshotRoutes } from './snapshot-routes.js';
import { typeRoutes } from './type-routes.js';
import { miscRoutes } from './misc-routes.js';
import { emptyFeatureRoutes } from './empty-feature-routes.js';
import { transferRoutes } from './transfer-routes.js';
import { backupRoutes } from './backup-routes.js';
import { qosRoutes } from './qos-routes.js';
import { backendRoutes } from './backend-routes.js';

function v3Doc(root: string) {
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: MAX_VOLUME_VERSION,
    min_version: MIN_VOLUME_VERSION,
    updated: '2022-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${root}/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

/** Cinder v3 (microversions 3.0-3.64) at /volume; the catalog endpoint carries the project id, as Cinder's does. */
export const volumeApi: ServiceApi = {
  type: 'block-storage',
  name: 'cinder',
  prefix: '/volume',
  endpointPath: '/volume/v3/%(project_id)s',
  errorFormat: 'cinder',
  alsoInCatalogAs: [{ type: 'volumev3', name: 'cinderv3' }],
  async routes(app, deps) {
    const root = `${deps.config.server.publicUrl}/volume`;
    const views = new VolumeViews(root);
    // GET /volume/ lists the versions with 300 Multiple Choices, as Cinder does.
    app.get('/', { config: { public: true } }, async (_req, reply) =>
      reply.code(300).send({ versions: [v3Doc(root)] }),
    );
    app.get('/v3', { config: { public: true } }, async () => ({ versions: [v3Doc(root)] }));
    const startedAt = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000');
    await app.register(
      async (v3) => {
        installVolumeMicroversions(v3);
        const svc = deps.volume;
        volumeRoutes(v3, svc, views);
        snapshotRoutes(v3, svc, views);
        typeRoutes(v3, svc, views);
        miscRoutes(v3, svc, views, startedAt);
        emptyFeatureRoutes(v3, svc);
        transferRoutes(v3, svc, views);
        backupRoutes(v3, svc, views);
        qosRoutes(v3, svc, views);
        backendRoutes(v3, svc, startedAt);
      },
      { prefix: '/v3' },
    );
  },
};
