// Images: create, list, show, JSON-patch update, delete, tags, deactivate/reactivate, tasks, members.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { RawQuery } from '../../services/image/index.js';
import { IMPORT_METHODS, STORE_ID } from '../../services/image/index.js';
import { ctxOf } from '../http/service-api.js';
import { notFound } from '../../errors.js';
import { imageView, memberView, taskView } from './views.js';
import { checkPatchType, parsePatch } from './patch.js';
import { ImageCreateBody, ImagePatchBody, MemberCreateBody, MemberUpdateBody } from './request-schemas.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';

type P = { image_id: string };

/** The query string with repeated keys kept as arrays. */
export function rawQuery(req: FastifyRequest): RawQuery {
  const out: RawQuery = {};
  const search = new URL(req.url, 'http://x').searchParams;
  for (const [k, v] of search) {
    const cur = out[k];
    out[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return out;
}

function nextLink(req: FastifyRequest, marker: string): string {
  const search = new URL(req.url, 'http://x').searchParams;
  search.delete('marker');
  search.set('marker', marker);
  return `/v2/images?${search.toString()}`;
}

export function imageRoutes(app: FastifyInstance, deps: AppDeps): void {
  const svc = deps.image;

  app.post('/v2/images', op('image:add_image', { schema: { body: ImageCreateBody } }), async (req, reply) => {
    const a = ctxOf(req).auth;
    const img = await svc.createImage(a, req.body as ImageCreateBody);
    reply.code(201).headers({
      location: `/v2/images/${img.id}`,
      'OpenStack-image-import-methods': IMPORT_METHODS.join(','),
      'OpenStack-image-store-ids': STORE_ID,
    });
    return imageView(img);
  });

  app.get('/v2/images', op('image:get_images', { schema: { querystring: pagedQuery() } }), async (req) => {
    if (req.url.split('?')[0]!.endsWith('/')) throw notFound('The resource could not be found.');
    const a = ctxOf(req).auth;
    const res = await svc.list(a, rawQuery(req));
    return {
      images: res.images.map(imageView),
      first: '/v2/images',
      schema: '/v2/schemas/images',
      ...(res.next ? { next: nextLink(req, res.next) } : {}),
    };
  });

  app.get('/v2/images/:image_id', op('image:get_image'), async (req) =>
    imageView(await svc.getImage(ctxOf(req).auth, (req.params as P).image_id)),
  );

  // The media type is checked before the body's shape, as Glance's deserializer does (415 before 400).
  const patchType = {
    preValidation: async (req: FastifyRequest) => {
      checkPatchType(req.headers['content-type']);
    },
  };
  app.patch(
    '/v2/images/:image_id',
    op('image:modify_image', { schema: { body: ImagePatchBody }, ...patchType }),
    async (req) => {
      const ops = parsePatch(req.headers['content-type'], req.body);
      return imageView(await svc.images.update(ctxOf(req).auth, (req.params as P).image_id, ops));
    },
  );

  app.delete('/v2/images/:image_id', op('image:delete_image'), async (req, reply) => {
    await svc.deleteImage(ctxOf(req).auth, (req.params as P).image_id);
    reply.code(204).send();
  });

  app.put('/v2/images/:image_id/tags/:tag', op('image:modify_image', { body: 'none' }), async (req, reply) => {
    const { image_id, tag } = req.params as P & { tag: string };
    await svc.images.addTag(ctxOf(req).auth, image_id, tag);
    reply.code(204).send();
  });
  app.delete('/v2/images/:image_id/tags/:tag', op('image:modify_image'), async (req, reply) => {
    const { image_id, tag } = req.params as P & { tag: string };
    await svc.images.removeTag(ctxOf(req).auth, image_id, tag);
    reply.code(204).send();
  });

  app.post('/v2/images/:image_id/actions/deactivate', op('image:deactivate', { body: 'none' }), async (req, reply) => {
    await svc.data.deactivate(ctxOf(req).auth, (req.params as P).image_id);
    reply.code(204).send();
  });
  app.post('/v2/images/:image_id/actions/reactivate', op('image:reactivate', { body: 'none' }), async (req, reply) => {
    await svc.data.reactivate(ctxOf(req).auth, (req.params as P).image_id);
    reply.code(204).send();
  });

  app.get('/v2/images/:image_id/tasks', op('image:get_image_tasks'), async (req) => ({
    tasks: (await svc.imageTasks(ctxOf(req).auth, (req.params as P).image_id)).map(taskView),
  }));

  // Members.
  app.get('/v2/images/:image_id/members', op('image:get_members'), async (req) => ({
    members: (await svc.members.list(ctxOf(req).auth, (req.params as P).image_id)).map(memberView),
    schema: '/v2/schemas/members',
  }));
  app.post(
    '/v2/images/:image_id/members',
    op('image:add_member', { schema: { body: MemberCreateBody } }),
    async (req) => {
      return memberView(
        await svc.members.add(ctxOf(req).auth, (req.params as P).image_id, (req.body as MemberCreateBody).member),
      );
    },
  );
  app.get('/v2/images/:image_id/members/:member_id', op('image:get_member'), async (req) => {
    const { image_id, member_id } = req.params as P & { member_id: string };
    return memberView(await svc.members.get(ctxOf(req).auth, image_id, member_id));
  });
  app.put(
    '/v2/images/:image_id/members/:member_id',
    op('image:modify_member', { schema: { body: MemberUpdateBody } }),
    async (req) => {
      const { image_id, member_id } = req.params as P & { member_id: string };
      return memberView(
        await svc.members.setStatus(ctxOf(req).auth, image_id, member_id, (req.body as MemberUpdateBody).status),
      );
    },
  );
  app.delete('/v2/images/:image_id/members/:member_id', op('image:delete_member'), async (req, reply) => {
    const { image_id, member_id } = req.params as P & { member_id: string };
    await svc.members.remove(ctxOf(req).auth, image_id, member_id);
    reply.code(204).send();
  });
}
