import type { FastifyInstance } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import { op } from '../http/route-policy.js';
import { ctxOf } from '../http/service-api.js';

/**
 * servers/{id}/os-volume_attachments. Until block storage lands a server has no volumes, and Nova answers an empty
 * list (200) for such a server: `openstack server volume list` and Horizon's instance page read it.
 */
export function volumeAttachmentRoutes(app: FastifyInstance, compute: ComputeService): void {
  app.get('/servers/:id/os-volume_attachments', op('compute:os-volumes-attachments:index'), async (req) => {
    // Reading the server applies the same visibility as GET /servers/{id} (404 for another project's server).
    await compute.servers.get(ctxOf(req).auth, (req.params as { id: string }).id);
    return { volumeAttachments: [] };
  });
}
