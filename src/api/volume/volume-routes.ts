// /volumes: create, list (brief and detail), show, update, delete, summary, metadata and the actions.
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { badRequest, forbidden } from '../../errors.js';
import { isAdmin } from '../../services/auth-context.js';
import { allowed } from '../../services/policy.js';
import {
  hasNextPage,
  parseListOptions,
  VOLUME_SORT_KEYS,
  type VolumeService,
  type VolumeListFilters,
} from '../../services/volume/index.js';
import { metadataRoutes } from './metadata-routes.js';
import { accepted, route, type VolumeCall } from './route.js';
import { attachAction } from './attach-actions.js';
import type { VolumeViews } from './views.js';
import {
  ActionBody,
  BootableBody,
  boolOf,
  ExtendBody,
  ImageMetaBody,
  ReadonlyBody,
  ResetStatusBody,
  RetypeBody,
  UnsetImageMetaBody,
  VolumeCreate,
  VolumeUpdate,
} from './schemas.js';
import { Value } from '@sinclair/typebox/value';

type Q = Record<string, unknown>;

/** Reads Cinder's `metadata` filter: a JSON (or Python-literal) dict in the query string. */
export function metadataFilter(raw: unknown): Record<string, string> | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    const o = JSON.parse(raw.replaceAll("'", '"')) as unknown;
    if (o && typeof o === 'object' && !Array.isArray(o))
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
  } catch {
    /* answered below */
  }
  throw badRequest(`Invalid input received: metadata filter ${raw} is not a dictionary.`);
}

function filtersOf(q: Q, admin: boolean): VolumeListFilters {
  const s = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  const f: VolumeListFilters = {};
  if (admin && s('all_tenants') !== undefined)
    f.allTenants = s('all_tenants') === '' || boolOf(s('all_tenants'), 'all_tenants');
  if (admin && s('project_id')) {
    f.projectId = s('project_id')!;
    f.allTenants = true;
  }
  if (s('name') !== undefined) f.name = s('name')!;
  if (s('name~') !== undefined) f.nameLike = s('name~')!;
  if (s('status') !== undefined) f.status = s('status')!;
  if (s('bootable') !== undefined) f.bootable = boolOf(s('bootable'), 'bootable');
  if (s('availability_zone') !== undefined) f.availabilityZone = s('availability_zone')!;
  if (s('volume_type') !== undefined) f.volumeType = s('volume_type')!;
  const m = metadataFilter(q.metadata);
  if (m) f.metadata = m;
  return f;
}

/** Checks one action's argument against its schema, answering Cinder's 400 on a mismatch. */
function arg<T extends import('@sinclair/typebox').TSchema>(schema: T, value: unknown, action: string): Static<T> {
  if (!Value.Check(schema, value)) {
    const first = [...Value.Errors(schema, value)][0];
    throw badRequest(
      `Invalid input for field/attribute ${action}${first?.path ?? ''}. ${first?.message ?? 'Invalid value'}.`,
    );
  }
  return value as Static<T>;
}

const sizeOf = (v: number | string) => Number(v);

