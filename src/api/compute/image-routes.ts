import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import type { Image, ImageService, PatchOp, RawQuery } from '../../services/image/index.js';
import type { AuthContext } from '../../services/auth-context.js';
import { CloudError, badRequest, forbidden, isCloudError, notFound } from '../../errors.js';
import { novaTime } from '../../services/compute/common.js';
import { ctxOf } from '../http/service-api.js';
import { qInt, qStr, type Json } from './body.js';
import type { Static } from '@sinclair/typebox';
import { MetadataBody, MetaItem } from './schemas/common.js';
import { mv } from './microversion.js';
import { proxyOnly } from './proxy-routes.js';
import type { ComputeViews } from './views.js';
import { op } from '../http/route-policy.js';

/** Image metadata stays in the proxy up to 2.38 (the image list/show/delete stop at 2.35). */
const MAX_IMAGE_META_VERSION = '2.38';

const STATUS: Record<string, string> = {
  active: 'ACTIVE',
  queued: 'SAVING',
  saving: 'SAVING',
  deleted: 'DELETED',
  pending_delete: 'DELETED',
  killed: 'ERROR',
};
const PROGRESS: Record<string, number> = { queued: 25, saving: 50, active: 100 };
const FILTERS: Record<string, string> = {
  name: 'name',
  status: 'status',
  'changes-since': 'changes-since',
  server: 'instance_uuid',
  type: 'image_type',
  minRam: 'min_ram',
  minDisk: 'min_disk',
};

