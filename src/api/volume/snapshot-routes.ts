// /snapshots: create, list (brief and detail), show, update, delete, metadata, os-reset_status.
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { badRequest, forbidden, notFound } from '../../errors.js';
import { isAdmin } from '../../services/auth-context.js';
import { allowed } from '../../services/policy.js';
import { hasNextPage, parseListOptions, SNAPSHOT_SORT_KEYS, type VolumeService } from '../../services/volume/index.js';
import { metadataRoutes } from './metadata-routes.js';
import { accepted, route, type VolumeCall } from './route.js';
import type { VolumeViews } from './views.js';
import { ActionBody, boolOf, SnapshotCreate, SnapshotUpdate } from './schemas.js';
import { metadataFilter } from './volume-routes.js';

type Q = Record<string, unknown>;

export function snapshotRoutes(app: FastifyInstance, svc: VolumeService, views: VolumeViews): void {
  const snaps = svc.snapshots;
  const listing =
    (detail: boolean) =>
    async ({ auth, project, version, query }: VolumeCall<unknown, Q>) => {
      const s = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : undefined);
      const admin = isAdmin(auth);
      const meta = metadataFilter(query.metadata);
      const opts = parseListOptions(query, SNAPSHOT_SORT_KEYS);
      const listed = await snaps.list(
        auth,
        {
          ...(admin && s('all_tenants') !== undefined ? { allTenants: true } : {}),
          ...(admin && s('project_id') ? { projectId: s('project_id')!, allTenants: true } : {}),
          ...(s('name') !== undefined ? { name: s('name')! } : {}),
          ...(s('status') !== undefined ? { status: s('status')! } : {}),
          ...(s('volume_id') !== undefined ? { volumeId: s('volume_id')! } : {}),
          ...(meta ? { metadata: meta } : {}),
        },
        opts,
      );
      const { items } = listed;
      const out: Record<string, unknown> = { snapshots: items.map((x) => views.snapshot(x, version, detail)) };
      if (hasNextPage(listed, opts))
        out.snapshots_links = views.nextLink(
          project,
          detail ? 'snapshots/detail' : 'snapshots',
          query,
          items[items.length - 1]!.id,
        );
      return out;
    };
  route(app, { method: 'GET', url: '/snapshots', policy: 'volume:read', handler: listing(false) });
  route(app, { method: 'GET', url: '/snapshots/detail', policy: 'volume:read', handler: listing(true) });
  route<Static<typeof SnapshotCreate>>(app, {
    method: 'POST',
    url: '/snapshots',
    policy: 'volume:write',
    body: SnapshotCreate,
    status: 202,
    handler: async ({ auth, version, body }) => {
      const b = body.snapshot;
      // Cinder looks the volume up first: no volume id is a 404, as any unknown one.
      if (b.volume_id === null) throw notFound('Volume None could not be found.');
      const s = await snaps.create(auth, {
        volumeId: b.volume_id,
        force: b.force === undefined ? false : boolOf(b.force, 'force'),
        name: b.name ?? b.display_name ?? null,
        description: b.description ?? b.display_description ?? null,
        metadata: b.metadata ?? {},
        inUseAllowed: version.atLeast('3.66'),
      });
      return { snapshot: views.snapshot(s, version, false) };
    },
  });
  route(app, {
    method: 'GET',
    url: '/snapshots/:id',
    policy: 'volume:read',
    handler: async ({ auth, version, params }) => ({
      snapshot: views.snapshot(await snaps.get(auth, params.id!), version, true),
    }),
  });
  route<Static<typeof SnapshotUpdate>>(app, {
    method: 'PUT',
    url: '/snapshots/:id',
    policy: 'volume:write',
    body: SnapshotUpdate,
    handler: async ({ auth, version, params, body }) => {
      const b = body.snapshot;
      const name = b.name !== undefined ? b.name : b.display_name;
      const description = b.description !== undefined ? b.description : b.display_description;
      const s = await snaps.update(auth, params.id!, {
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
      });
      return { snapshot: views.snapshot(s, version, false) };
    },
  });
  route(app, {
    method: 'DELETE',
    url: '/snapshots/:id',
    policy: 'volume:write',
    status: 202,
    handler: async ({ auth, params }) => {
      await snaps.delete(auth, params.id!);
    },
  });
  metadataRoutes(app, 'snapshots', snaps);
  route<Record<string, unknown>>(app, {
    method: 'POST',
    url: '/snapshots/:id/action',
    policy: 'volume:write',
    body: ActionBody,
    handler: async ({ auth, params, body }) => {
      const [name, value] = Object.entries(body)[0]!;
      const v = (value ?? {}) as Record<string, unknown>;
      switch (name) {
        case 'os-reset_status':
          if (!allowed(auth, 'volume:admin'))
            throw forbidden(
              "Policy doesn't allow volume_extension:snapshot_admin_actions:reset_status to be performed.",
            );
          if (typeof v.status !== 'string') throw badRequest("Invalid input received: 'status' is a required property");
          await snaps.resetStatus(auth, params.id!, v.status);
          return accepted();
        case 'os-force_delete':
          if (!allowed(auth, 'volume:admin'))
            throw forbidden(
              "Policy doesn't allow volume_extension:snapshot_admin_actions:force_delete to be performed.",
            );
          await snaps.delete(auth, params.id!, true);
          return accepted();
        case 'os-update_snapshot_status':
          // Cinder's default lets a member of the snapshot's project report its status (the route's member rule and
          // the snapshot lookup's project check apply); only the transitions a driver may report are accepted.
          if (typeof v.status !== 'string') throw badRequest("Invalid input received: 'status' is a required property");
          await snaps.updateStatus(auth, params.id!, v.status, typeof v.progress === 'string' ? v.progress : undefined);
          return accepted();
        default:
          throw badRequest(`There is no such action: ${name}`);
      }
    },
  });
}
