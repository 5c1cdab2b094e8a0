// os-volumes and os-snapshots: Nova's volume proxy APIs (deprecated, microversions up to 2.35, 404 after), over
// the block storage service. Index and detail show the same view, as in Nova; offset/limit page as Nova's limited().
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { VolumeProxy } from '../../services/compute/volume-proxy.js';
import { ctxOf } from '../http/service-api.js';
import { op } from '../http/route-policy.js';
import { notFound } from '../../errors.js';
import { pagedQuery } from '../http/query-schemas.js';
import { qInt } from './body.js';
import { BoolLike, toBool } from './schemas/common.js';
import { proxyOnly } from './proxy-routes.js';

const VolumeCreateBody = Type.Object(
  {
    volume: Type.Object(
      {
        volume_type: Type.Optional(Type.String()),
        metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
        snapshot_id: Type.Optional(Type.String()),
        // Nova takes an integer or a string of digits; zero is refused here rather than by block storage.
        size: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^0*[1-9][0-9]*$' })]),
        availability_zone: Type.Optional(Type.String()),
        display_name: Type.Optional(Type.String()),
        display_description: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const SnapshotCreateBody = Type.Object(
  {
    snapshot: Type.Object(
      {
        volume_id: Type.String(),
        // Nova's parameter_types.boolean: true/false or their string spellings; 0 and 1 as Python compares them.
        force: Type.Optional(Type.Union([BoolLike, Type.Integer({ minimum: 0, maximum: 1 })])),
        display_name: Type.Optional(Type.String()),
        display_description: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export function volumeProxyRoutes(app: FastifyInstance, proxy: VolumeProxy): void {
  const auth = (req: FastifyRequest) => {
    proxyOnly(req);
    return ctxOf(req).auth;
  };
  const id = (req: FastifyRequest) => (req.params as { id: string }).id;
  // `GET /os-volumes/` is a show of an empty id to Nova (404), not the list the router would take it for.
  const listing = (req: FastifyRequest) => {
    if (req.url.split('?')[0]!.endsWith('/')) throw notFound('The resource could not be found.');
    return auth(req);
  };
  const paging = (req: FastifyRequest) => {
    const q = req.query as Record<string, unknown>;
    return { limit: qInt(q, 'limit'), offset: qInt(q, 'offset') };
  };

  app.get('/os-volumes', op('compute:os-volumes:list', { schema: { querystring: pagedQuery() } }), async (req) => ({
    volumes: await proxy.listVolumes(listing(req), paging(req)),
  }));
  app.get(
    '/os-volumes/detail',
    op('compute:os-volumes:detail', { schema: { querystring: pagedQuery() } }),
    async (req) => ({ volumes: await proxy.listVolumes(auth(req), paging(req)) }),
  );
  app.get('/os-volumes/:id', op('compute:os-volumes:show'), async (req) => ({
    volume: await proxy.getVolume(auth(req), id(req)),
  }));
  app.post('/os-volumes', op('compute:os-volumes:create', { schema: { body: VolumeCreateBody } }), async (req) => {
    const a = auth(req);
    const v = (req.body as Static<typeof VolumeCreateBody>).volume;
    return {
      volume: await proxy.createVolume(a, {
        size: Number(v.size),
        displayName: v.display_name,
        displayDescription: v.display_description,
        volumeType: v.volume_type,
        snapshotId: v.snapshot_id,
        availabilityZone: v.availability_zone,
        metadata: v.metadata,
      }),
    };
  });
  app.delete('/os-volumes/:id', op('compute:os-volumes:delete'), async (req, reply) => {
    await proxy.deleteVolume(auth(req), id(req));
    return reply.code(202).send();
  });

  app.get(
    '/os-snapshots',
    op('compute:os-volumes:snapshots:list', { schema: { querystring: pagedQuery() } }),
    async (req) => ({ snapshots: await proxy.listSnapshots(listing(req), paging(req)) }),
  );
  app.get(
    '/os-snapshots/detail',
    op('compute:os-volumes:snapshots:detail', { schema: { querystring: pagedQuery() } }),
    async (req) => ({ snapshots: await proxy.listSnapshots(auth(req), paging(req)) }),
  );
  app.get('/os-snapshots/:id', op('compute:os-volumes:snapshots:show'), async (req) => ({
    snapshot: await proxy.getSnapshot(auth(req), id(req)),
  }));
  app.post(
    '/os-snapshots',
    op('compute:os-volumes:snapshots:create', { schema: { body: SnapshotCreateBody } }),
    async (req) => {
      const a = auth(req);
      const s = (req.body as Static<typeof SnapshotCreateBody>).snapshot;
      const force = typeof s.force === 'number' ? s.force === 1 : (toBool(s.force) ?? false);
      return {
        snapshot: await proxy.createSnapshot(a, {
          volumeId: s.volume_id,
          force,
          displayName: s.display_name,
          displayDescription: s.display_description,
        }),
      };
    },
  );
  app.delete('/os-snapshots/:id', op('compute:os-volumes:snapshots:delete'), async (req, reply) => {
    await proxy.deleteSnapshot(auth(req), id(req));
    return reply.code(202).send();
  });
}
