// /qos-specs: Cinder's QoS specs (admin only, as Cinder's volume_extension:qos_specs_manage:* defaults), their keys
// and their association with volume types. Associate and disassociate are GETs with a query, as in Cinder.
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { QosSpecs, VolumeService } from '../../services/volume/index.js';
import { accepted, route } from './route.js';
import type { VolumeViews } from './views.js';
import { boolOf, QosCreate, QosDeleteKeys, QosUpdate } from './schemas.js';

const summary = (q: QosSpecs) => ({ specs: q.specs, consumer: q.consumer, name: q.name, id: q.id });

export function qosRoutes(app: FastifyInstance, svc: VolumeService, views: VolumeViews): void {
  const qos = svc.qos;
  const detail = (project: string, q: QosSpecs) => ({
    qos_specs: summary(q),
    links: views.links(project, 'qos-specs', q.id),
  });
  route(app, {
    method: 'GET',
    url: '/qos-specs',
    policy: 'volume:admin',
    handler: async () => ({ qos_specs: (await qos.list()).map(summary) }),
  });
  route<Static<typeof QosCreate>>(app, {
    method: 'POST',
    url: '/qos-specs',
    policy: 'volume:admin',
    body: QosCreate,
    handler: async ({ project, body }) => {
      const { name, ...specs } = body.qos_specs as Record<string, string>;
      return detail(project, await qos.create(name!, specs));
    },
  });
  route(app, {
    method: 'GET',
    url: '/qos-specs/:id',
    policy: 'volume:admin',
    handler: async ({ project, params }) => detail(project, await qos.get(params.id!)),
  });
  route<Static<typeof QosUpdate>>(app, {
    method: 'PUT',
    url: '/qos-specs/:id',
    policy: 'volume:admin',
    body: QosUpdate,
    handler: async ({ params, body }) => ({ qos_specs: await qos.setKeys(params.id!, body.qos_specs) }),
  });
  route(app, {
    method: 'DELETE',
    url: '/qos-specs/:id',
    policy: 'volume:admin',
    status: 202,
    handler: async ({ params, query }) => {
      await qos.delete(params.id!, query.force === undefined ? false : boolOf(query.force, 'force'));
    },
  });
  route<Static<typeof QosDeleteKeys>>(app, {
    method: 'PUT',
    url: '/qos-specs/:id/delete_keys',
    policy: 'volume:admin',
    body: QosDeleteKeys,
    status: 202,
    handler: async ({ params, body }) => {
      await qos.deleteKeys(params.id!, body.keys);
    },
  });
  route(app, {
    method: 'GET',
    url: '/qos-specs/:id/associations',
    policy: 'volume:admin',
    handler: async ({ params }) => ({
      qos_associations: (await qos.associations(params.id!)).map((t) => ({
        association_type: 'volume_type',
        name: t.name,
        id: t.id,
      })),
    }),
  });
  const typeOf = (query: Record<string, unknown>) =>
    typeof query.vol_type_id === 'string' && query.vol_type_id ? query.vol_type_id : undefined;
  route(app, {
    method: 'GET',
    url: '/qos-specs/:id/associate',
    policy: 'volume:admin',
    handler: async ({ params, query }) => {
      await qos.associate(params.id!, typeOf(query));
      return accepted();
    },
  });
  route(app, {
    method: 'GET',
    url: '/qos-specs/:id/disassociate',
    policy: 'volume:admin',
    handler: async ({ params, query }) => {
      await qos.disassociate(params.id!, typeOf(query));
      return accepted();
    },
  });
  route(app, {
    method: 'GET',
    url: '/qos-specs/:id/disassociate_all',
    policy: 'volume:admin',
    handler: async ({ params }) => {
      await qos.disassociateAll(params.id!);
      return accepted();
    },
  });
}
