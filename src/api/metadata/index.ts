// The metadata routes on the controller's port, below /metadata-internal: reached only through the per-instance
// guest proxy, which signs the instance id (X-Instance-ID + X-Instance-ID-Signature). Not in the service catalog.
// Answers are plain text (listings, EC2 leaves) or JSON files, as Nova's metadata API serves them.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceApi } from '../http/service-api.js';
import type { AppDeps } from '../../app-deps.js';
import { METADATA_PREFIX } from '../../services/metadata/index.js';

const TEXT = 'text/plain; charset=UTF-8';

function plain(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type(TEXT).send(text);
}

/** The signed instance id of the request, or null (and a 403 sent) when it is missing or wrong. */
function instanceOf(req: FastifyRequest, deps: AppDeps): string | null {
  const id = req.headers['x-instance-id'];
  const sig = req.headers['x-instance-id-signature'];
  if (typeof id !== 'string' || typeof sig !== 'string' || !id || !deps.metadata.verify(id, sig)) {
    req.log.warn(
      { instance: typeof id === 'string' ? id.slice(0, 64) : undefined },
      'metadata request with a missing or invalid signature',
    );
    return null;
  }
  return id;
}

async function serve(req: FastifyRequest, reply: FastifyReply, deps: AppDeps): Promise<FastifyReply> {
  const id = instanceOf(req, deps);
  if (!id) return plain(reply, 403, 'Forbidden: invalid instance signature\n');
  const path = (req.params as Record<string, string | undefined>)['*'] ?? '';
  if (req.method === 'POST') {
    if (!/^openstack\/[^/]+\/password\/?$/.test(path)) return plain(reply, 405, 'Method Not Allowed\n');
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : typeof req.body === 'string' ? req.body : '';
    switch (await deps.metadata.setPassword(id, body)) {
      case 'stored':
        return plain(reply, 200, '');
      case 'conflict':
        return plain(reply, 409, 'Conflict: the password is already set\n');
      case 'too-large':
        return plain(reply, 400, 'Bad Request: the password is too long\n');
      case 'not-found':
        return plain(reply, 404, 'Not Found\n');
    }
  }
  const found = await deps.metadata.resolve(id, path);
  if (!found) return plain(reply, 404, 'Not Found\n');
  if (found.kind === 'dir') return plain(reply, 200, found.listing.join('\n'));
  return reply
    .code(200)
    .type(found.name.endsWith('.json') ? 'application/json' : TEXT)
    .send(found.body);
}

/** Nova's metadata API for guests, behind the signing proxy. */
export const metadataApi: ServiceApi = {
  type: 'metadata',
  name: 'metadata',
  prefix: METADATA_PREFIX,
  endpointPath: METADATA_PREFIX,
  errorFormat: 'nova',
  catalog: false,
  routes(app, deps) {
    // Guests post passwords as whatever content type they like: take every body as bytes (64 KiB at most).
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    const opts = { config: { public: true }, bodyLimit: 64 * 1024 };
    app.get('/', opts, (req, reply) => serve(req, reply, deps));
    app.get('/*', opts, (req, reply) => serve(req, reply, deps));
    app.post('/*', { ...opts, config: { public: true, body: 'raw' } }, (req, reply) => serve(req, reply, deps));
  },
};
