import type { ServiceApi } from '../http/service-api.js';
import { installMicroversions, MAX_VERSION, MIN_VERSION } from './microversion.js';
import { ComputeViews } from './views.js';
import { flavorRoutes } from './flavor-routes.js';
import { accountRoutes } from './account-routes.js';
import { serverRoutes } from './server-routes.js';
import { actionRoutes } from './action-routes.js';
import { adminRoutes } from './admin-routes.js';
import { hostRoutes } from './host-routes.js';
import { imageProxyRoutes } from './image-routes.js';
import { networkProxyActions, networkProxyRoutes } from './proxy-routes.js';
import { volumeAttachmentRoutes } from './volume-attachment-routes.js';
import { NetworkProxy } from '../../services/compute/network-proxy.js';
import { VolumeProxy } from '../../services/compute/volume-proxy.js';
import { volumeProxyRoutes } from './volume-proxy-routes.js';

function versionDoc(href: string) {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: MAX_VERSION,
    min_version: MIN_VERSION,
    updated: '2013-07-23T11:33:21Z',
    links: [
      { rel: 'self', href },
      { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

/** Nova v2.1 (with microversions up to MAX_VERSION) at /compute. */
export const computeApi: ServiceApi = {
  type: 'compute',
  name: 'nova',
  prefix: '/compute',
  endpointPath: '/compute/v2.1',
  errorFormat: 'nova',
  async routes(app, deps) {
    const root = `${deps.config.server.publicUrl}/compute`;
    const views = new ComputeViews(`${root}/v2.1`, root);
    installMicroversions(app);
    app.get('/', { config: { public: true } }, async () => ({
      versions: [
        {
          id: 'v2.0',
          status: 'SUPPORTED',
          version: '',
          min_version: '',
          updated: '2011-01-21T11:33:21Z',
          links: [{ rel: 'self', href: `${root}/v2/` }],
        },
        {
          id: 'v2.1',
          status: 'CURRENT',
          version: MAX_VERSION,
          min_version: MIN_VERSION,
          updated: '2013-07-23T11:33:21Z',
          links: [{ rel: 'self', href: `${root}/v2.1/` }],
        },
      ],
    }));
    app.get('/v2', { config: { public: true } }, async () => ({
      version: {
        ...versionDoc(`${root}/v2/`),
        id: 'v2.0',
        status: 'SUPPORTED',
        version: '',
        min_version: '',
        updated: '2011-01-21T11:33:21Z',
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2' }],
      },
    }));
    app.get('/v2.1', { config: { public: true } }, async () => ({ version: versionDoc(`${root}/v2.1/`) }));
    await app.register(
      async (v21) => {
        const compute = deps.compute;
        flavorRoutes(v21, compute, views);
        accountRoutes(v21, compute, views);
        serverRoutes(v21, compute, views);
        const proxy = new NetworkProxy(deps.network);
        actionRoutes(v21, compute, views, networkProxyActions(compute, proxy), async (instanceId, host, type) => {
          const { token } = await deps.console.issue(instanceId, host, type);
          const path = encodeURIComponent(`console/websockify?token=${token}`);
          return `${deps.config.server.publicUrl}/console/vnc_lite.html?path=${path}`;
        });
        adminRoutes(v21, compute, views);
        networkProxyRoutes(v21, compute, proxy);
        imageProxyRoutes(v21, compute, deps.image, views, `${deps.config.server.publicUrl}/image`);
        hostRoutes(v21, compute);
        const volumeProxy = new VolumeProxy(deps.volume);
        volumeAttachmentRoutes(v21, compute, volumeProxy);
        volumeProxyRoutes(v21, volumeProxy);
      },
      { prefix: '/v2.1' },
    );
  },
};
