// Volume transfers: /os-volume-transfer (all versions) and /volume-transfers (3.55+, with no_snapshots; 3.57 shows
// the projects and whether it was accepted). The key is in the create answer only.
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { VolumeService } from '../../services/volume/index.js';
import type { VolumeTransfer } from '../../services/volume/transfers.js';
import { isAdmin } from '../../services/auth-context.js';
import type { ApiVersion } from '../compute/microversion.js';
import { accepted, route } from './route.js';
import type { VolumeViews } from './views.js';
import { boolOf, TransferAccept, TransferCreate } from './schemas.js';

export function transferRoutes(app: FastifyInstance, svc: VolumeService, views: VolumeViews): void {
  const tr = svc.transfers;
  const show = (t: VolumeTransfer, project: string, kind: string, version: ApiVersion, detail: boolean) => ({
    id: t.id,
    name: t.name,
    volume_id: t.volumeId,
    links: views.links(project, kind, t.id),
    ...(detail ? { created_at: t.createdAt } : {}),
    ...(detail && version.atLeast('3.55') ? { no_snapshots: t.noSnapshots } : {}),
    ...(detail && version.atLeast('3.57')
      ? { source_project_id: t.sourceProjectId, destination_project_id: t.destinationProjectId, accepted: t.accepted }
      : {}),
  });
  for (const [kind, minVersion] of [
    ['os-volume-transfer', undefined],
    ['volume-transfers', '3.55'],
  ] as const) {
    const since = minVersion ? { minVersion } : {};
    route<Static<typeof TransferCreate>>(app, {
      method: 'POST',
      url: `/${kind}`,
      policy: 'volume:write',
      body: TransferCreate,
      status: 202,
      ...since,
      handler: async ({ auth, project, version, body }) => {
        const b = body.transfer;
        const noSnapshots =
          version.atLeast('3.55') && b.no_snapshots !== undefined ? boolOf(b.no_snapshots, 'no_snapshots') : false;
        const t = await tr.create(auth, { volumeId: b.volume_id, name: b.name ?? null, noSnapshots });
        return { transfer: { ...show(t, project, kind, version, true), auth_key: t.authKey } };
      },
    });
    const listing =
      (detail: boolean) =>
      async ({
        auth,
        project,
        version,
        query,
      }: {
        auth: Parameters<typeof tr.list>[0];
        project: string;
        version: ApiVersion;
        query: Record<string, unknown>;
      }) => {
        const all = isAdmin(auth) && query.all_tenants !== undefined;
        return { transfers: (await tr.list(auth, all)).map((t) => show(t, project, kind, version, detail)) };
      };
    route(app, { method: 'GET', url: `/${kind}`, policy: 'volume:read', ...since, handler: listing(false) });
    route(app, { method: 'GET', url: `/${kind}/detail`, policy: 'volume:read', ...since, handler: listing(true) });
    route(app, {
      method: 'GET',
      url: `/${kind}/:id`,
      policy: 'volume:read',
      ...since,
      handler: async ({ auth, project, version, params }) => ({
        transfer: show(await tr.get(auth, params.id!), project, kind, version, true),
      }),
    });
    route(app, {
      method: 'DELETE',
      url: `/${kind}/:id`,
      policy: 'volume:write',
      status: 202,
      ...since,
      handler: async ({ auth, params }) => {
        await tr.delete(auth, params.id!);
        return accepted();
      },
    });
    route<Static<typeof TransferAccept>>(app, {
      method: 'POST',
      url: `/${kind}/:id/accept`,
      policy: 'volume:write',
      body: TransferAccept,
      status: 202,
      ...since,
      handler: async ({ auth, project, version, params, body }) => {
        const t = await tr.accept(auth, params.id!, body.accept.auth_key);
        return { transfer: show(t, project, kind, version, false) };
      },
    });
  }
}