export function volumeRoutes(app: FastifyInstance, svc: VolumeService, views: VolumeViews): void {
  const vols = svc.volumes;

  const listing =
    (detail: boolean) =>
    async ({ auth, project, version, query }: VolumeCall<unknown, Q>) => {
      const admin = isAdmin(auth);
      const opts = parseListOptions(query, VOLUME_SORT_KEYS);
      const listed = await vols.list(auth, filtersOf(query, admin), opts);
      const { items } = listed;
      const out: Record<string, unknown> = {
        volumes: items.map((v) => (detail ? views.volume(v, version, admin, project) : views.volumeBrief(v, project))),
      };
      if (hasNextPage(listed, opts))
        out.volumes_links = views.nextLink(
          project,
          detail ? 'volumes/detail' : 'volumes',
          query,
          items[items.length - 1]!.id,
        );
      if (version.atLeast('3.45') && query.with_count !== undefined && boolOf(query.with_count, 'with_count')) {
        out.count = (await vols.list(auth, filtersOf(query, admin), { sort: [] })).items.length;
      }
      return out;
    };
  route(app, { method: 'GET', url: '/volumes', policy: 'volume:read', handler: listing(false) });
  route(app, { method: 'GET', url: '/volumes/detail', policy: 'volume:read', handler: listing(true) });

  route(app, {
    method: 'GET',
    url: '/volumes/summary',
    policy: 'volume:read',
    minVersion: '3.12',
    handler: async ({ auth, version, query }) => {
      const all = isAdmin(auth) && query.all_tenants !== undefined;
      const s = await vols.summary(auth, all);
      return {
        'volume-summary': {
          total_size: s.totalSize,
          total_count: s.totalCount,
          ...(version.atLeast('3.36') ? { metadata: s.metadata } : {}),
        },
      };
    },
  });

  route<Static<typeof VolumeCreate>>(app, {
    method: 'POST',
    url: '/volumes',
    policy: 'volume:write',
    body: VolumeCreate,
    status: 202,
    handler: async ({ auth, project, version, body }) => {
      // biome-ignore lint/suspicious/noExplicitAny: fields Cinder accepts but this cloud only refuses
      const b = body.volume as Static<typeof VolumeCreate>['volume'] & Record<string, any>;
      if (b.backup_id)
        throw badRequest('Invalid input received: creating a volume from a backup is not offered by this cloud yet.');
      if (b.consistencygroup_id || b.group_id)
        throw badRequest(
          'Invalid input received: consistency groups and generic groups are not offered by this cloud.',
        );
      const created = await vols.create(auth, {
        size: b.size === undefined || b.size === null ? null : sizeOf(b.size),
        name: b.name ?? b.display_name ?? null,
        description: b.description ?? b.display_description ?? null,
        volumeType: b.volume_type ?? null,
        availabilityZone: b.availability_zone ?? null,
        snapshotId: b.snapshot_id ?? null,
        sourceVolid: b.source_volid ?? null,
        imageId: b.imageRef ?? b.image_id ?? null,
        metadata: b.metadata ?? {},
        multiattach: b.multiattach === undefined ? false : boolOf(b.multiattach, 'multiattach'),
      });
      return { volume: views.volume(created, version, isAdmin(auth), project, false) };
    },
  });

  route(app, {
    method: 'GET',
    url: '/volumes/:id',
    policy: 'volume:read',
    handler: async ({ auth, project, version, params }) => ({
      volume: views.volume(await vols.get(auth, params.id!), version, isAdmin(auth), project),
    }),
  });

  route<Static<typeof VolumeUpdate>>(app, {
    method: 'PUT',
    url: '/volumes/:id',
    policy: 'volume:write',
    body: VolumeUpdate,
    handler: async ({ auth, project, version, params, body }) => {
      const b = body.volume;
      if (Object.keys(b).length === 0)
        throw badRequest("Invalid input received: 'volume' must contain name, description or metadata.");
      const name = b.name !== undefined ? b.name : b.display_name;
      const description = b.description !== undefined ? b.description : b.display_description;
      const v = await vols.update(auth, params.id!, {
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
      });
      return { volume: views.volume(v, version, isAdmin(auth), project, false) };
    },
  });

  route(app, {
    method: 'DELETE',
    url: '/volumes/:id',
    policy: 'volume:write',
    status: 202,
    handler: async ({ auth, params, query }) => {
      const cascade = query.cascade !== undefined && boolOf(query.cascade, 'cascade');
      const force = query.force !== undefined && boolOf(query.force, 'force');
      if (force && !allowed(auth, 'volume:admin'))
        throw badRequest('Invalid input received: only an admin may force-delete a volume.');
      await vols.delete(auth, params.id!, { cascade, force });
    },
  });

  // metadata
  metadataRoutes(app, 'volumes', vols);

  // actions
  route<Record<string, unknown>>(app, {
    method: 'POST',
    url: '/volumes/:id/action',
    policy: 'volume:write',
    body: ActionBody,
    handler: async (c) => {
      const { auth, params, body } = c;
      const [name, value] = Object.entries(body)[0]!;
      const id = params.id!;
      const admin = () => {
        if (!allowed(auth, 'volume:admin'))
          throw forbidden(
            `Policy doesn't allow volume_extension:volume_admin_actions:${name.replace('os-', '')} to be performed.`,
          );
      };
      switch (name) {
        case 'os-extend': {
          const b = arg(ExtendBody, value, name);
          await vols.extend(auth, id, sizeOf(b.new_size), c.version.atLeast('3.42'));
          return accepted();
        }
        case 'os-set_bootable': {
          const b = arg(BootableBody, value, name);
          await vols.setBootable(auth, id, boolOf(b.bootable, 'bootable'));
          return undefined;
        }
        case 'os-update_readonly_flag': {
          const b = arg(ReadonlyBody, value, name);
          await vols.setReadonly(auth, id, boolOf(b.readonly, 'readonly'));
          return accepted();
        }
        case 'os-reset_status': {
          admin();
          const b = arg(ResetStatusBody, value, name);
          await vols.resetStatus(auth, id, {
            ...(b.status !== undefined ? { status: b.status } : {}),
            ...(b.attach_status !== undefined ? { attachStatus: b.attach_status } : {}),
            ...(b.migration_status !== undefined ? { migrationStatus: b.migration_status } : {}),
          });
          return accepted();
        }
        case 'os-force_delete': {
          admin();
          await vols.delete(auth, id, { force: true, cascade: false });
          return accepted();
        }
        case 'os-retype': {
          const b = arg(RetypeBody, value, name);
          await vols.retype(auth, id, b.new_type);
          return accepted();
        }
        case 'os-set_image_metadata': {
          const b = arg(ImageMetaBody, value, name);
          return { metadata: await vols.setImageMetadata(auth, id, b.metadata) };
        }
        case 'os-unset_image_metadata': {
          const b = arg(UnsetImageMetaBody, value, name);
          await vols.unsetImageMetadata(auth, id, b.key);
          return undefined;
        }
        case 'os-show_image_metadata':
          return { metadata: (await vols.get(auth, id)).imageMetadata };
        default: {
          const out = await attachAction(svc, auth, id, name, value);
          if (out === undefined) throw badRequest(`There is no such action: ${name}`);
          return out;
        }
      }
    },
  });
}
