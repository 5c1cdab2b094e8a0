// Admin views of the backend: os-hosts (Cinder's hosts extension), scheduler-stats/get_pools and
// capabilities/{host}. One backend, one pool: host@backend#backend.
import type { FastifyInstance } from 'fastify';
import type { VolumeService } from '../../services/volume/index.js';
import { VOLUME_AZ } from '../../services/volume/index.js';
import { boolOf } from './schemas.js';
import { route } from './route.js';

export function backendRoutes(app: FastifyInstance, svc: VolumeService, startedAt: string): void {
  const stats = svc.stats;
  route(app, {
    method: 'GET',
    url: '/os-hosts',
    policy: 'volume:admin',
    handler: async () => ({
      hosts: [
        ['cinder-scheduler', svc.hostName],
        ['cinder-volume', stats.volumeHost],
        ['cinder-backup', svc.hostName],
      ].map(([service, host]) => ({
        service,
        host_name: host,
        zone: VOLUME_AZ,
        'service-status': 'available',
        'service-state': 'enabled',
        'last-update': startedAt,
      })),
    }),
  });
  route(app, {
    method: 'GET',
    url: '/os-hosts/:host',
    policy: 'volume:admin',
    handler: async ({ params }) => ({
      host: (await stats.usage(params.host!)).map((u) => ({
        resource: {
          project: u.project,
          host: params.host!,
          volume_count: String(u.volumeCount),
          total_volume_gb: String(u.volumeGb),
          snapshot_count: String(u.snapshotCount),
          total_snapshot_gb: String(u.snapshotGb),
        },
      })),
    }),
  });
  route(app, {
    method: 'GET',
    url: '/scheduler-stats/get_pools',
    policy: 'volume:admin',
    handler: async ({ query }) => {
      const detail = query.detail !== undefined && boolOf(query.detail, 'detail');
      return {
        pools: [detail ? { name: stats.poolName, capabilities: await stats.capabilities() } : { name: stats.poolName }],
      };
    },
  });
  route(app, {
    method: 'GET',
    url: '/capabilities/:host',
    policy: 'volume:admin',
    handler: async ({ params }) => {
      const c = await stats.capabilitiesOf(params.host!);
      return {
        namespace: `OS::Storage::Capabilities::${params.host!}`,
        vendor_name: c.vendor_name,
        volume_backend_name: c.volume_backend_name,
        pool_name: null,
        driver_version: c.driver_version,
        storage_protocol: c.storage_protocol,
        display_name: null,
        description: null,
        visibility: null,
        replication_targets: [],
        properties: {
          thin_provisioning: {
            title: 'Thin Provisioning',
            description: 'Sets thin provisioning.',
            type: 'boolean',
          },
          qos: { title: 'QoS', description: 'Enables QoS.', type: 'boolean' },
        },
      };
    },
  });
}