/** Nova's /images proxy (2.1-2.35) and image metadata (2.1-2.38), over the image service. */
export function imageProxyRoutes(
  app: FastifyInstance,
  compute: ComputeService,
  images: ImageService,
  v: ComputeViews,
  imageUrl: string,
): void {
  const auth = (req: FastifyRequest) => ctxOf(req).auth;
  const id = (req: FastifyRequest) => (req.params as { id: string }).id;
  const metaOnly = (req: FastifyRequest) => {
    if (!mv(req).atMost(MAX_IMAGE_META_VERSION)) throw notFound('The resource could not be found.');
  };
  const links = (imageId: string) => [
    ...v.links('images', imageId),
    { rel: 'alternate', type: 'application/vnd.openstack.image', href: `${imageUrl}/images/${imageId}` },
  ];
  const brief = (i: Image) => ({ id: i.id, name: i.name, links: links(i.id) });
  const detail = (i: Image) => {
    const out: Json = {
      id: i.id,
      name: i.name,
      minRam: i.min_ram ?? 0,
      minDisk: i.min_disk ?? 0,
      metadata: i.properties,
      created: novaTime(i.created_at),
      updated: novaTime(i.updated_at),
      status: STATUS[i.status] ?? 'UNKNOWN',
      progress: PROGRESS[i.status] ?? 0,
      'OS-EXT-IMG-SIZE:size': i.size,
      links: links(i.id),
    };
    const server = i.properties.instance_uuid;
    if (server !== undefined) out.server = { id: server, links: v.links('servers', server) };
    const adc = i.properties.auto_disk_config;
    if (adc !== undefined)
      out['OS-DCF:diskConfig'] = ['true', '1', 'yes', 'on', 't', 'y'].includes(adc.toLowerCase()) ? 'AUTO' : 'MANUAL';
    return out;
  };
  /** The image or Nova's 404 ("Image not found."). */
  const load = async (a: AuthContext, imageId: string): Promise<Image> => {
    try {
      return await images.getImage(a, imageId);
    } catch (e) {
      if (isCloudError(e) && e.status === 404) throw notFound('Image not found.', { code: 'ImageNotFound' });
      throw e;
    }
  };

  const list = async (req: FastifyRequest, withDetail: boolean) => {
    proxyOnly(req);
    const a = auth(req);
    const q = req.query as Json;
    const query: RawQuery = {};
    for (const [param, key] of Object.entries(FILTERS)) {
      let val = qStr(q, param);
      if (val === undefined) continue;
      if (param === 'server') val = val.replace(/\/+$/, '').split('/').pop() ?? val;
      if (param === 'status') val = val.toLowerCase() === 'saving' ? 'in:queued,saving' : val.toLowerCase();
      if (param === 'changes-since') {
        if (Number.isNaN(Date.parse(val)))
          throw badRequest(
            `Invalid input for query parameters changes-since. Value: ${val}. '${val}' is not a 'date-time'`,
          );
        query.updated_at = `gte:${val}`;
        continue;
      }
      if (param === 'minRam' || param === 'minDisk') {
        if (!/^\d+$/.test(val)) throw badRequest(`Invalid input for query parameters ${param}. Value: ${val}.`);
        continue; // a minimum, applied below (the image service only matches equality)
      }
      query[key] = val;
    }
    for (const [k, val] of Object.entries(q))
      if (k.startsWith('property-') && typeof val === 'string') query[k.slice('property-'.length)] = val;
    const limit = qInt(q, 'limit');
    if (limit !== undefined) query.limit = String(limit);
    const marker = qStr(q, 'marker');
    if (marker !== undefined) query.marker = marker;
    let got: { images: Image[]; next?: string };
    try {
      got = await images.list(a, query);
    } catch (e) {
      if (isCloudError(e) && e.status === 400) throw badRequest(e.message);
      throw e;
    }
    const minRam = Number(qStr(q, 'minRam') ?? 0);
    const minDisk = Number(qStr(q, 'minDisk') ?? 0);
    const rows = got.images.filter((i) => (i.min_ram ?? 0) >= minRam && (i.min_disk ?? 0) >= minDisk);
    const out: Json = { images: rows.map(withDetail ? detail : brief) };
    if (got.next && limit !== undefined) {
      const params = new URLSearchParams();
      for (const [k, val] of Object.entries(q)) if (k !== 'marker') params.set(k, String(val));
      params.set('marker', got.next);
      out.images_links = [{ rel: 'next', href: `${v.base}/images${withDetail ? '/detail' : ''}?${params.toString()}` }];
    }
    return out;
  };
  app.get('/images', op('compute:images:index'), async (req) => list(req, false));
  app.get('/images/detail', op('compute:images:index'), async (req) => list(req, true));
  app.get('/images/:id', op('compute:images:show'), async (req) => {
    proxyOnly(req);
    return { image: detail(await load(auth(req), id(req))) };
  });
  app.delete('/images/:id', op('compute:images:delete'), async (req, reply) => {
    proxyOnly(req);
    const a = auth(req);
    await load(a, id(req));
    try {
      await images.deleteImage(a, id(req));
    } catch (e) {
      if (isCloudError(e) && e.status === 404) throw notFound('Image not found.', { code: 'ImageNotFound' });
      if (isCloudError(e) && e.status === 403) throw forbidden('You are not allowed to delete the image.');
      throw e;
    }
    return reply.code(204).send();
  });

  // metadata: the image's custom properties
  const patch = async (req: FastifyRequest, imageId: string, ops: PatchOp[]): Promise<Image> => {
    const a = auth(req);
    try {
      return ops.length ? await images.images.update(a, imageId, ops) : await load(a, imageId);
    } catch (e) {
      if (isCloudError(e) && e.status === 404) throw notFound('Image not found.', { code: 'ImageNotFound' });
      if (isCloudError(e) && e.status === 403) throw forbidden(e.message);
      if (isCloudError(e) && (e.status === 400 || e.status === 409 || e.status === 413)) throw badRequest(e.message);
      throw e;
    }
  };
  const checkQuota = async (a: AuthContext, md: Record<string, string>) => {
    const limit = (await compute.quotas.limits(a.projectId)).metadata_items ?? 128;
    if (limit >= 0 && Object.keys(md).length > limit)
      throw new CloudError(
        'OverQuota',
        `Quota exceeded for metadata_items: Requested 1, but already used ${Object.keys(md).length - 1} of ${limit} ` +
          `metadata_items`,
        { status: 403 },
      );
  };
  const write = async (
    req: FastifyRequest,
    imageId: string,
    md: Record<string, string>,
    replace: boolean,
  ): Promise<Record<string, string>> => {
    const a = auth(req);
    const img = await load(a, imageId);
    const next = replace ? md : { ...img.properties, ...md };
    await checkQuota(a, next);
    const ops: PatchOp[] = [];
    if (replace) for (const k of Object.keys(img.properties)) if (!(k in md)) ops.push({ op: 'remove', path: [k] });
    for (const [k, val] of Object.entries(md))
      if (img.properties[k] !== val) ops.push({ op: k in img.properties ? 'replace' : 'add', path: [k], value: val });
    return (await patch(req, imageId, ops)).properties;
  };
  app.get('/images/:id/metadata', op('compute:image-metadata:index'), async (req) => {
    metaOnly(req);
    return { metadata: (await load(auth(req), id(req))).properties };
  });
  app.post(
    '/images/:id/metadata',
    op('compute:image-metadata:create', { schema: { body: MetadataBody } }),
    async (req) => {
      metaOnly(req);
      const md = (req.body as Static<typeof MetadataBody>).metadata;
      return { metadata: await write(req, id(req), md, false) };
    },
  );
  app.put(
    '/images/:id/metadata',
    op('compute:image-metadata:update_all', { schema: { body: MetadataBody } }),
    async (req) => {
      metaOnly(req);
      const md = (req.body as Static<typeof MetadataBody>).metadata;
      return { metadata: await write(req, id(req), md, true) };
    },
  );
  app.get('/images/:id/metadata/:key', op('compute:image-metadata:show'), async (req) => {
    metaOnly(req);
    const key = (req.params as { key: string }).key;
    const props = (await load(auth(req), id(req))).properties;
    if (!(key in props)) throw notFound('Invalid metadata key', { code: 'MetadataNotFound' });
    return { meta: { [key]: props[key] } };
  });
  app.put(
    '/images/:id/metadata/:key',
    op('compute:image-metadata:update', { schema: { body: MetaItem } }),
    async (req) => {
      metaOnly(req);
      const key = (req.params as { key: string }).key;
      const meta = (req.body as Static<typeof MetaItem>).meta;
      if (!(key in meta)) throw badRequest('Request body and URI mismatch');
      await write(req, id(req), meta, false);
      return { meta };
    },
  );
  app.delete('/images/:id/metadata/:key', op('compute:image-metadata:delete'), async (req, reply) => {
    metaOnly(req);
    const key = (req.params as { key: string }).key;
    const img = await load(auth(req), id(req));
    if (!(key in img.properties)) throw notFound('Invalid metadata key', { code: 'MetadataNotFound' });
    await patch(req, img.id, [{ op: 'remove', path: [key] }]);
    return reply.code(204).send();
  });
}
