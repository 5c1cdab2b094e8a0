// /backups: create (full or incremental), list (brief and detail), show, update (3.9), delete, restore, export and
// import of records (admin), os-reset_status and os-force_delete (admin).
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { badRequest, forbidden } from '../../errors.js';
import { isAdmin } from '../../services/auth-context.js';
import { allowed } from '../../services/policy.js';
import type { VolumeBackup, VolumeService } from '../../services/volume/index.js';
import type { ApiVersion } from '../compute/microversion.js';
import { accepted, route, type VolumeCall } from './route.js';
import type { VolumeViews } from './views.js';
import { ActionBody, BackupCreate, BackupImport, BackupRestore, BackupUpdate, boolOf } from './schemas.js';

type Q = Record<string, unknown>;

export function backupRoutes(app: FastifyInstance, svc: VolumeService, views: VolumeViews): void {
  const backups = svc.backups;
  const brief = (b: VolumeBackup, project: string) => ({
    id: b.id,
    name: b.name,
    links: views.links(project, 'backups', b.id),
  });
  const detail = (b: VolumeBackup, project: string, version: ApiVersion, admin: boolean) => ({
    ...brief(b, project),
    availability_zone: b.availabilityZone,
    container: b.container,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    data_timestamp: b.dataTimestamp,
    description: b.description,
    fail_reason: b.failReason,
    has_dependent_backups: b.hasDependentBackups,
    is_incremental: b.isIncremental,
    object_count: b.objectCount,
    size: b.size,
    snapshot_id: b.snapshotId,
    status: b.status,
    volume_id: b.volumeId,
    ...(version.atLeast('3.43') ? { metadata: b.metadata } : {}),
    ...(version.atLeast('3.56') ? { user_id: b.userId } : {}),
    ...(admin && version.atLeast('3.18') ? { 'os-backup-project-attr:project_id': b.projectId } : {}),
  });
  const listing =
    (full: boolean) =>
    async ({ auth, project, version, query }: VolumeCall<unknown, Q>) => {
      const s = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : undefined);
      const list = await backups.list(auth, {
        allTenants: isAdmin(auth) && s('all_tenants') !== undefined,
        ...(s('name') !== undefined ? { name: s('name')! } : {}),
        ...(s('status') !== undefined ? { status: s('status')! } : {}),
        ...(s('volume_id') !== undefined ? { volumeId: s('volume_id')! } : {}),
      });
      const limit = s('limit') !== undefined ? Number(s('limit')) : undefined;
      const marker = s('marker');
      let items = list;
      if (marker !== undefined) {
        const i = items.findIndex((b) => b.id === marker);
        if (i < 0) throw badRequest(`Invalid input received: marker [${marker}] not found`);
        items = items.slice(i + 1);
      }
      if (limit !== undefined && Number.isInteger(limit) && limit >= 0) items = items.slice(0, limit);
      return { backups: items.map((b) => (full ? detail(b, project, version, isAdmin(auth)) : brief(b, project))) };
    };
  route(app, { method: 'GET', url: '/backups', policy: 'volume:read', handler: listing(false) });
  route(app, { method: 'GET', url: '/backups/detail', policy: 'volume:read', handler: listing(true) });
  route<Static<typeof BackupCreate>>(app, {
    method: 'POST',
    url: '/backups',
    policy: 'volume:write',
    body: BackupCreate,
    status: 202,
    handler: async ({ auth, project, version, body }) => {
      const b = body.backup;
      const made = await backups.create(auth, {
        volumeId: b.volume_id,
        name: b.name ?? null,
        description: b.description ?? null,
        container: b.container ?? null,
        incremental: b.incremental === undefined ? false : boolOf(b.incremental, 'incremental'),
        force: b.force === undefined ? false : boolOf(b.force, 'force'),
        snapshotId: b.snapshot_id ?? null,
        ...(version.atLeast('3.43') && b.metadata ? { metadata: b.metadata } : {}),
        availabilityZone: version.atLeast('3.51') ? (b.availability_zone ?? null) : null,
      });
      return { backup: { ...brief(made, project), ...(version.atLeast('3.43') ? { metadata: made.metadata } : {}) } };
    },
  });
  route(app, {
    method: 'GET',
    url: '/backups/:id',
    policy: 'volume:read',
    handler: async ({ auth, project, version, params }) => ({
      backup: detail(await backups.get(auth, params.id!), project, version, isAdmin(auth)),
    }),
  });
  route<Static<typeof BackupUpdate>>(app, {
    method: 'PUT',
    url: '/backups/:id',
    policy: 'volume:write',
    body: BackupUpdate,
    minVersion: '3.9',
    handler: async ({ auth, project, version, params, body }) => {
      const b = body.backup;
      const out = await backups.update(auth, params.id!, {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.metadata !== undefined && version.atLeast('3.43') ? { metadata: b.metadata } : {}),
      });
      return { backup: brief(out, project) };
    },
  });
  route(app, {
    method: 'DELETE',
    url: '/backups/:id',
    policy: 'volume:write',
    status: 202,
    handler: async ({ auth, params }) => {
      await backups.delete(auth, params.id!);
    },
  });
  route<Static<typeof BackupRestore>>(app, {
    method: 'POST',
    url: '/backups/:id/restore',
    policy: 'volume:write',
    body: BackupRestore,
    status: 202,
    handler: async ({ auth, params, body }) => {
      const r = body.restore ?? {};
      const out = await backups.restore(auth, params.id!, { volumeId: r.volume_id ?? null, name: r.name ?? null });
      return { restore: { backup_id: params.id!, volume_id: out.volumeId, volume_name: out.volumeName } };
    },
  });
  route(app, {
    method: 'GET',
    url: '/backups/:id/export_record',
    policy: 'volume:admin',
    handler: async ({ auth, params }) => {
      const r = await backups.exportRecord(auth, params.id!);
      return { 'backup-record': { backup_service: r.backupService, backup_url: r.backupUrl } };
    },
  });
  route<Static<typeof BackupImport>>(app, {
    method: 'POST',
    url: '/backups/import_record',
    policy: 'volume:admin',
    body: BackupImport,
    status: 201,
    handler: async ({ auth, project, body }) => {
      const b = await backups.importRecord(
        auth,
        body['backup-record'].backup_service,
        body['backup-record'].backup_url,
      );
      return { backup: brief(b, project) };
    },
  });
  route<Record<string, unknown>>(app, {
    method: 'POST',
    url: '/backups/:id/action',
    policy: 'volume:write',
    body: ActionBody,
    handler: async ({ auth, params, body }) => {
      const [name, value] = Object.entries(body)[0]!;
      const v = (value ?? {}) as Record<string, unknown>;
      switch (name) {
        case 'os-reset_status':
          if (!allowed(auth, 'volume:admin'))
            throw forbidden("Policy doesn't allow volume_extension:backup_admin_actions:reset_status to be performed.");
          if (typeof v.status !== 'string') throw badRequest("Invalid input received: 'status' is a required property");
          await backups.resetStatus(auth, params.id!, v.status);
          return accepted();
        case 'os-force_delete':
          if (!allowed(auth, 'volume:admin'))
            throw forbidden("Policy doesn't allow volume_extension:backup_admin_actions:force_delete to be performed.");
          await backups.delete(auth, params.id!, true);
          return accepted();
        default:
          throw badRequest(`There is no such action: ${name}`);
      }
    },
  });
}
