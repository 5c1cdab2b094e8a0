// /types: volume types, extra specs and os-volume-type-access.
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { badRequest, forbidden, notFound } from '../../errors.js';
import { isAdmin } from '../../services/auth-context.js';
import { allowed } from '../../services/policy.js';
import type { VolumeService } from '../../services/volume/index.js';
import { accepted, route } from './route.js';
import type { VolumeViews } from './views.js';
import { boolOf, ExtraSpecsBody, TypeActionBody, TypeCreate, TypeUpdate } from './schemas.js';

export function typeRoutes(app: FastifyInstance, svc: VolumeService, views: VolumeViews): void {
  const types = svc.types;
  route(app, {
    method: 'GET',
    url: '/types',
    policy: 'volume:reader',
    handler: async ({ auth, query }) => {
      const raw = typeof query.is_public === 'string' ? query.is_public : undefined;
      const isPublic = raw === undefined ? undefined : raw.toLowerCase() === 'none' ? null : boolOf(raw, 'is_public');
      const list = await types.list(auth, isPublic === undefined ? {} : { isPublic });
      return { volume_types: list.map((t) => views.volumeType(t, isAdmin(auth))) };
    },
  });
  route(app, {
    method: 'GET',
    url: '/types/default',
    policy: 'volume:reader',
    handler: async ({ auth }) => ({ volume_type: views.volumeType(await types.defaultType(), isAdmin(auth)) }),
  });
  route(app, {
    method: 'GET',
    url: '/types/:id',
    policy: 'volume:reader',
    handler: async ({ auth, params }) => ({
      volume_type: views.volumeType(await types.get(auth, params.id!), isAdmin(auth)),
    }),
  });
  route<Static<typeof TypeCreate>>(app, {
    method: 'POST',
    url: '/types',
    policy: 'volume:admin',
    body: TypeCreate,
    handler: async ({ body }) => {
      const b = body.volume_type;
      const pub = b['os-volume-type-access:is_public'] ?? b.is_public;
      const t = await types.create({
        name: b.name.trim(),
        description: b.description ?? null,
        isPublic: pub === undefined ? true : boolOf(pub, 'is_public'),
        extraSpecs: b.extra_specs ?? {},
      });
      return { volume_type: views.volumeType(t, true, false) };
    },
  });
  route<Static<typeof TypeUpdate>>(app, {
    method: 'PUT',
    url: '/types/:id',
    policy: 'volume:admin',
    body: TypeUpdate,
    handler: async ({ params, body }) => {
      const b = body.volume_type;
      if (b.name === undefined && b.description === undefined && b.is_public === undefined) {
        throw badRequest(
          'Invalid input received: Specify volume type name, description, is_public or a combination thereof.',
        );
      }
      const t = await svc.types.update(params.id!, {
        ...(b.name !== undefined && b.name !== null ? { name: b.name.trim() } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.is_public !== undefined ? { isPublic: boolOf(b.is_public, 'is_public') } : {}),
      });
      const { 'os-volume-type-access:is_public': _drop, ...view } = views.volumeType(t, true, false);
      return { volume_type: view };
    },
  });
  route(app, {
    method: 'DELETE',
    url: '/types/:id',
    policy: 'volume:admin',
    status: 202,
    handler: async ({ params }) => {
      await types.delete(params.id!);
    },
  });
  // extra specs (reading them is for admins, as Cinder's access_types_extra_specs default)
  route(app, {
    method: 'GET',
    url: '/types/:id/extra_specs',
    policy: 'volume:admin',
    handler: async ({ auth, params }) => ({ extra_specs: (await types.get(auth, params.id!)).extraSpecs }),
  });
  route<Static<typeof ExtraSpecsBody>>(app, {
    method: 'POST',
    url: '/types/:id/extra_specs',
    policy: 'volume:admin',
    body: ExtraSpecsBody,
    // Cinder answers the specs it was given, not the merged set.
    handler: async ({ params, body }) => {
      await types.setExtraSpecs(params.id!, body.extra_specs);
      return { extra_specs: body.extra_specs };
    },
  });
  route(app, {
    method: 'GET',
    url: '/types/:id/extra_specs/:key',
    policy: 'volume:admin',
    handler: async ({ auth, params }) => {
      const s = (await types.get(auth, params.id!)).extraSpecs;
      if (!(params.key! in s)) throw notFound(`Volume Type ${params.id} has no extra specs with key ${params.key}.`);
      return { [params.key!]: s[params.key!] };
    },
  });
  route<Record<string, string>>(app, {
    method: 'PUT',
    url: '/types/:id/extra_specs/:key',
    policy: 'volume:admin',
    body: {
      type: 'object',
      additionalProperties: { type: 'string', maxLength: 255 },
      minProperties: 1,
      maxProperties: 1,
    } as never,
    handler: async ({ params, body }) => {
      if (!(params.key! in body)) throw badRequest('Request body and URI mismatch');
      await types.setExtraSpecs(params.id!, body);
      return body;
    },
  });
  route(app, {
    method: 'DELETE',
    url: '/types/:id/extra_specs/:key',
    policy: 'volume:admin',
    status: 202,
    handler: async ({ params }) => {
      await types.deleteExtraSpec(params.id!, params.key!);
    },
  });
  // access
  route(app, {
    method: 'GET',
    url: '/types/:id/os-volume-type-access',
    policy: 'volume:admin',
    handler: async ({ params }) => ({
      volume_type_access: (await types.listAccess(params.id!)).map((x) => ({
        volume_type_id: x.volumeTypeId,
        project_id: x.projectId,
      })),
    }),
  });
  route<Record<string, unknown>>(app, {
    method: 'POST',
    url: '/types/:id/action',
    policy: 'volume:admin',
    body: TypeActionBody,
    handler: async ({ auth, params, body }) => {
      if (!allowed(auth, 'volume:admin')) throw forbidden();
      const [name, value] = Object.entries(body)[0]!;
      const project = (value as { project?: unknown } | null)?.project;
      if (typeof project !== 'string' || !project) throw badRequest(`Invalid input received: ${name} needs a project.`);
      if (name === 'addProjectAccess') await types.addAccess(params.id!, project);
      else if (name === 'removeProjectAccess') await types.removeAccess(params.id!, project);
      else throw badRequest(`There is no such action: ${name}`);
      return accepted();
    },
  });
}
