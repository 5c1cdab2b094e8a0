// Cinder features Gureum's block storage does not offer yet (generic volume groups, group snapshots and types,
// encryption types): their lists answer empty, as Cinder does where none exist, so
// clients that list them on every page (Horizon's volume and volume-type panels) work. Creating any of them stays
// unsupported: those routes do not exist.
import type { FastifyInstance } from 'fastify';
import type { VolumeService } from '../../services/volume/index.js';
import { route } from './route.js';

export function emptyFeatureRoutes(app: FastifyInstance, svc: VolumeService): void {
  const empty = (url: string, key: string) =>
    route(app, { method: 'GET', url, policy: 'volume:reader', handler: async () => ({ [key]: [] }) });
  empty('/groups', 'groups');
  empty('/groups/detail', 'groups');
  empty('/group_snapshots', 'group_snapshots');
  empty('/group_snapshots/detail', 'group_snapshots');
  empty('/group_types', 'group_types');
  // A type without encryption answers an empty object (404 when the type itself does not exist).
  route(app, {
    method: 'GET',
    url: '/types/:id/encryption',
    policy: 'volume:reader',
    handler: async ({ auth, params }) => {
      await svc.types.get(auth, params.id!);
      return {};
    },
  });
}
