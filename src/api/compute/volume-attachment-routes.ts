// os-volume_attachments: the volumes attached to a server (attach hot-plugs, detach waits for the guest).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ComputeService, ComputeVolumeAttachment } from '../../services/compute/index.js';
import type { VolumeProxy } from '../../services/compute/volume-proxy.js';
import { enforce } from '../../services/policy.js';
import { badRequest } from '../../errors.js';
import { ctxOf } from '../http/service-api.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';
import { mv, type ApiVersion } from './microversion.js';

const UUID = '^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$';

const AttachBody = Type.Object(
  {
    volumeAttachment: Type.Object(
      {
        volumeId: Type.String({ pattern: UUID }),
        device: Type.Optional(
          Type.Union([
            Type.String({ maxLength: 255, pattern: '^(/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$' }),
            Type.Null(),
          ]),
        ),
        tag: Type.Optional(Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' })),
        delete_on_termination: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    volumeAttachment: Type.Object(
      {
        volumeId: Type.String({ pattern: UUID }),
        id: Type.Optional(Type.String()),
        serverId: Type.Optional(Type.String()),
        device: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        tag: Type.Optional(Type.String()),
        delete_on_termination: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** Nova's volumeAttachment view by microversion (tag 2.70, delete_on_termination 2.79, attachment_id/bdm_uuid 2.89). */
export function attachmentView(a: ComputeVolumeAttachment, serverId: string, v: ApiVersion) {
  return {
    ...(v.atLeast('2.89') ? {} : { id: a.volumeId }),
    serverId,
    volumeId: a.volumeId,
    device: a.device,
    ...(v.atLeast('2.70') ? { tag: a.tag } : {}),
    ...(v.atLeast('2.79') ? { delete_on_termination: a.deleteOnTermination } : {}),
    ...(v.atLeast('2.89') ? { attachment_id: a.attachmentId, bdm_uuid: a.attachmentId } : {}),
  };
}

export function volumeAttachmentRoutes(app: FastifyInstance, compute: ComputeService, volumes: VolumeProxy): void {
  const sv = compute.volumes;
  const params = (req: FastifyRequest) => req.params as { id: string; vid: string };
  app.get(
    '/servers/:id/os-volume_attachments',
    op('compute:os-volumes-attachments:index', { schema: { querystring: pagedQuery() } }),
    async (req) => {
      const { id } = params(req);
      const q = req.query as { limit?: string; offset?: string };
      let list = await sv.list(ctxOf(req).auth, id);
      const offset = Number(q.offset ?? 0) || 0;
      list = list.slice(offset, q.limit !== undefined ? offset + (Number(q.limit) || 0) : undefined);
      return { volumeAttachments: list.map((a) => attachmentView(a, id, mv(req))) };
    },
  );
  app.get('/servers/:id/os-volume_attachments/:vid', op('compute:os-volumes-attachments:show'), async (req) => {
    const { id, vid } = params(req);
    return { volumeAttachment: attachmentView(await sv.get(ctxOf(req).auth, id, vid), id, mv(req)) };
  });
  app.post(
    '/servers/:id/os-volume_attachments',
    op('compute:os-volumes-attachments:create', { schema: { body: AttachBody } }),
    async (req) => {
      const { id } = params(req);
      const b = (req.body as Static<typeof AttachBody>).volumeAttachment;
      const v = mv(req);
      if (b.tag !== undefined && !v.atLeast('2.49'))
        throw badRequest(
          "Invalid input for field/attribute volumeAttachment. Additional properties are not allowed ('tag' was " +
            'unexpected)',
        );
      if (b.delete_on_termination !== undefined && !v.atLeast('2.79'))
        throw badRequest(
          'Invalid input for field/attribute volumeAttachment. Additional properties are not allowed ' +
            "('delete_on_termination' was unexpected)",
        );
      const a = await sv.attach(ctxOf(req).auth, req.id, id, {
        volumeId: b.volumeId,
        tag: b.tag ?? null,
        deleteOnTermination: b.delete_on_termination ?? false,
      });
      return { volumeAttachment: attachmentView(a, id, v) };
    },
  );
  app.put(
    '/servers/:id/os-volume_attachments/:vid',
    op('compute:os-volumes-attachments:update', { schema: { body: UpdateBody } }),
    async (req, reply) => {
      const { id, vid } = params(req);
      const b = (req.body as Static<typeof UpdateBody>).volumeAttachment;
      const auth = ctxOf(req).auth;
      if (b.volumeId !== vid) {
        // A swap, as Nova orders its checks: the attachment (404), the swap rule (admin), then the new volume, a
        // request parameter, so a missing one is 400. Gureum then refuses the swap itself (409, not offered).
        await sv.get(auth, id, vid);
        enforce(auth, 'compute:os-volumes-attachments:swap', { project_id: auth.projectId ?? null });
        if (!(await volumes.volumeVisible(auth, b.volumeId)))
          throw badRequest(`Volume ${b.volumeId} could not be found.`);
      }
      await sv.update(auth, id, vid, b.volumeId);
      return reply.code(202).send();
    },
  );
  app.delete(
    '/servers/:id/os-volume_attachments/:vid',
    op('compute:os-volumes-attachments:delete'),
    async (req, reply) => {
      const { id, vid } = params(req);
      await sv.detach(ctxOf(req).auth, req.id, id, vid);
      return reply.code(202).send();
    },
  );
}
