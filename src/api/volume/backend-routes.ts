// Admin views of the backend: os-hosts (Cinder's hosts extension), scheduler-stats/get_pools,
// capabilities/{host} and the os-services actions. One backend, one pool: host@backend#backend.
import type { FastifyInstance } from 'fastify';
import type { VolumeService } from '../../services/volume/index.js';
import { VOLUME_AZ } from '../../services/volume/index.js';
import { badRequest, notFound } from '../../errors.js';
import { boolOf, ServiceActionBody } from './schemas.js';
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
  // PUT /os-services/{action}: Cinder's checks and answers for unknown hosts and binaries. The three services live
  // in this one process and cannot be disabled, frozen or failed over on their own: a valid request says so (400).
  route<Record<string, unknown>>(app, {
    method: 'PUT',
    url: '/os-services/:action',
    policy: 'volume:admin',
    body: ServiceActionBody,
    handler: async ({ params, body }) => {
      const action = params.action!;
      const host = typeof body.host === 'string' ? body.host : undefined;
      const services: [string, string][] = [
        ['cinder-scheduler', svc.hostName],
        ['cinder-volume', stats.volumeHost],
        ['cinder-backup', svc.hostName],
      ];
      if (['freeze', 'thaw', 'failover_host', 'failover'].includes(action)) {
        if (!host || !services.some(([, h]) => h === host || h.startsWith(`${host}@`)))
          throw badRequest(`Invalid input received: Host ${host ?? 'None'} is not a volume host.`);
        throw badRequest(`Invalid input received: ${action} is not supported by the ${stats.volumeHost} backend.`);
      }
      if (!['enable', 'disable', 'disable-log-reason'].includes(action)) throw notFound('Unknown action');
      const binary = typeof body.binary === 'string' ? body.binary : undefined;
      if (!host || !binary) throw badRequest('Missing required element host or binary in request body.');
      if (!services.some(([b, h]) => b === binary && (h === host || h.split('@')[0] === host)))
        throw notFound(`Service ${binary} on host ${host} could not be found.`);
      if (action === 'disable-log-reason') {
        const reason = body.disabled_reason;
        if (typeof reason !== 'string' || !reason.trim() || reason.length > 255)
          throw badRequest('Invalid input received: Disabled reason contains invalid characters or is too long');
      }
      if (action === 'enable') return { host, binary, status: 'enabled', disabled: false };
      throw badRequest(
        `Invalid input received: the ${binary} service runs in the cloud's one process and cannot be disabled.`,
      );
    },
  });
}
