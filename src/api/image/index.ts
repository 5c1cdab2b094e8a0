import type { ServiceApi } from '../http/service-api.js';
import { parseJsonBody } from '../http/json-body.js';
import { notFound } from '../../errors.js';
import { imageRoutes } from './image-routes.js';
import { dataRoutes } from './data-routes.js';
import { metadefRoutes } from './metadef-routes.js';
import { PATCH_V20, PATCH_V21 } from './patch.js';
import { imageSchema, imagesSchema, memberSchema, membersSchema, metadefSchema } from './schemas.js';
import { op } from '../http/route-policy.js';

// Without an image cache API (2.14, 2.16) the versions Glance lists with multiple stores enabled.
const VERSIONS: [string, string][] = [
  ['2.17', 'CURRENT'],
  ['2.15', 'SUPPORTED'],
  ['2.13', 'SUPPORTED'],
  ['2.12', 'SUPPORTED'],
  ['2.11', 'SUPPORTED'],
  ['2.10', 'SUPPORTED'],
  ['2.9', 'SUPPORTED'],
  ['2.8', 'SUPPORTED'],
  ['2.7', 'SUPPORTED'],
  ['2.6', 'SUPPORTED'],
  ['2.5', 'SUPPORTED'],
  ['2.4', 'SUPPORTED'],
  ['2.3', 'SUPPORTED'],
  ['2.2', 'SUPPORTED'],
  ['2.1', 'SUPPORTED'],
  ['2.0', 'SUPPORTED'],
];

/** Glance v2 at /image. */
export const imageApi: ServiceApi = {
  type: 'image',
  name: 'glance',
  prefix: '/image',
  endpointPath: '/image',
  errorFormat: 'glance',
  routes(app, deps) {
    const href = `${deps.config.server.publicUrl}/image/v2/`;
    const versions = () => ({
      versions: VERSIONS.map(([id, status]) => ({ id: `v${id}`, status, links: [{ rel: 'self', href }] })),
    });
    app.get('/', { config: { public: true } }, async (_req, reply) => {
      reply.code(300);
      return versions();
    });
    app.get('/versions', { config: { public: true } }, async () => versions());

    // JSON-patch bodies (PATCH /v2/images/{id}) are JSON under their own media types.
    app.addContentTypeParser([PATCH_V21, PATCH_V20], { parseAs: 'string' }, (_req, text, done) => {
      try {
        done(null, parseJsonBody(text as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    });

    app.get('/v2/schemas/image', op('image:get_schema'), async () => imageSchema());
    app.get('/v2/schemas/images', op('image:get_schema'), async () => imagesSchema());
    app.get('/v2/schemas/member', op('image:get_schema'), async () => memberSchema());
    app.get('/v2/schemas/members', op('image:get_schema'), async () => membersSchema());
    app.get('/v2/schemas/metadefs/:name', op('image:get_schema'), async (req) => {
      const s = metadefSchema((req.params as { name: string }).name);
      if (!s) throw notFound('The resource could not be found.');
      return s;
    });

    imageRoutes(app, deps);
    dataRoutes(app, deps);
    metadefRoutes(app, deps);
  },
};
