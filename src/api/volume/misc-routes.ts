// Availability zones, os-services, quota sets, limits, user messages and extensions.
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { badRequest, forbidden } from '../../errors.js';
import { isAdmin } from '../../services/auth-context.js';
import { VOLUME_AZ, type VolumeService } from '../../services/volume/index.js';
import { route } from './route.js';
import type { VolumeViews } from './views.js';
import { boolOf, QuotaClassBody, QuotaSetBody } from './schemas.js';

export function miscRoutes(app: FastifyInstance, svc: VolumeService, views: VolumeViews, startedAt: string): void {
  route(app, {
    method: 'GET',
    url: '/os-availability-zone',
    policy: 'volume:reader',
    handler: async () => ({ availabilityZoneInfo: [{ zoneName: VOLUME_AZ, zoneState: { available: true } }] }),
  });

  route(app, {
    method: 'GET',
    url: '/os-services',
    policy: 'volume:admin',
    handler: async ({ query, version }) => {
      const all = [
        { binary: 'cinder-scheduler', host: svc.hostName },
        { binary: 'cinder-volume', host: svc.backendHost.split('#')[0]! },
        { binary: 'cinder-backup', host: svc.hostName },
      ];
      const services = all
        .filter(
          (s) =>
            // Cinder's host filter also matches host@backend and host@backend#pool.
            (typeof query.host !== 'string' ||
              s.host === query.host ||
              s.host.startsWith(`${query.host}@`) ||
              s.host.startsWith(`${query.host}#`)) &&
            (typeof query.binary !== 'string' || s.binary === query.binary),
        )
        .map((s) => ({
          ...s,
          zone: VOLUME_AZ,
          status: 'enabled',
          state: 'up',
          updated_at: startedAt,
          disabled_reason: null,
          ...(version.atLeast('3.7') ? { cluster: null } : {}),
          ...(s.binary === 'cinder-volume'
            ? { frozen: false, replication_status: 'disabled', active_backend_id: null }
            : {}),
          ...(version.atLeast('3.49') && s.binary === 'cinder-volume' ? { backend_state: 'up' } : {}),
        }));
      return { services };
    },
  });

  const quotaView = async (projectId: string, usage: boolean) => {
    const limits = await svc.quotas.limits(projectId);
    if (!usage) return { id: projectId, ...limits };
    const used = await svc.quotas.usage(projectId);
    const out: Record<string, unknown> = { id: projectId };
    for (const [k, lim] of Object.entries(limits))
      out[k] = { limit: lim, in_use: used[k] ?? 0, reserved: 0, allocated: 0 };
    return out;
  };
  route(app, {
    method: 'GET',
    url: '/os-quota-sets/:target',
    policy: 'volume:reader',
    handler: async ({ auth, params, query }) => {
      if (params.target !== auth.projectId && !isAdmin(auth))
        throw forbidden("Policy doesn't allow volume_extension:quotas:show to be performed.");
      const usage = query.usage !== undefined && boolOf(query.usage, 'usage');
      return { quota_set: await quotaView(params.target!, usage) };
    },
  });
  route(app, {
    method: 'GET',
    url: '/os-quota-sets/:target/defaults',
    policy: 'volume:reader',
    handler: async ({ params }) => ({ quota_set: { id: params.target, ...(await svc.quotas.defaults()) } }),
  });
  route<Static<typeof QuotaSetBody>>(app, {
    method: 'PUT',
    url: '/os-quota-sets/:target',
    policy: 'volume:admin',
    body: QuotaSetBody,
    handler: async ({ params, body }) => {
      const values: Record<string, number> = {};
      for (const [k, v] of Object.entries(body.quota_set)) {
        if (k === 'tenant_id' || k === 'id') continue;
        values[k] = Number(v);
      }
      await svc.quotas.set(params.target!, values);
      const { id: _id, ...rest } = await quotaView(params.target!, false);
      return { quota_set: rest };
    },
  });
  route(app, {
    method: 'DELETE',
    url: '/os-quota-sets/:target',
    policy: 'volume:admin',
    handler: async ({ params }) => {
      await svc.quotas.reset(params.target!);
    },
  });
  route(app, {
    method: 'GET',
    url: '/os-quota-class-sets/:cls',
    policy: 'volume:admin',
    handler: async ({ params }) => ({ quota_class_set: { id: params.cls, ...(await svc.quotas.defaults()) } }),
  });
  // Cinder keeps one quota class, `default`; updating it changes the limits of every project that set none.
  route<Static<typeof QuotaClassBody>>(app, {
    method: 'PUT',
    url: '/os-quota-class-sets/:cls',
    policy: 'volume:admin',
    body: QuotaClassBody,
    handler: async ({ params, body }) => {
      if (params.cls !== 'default') throw badRequest('Only the default quota class can be updated.');
      const values = Object.fromEntries(Object.entries(body.quota_class_set).map(([k, v]) => [k, Number(v)]));
      await svc.quotas.setDefaults(values);
      return { quota_class_set: await svc.quotas.defaults() };
    },
  });

  route(app, {
    method: 'GET',
    url: '/limits',
    policy: 'volume:reader',
    handler: async ({ auth }) => {
      const p = auth.projectId ?? '';
      const lim = await svc.quotas.limits(p);
      const used = await svc.quotas.usage(p);
      return {
        limits: {
          rate: [],
          absolute: {
            maxTotalVolumes: lim.volumes,
            maxTotalSnapshots: lim.snapshots,
            maxTotalVolumeGigabytes: lim.gigabytes,
            maxTotalBackups: lim.backups,
            maxTotalBackupGigabytes: lim.backup_gigabytes,
            totalVolumesUsed: used.volumes,
            totalSnapshotsUsed: used.snapshots,
            totalGigabytesUsed: used.gigabytes,
            totalBackupsUsed: used.backups,
            totalBackupGigabytesUsed: used.backup_gigabytes,
          },
        },
      };
    },
  });

  route(app, {
    method: 'GET',
    url: '/messages',
    policy: 'volume:read',
    minVersion: '3.3',
    handler: async ({ auth, project }) => ({
      messages: (await svc.messages.list(auth)).map((m) => views.message(m, project)),
    }),
  });
  route(app, {
    method: 'GET',
    url: '/messages/:id',
    policy: 'volume:read',
    minVersion: '3.3',
    handler: async ({ auth, project, params }) => ({
      message: views.message(await svc.messages.get(auth, params.id!), project),
    }),
  });
  route(app, {
    method: 'DELETE',
    url: '/messages/:id',
    policy: 'volume:write',
    minVersion: '3.3',
    status: 204,
    handler: async ({ auth, params }) => {
      await svc.messages.delete(auth, params.id!);
    },
  });

  route(app, {
    method: 'GET',
    url: '/extensions',
    policy: 'volume:reader',
    handler: async () => ({
      extensions: [
        ['AvailabilityZones', 'os-availability-zone'],
        ['Quotas', 'os-quota-sets'],
        ['Services', 'os-services'],
        ['Hosts', 'os-hosts'],
        ['QosSpecs', 'qos-specs'],
        ['SchedulerStats', 'scheduler-stats'],
        ['Capabilities', 'capabilities'],
        ['Backups', 'backups'],
        ['VolumeTransfer', 'os-volume-transfer'],
        ['TypesManage', 'os-types-manage'],
        ['VolumeTypeAccess', 'os-volume-type-access'],
        ['VolumeActions', 'os-volume-actions'],
        ['AdminActions', 'os-admin-actions'],
        ['ExtendedSnapshotAttributes', 'os-extended-snapshot-attributes'],
        ['VolumeTenantAttribute', 'os-vol-tenant-attr'],
        ['VolumeHostAttribute', 'os-vol-host-attr'],
        ['VolumeImageMetadata', 'os-vol-image-meta'],
      ].map(([name, alias]) => ({
        name,
        alias,
        description: `${name} support.`,
        updated: '2013-04-18T00:00:00+00:00',
        links: [],
      })),
    }),
  });
}
