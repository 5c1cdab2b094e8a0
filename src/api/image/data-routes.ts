// Image data: upload (PUT file), download (GET file, Range), stage + import, and the /v2/info documents.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { AppDeps } from '../../app-deps.js';
import type { ImportRequest } from '../../services/image/index.js';
import { IMPORT_METHODS } from '../../services/image/index.js';
import { ctxOf } from '../http/service-api.js';
import { CloudError, badRequest } from '../../errors.js';
import { op } from '../http/route-policy.js';
import { ImportBody } from './request-schemas.js';

type P = { image_id: string };

/** The announced body length, or undefined for chunked bodies; 400 when it is not a number. */
function contentLength(req: FastifyRequest): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined || req.headers['transfer-encoding']) return undefined;
  if (!/^\d{1,16}$/.test(v)) throw badRequest('Invalid Content-Length header.');
  return Number(v);
}

/** The raw body stream (the octet-stream parser leaves it unread). */
function stream(req: FastifyRequest): Readable {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct !== 'application/octet-stream') {
    throw new CloudError(
      'UnsupportedMediaType',
      `Unsupported Content-Type '${ct.slice(0, 80)}'; image data must be sent as application/octet-stream.`,
    );
  }
  return (req.body as Readable | undefined) ?? req.raw;
}

/** Parses `Range: bytes=a-b` (one range); 416 for anything else. */
function parseRange(h: string | undefined): { start?: number; end?: number; suffix?: number } | undefined {
  if (h === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  const bad = () => new CloudError('RangeNotSatisfiable', `Unsupported or malformed Range header '${h.slice(0, 64)}'.`);
  if (!m || (m[1] === '' && m[2] === '')) throw bad();
  if (m[1] === '') return { suffix: Number(m[2]) };
  const start = Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  if (end !== undefined && end < start) throw bad();
  return { start, ...(end !== undefined ? { end } : {}) };
}

/** On an error before the body was read, the connection cannot carry another request. */
async function consuming(reply: FastifyReply, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    reply.header('connection', 'close');
    throw e;
  }
}

const LARGE = Number.MAX_SAFE_INTEGER;

export function dataRoutes(app: FastifyInstance, deps: AppDeps): void {
  const svc = deps.image;

  // Image bodies are never buffered: the handler receives the request stream itself.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.put(
    '/v2/images/:image_id/file',
    op('image:upload_image', { bodyLimit: LARGE, body: 'raw' }),
    async (req, reply) => {
      await consuming(reply, () =>
        svc.data.upload(ctxOf(req).auth, (req.params as P).image_id, stream(req), contentLength(req)),
      );
      reply.code(204).send();
    },
  );

  app.put(
    '/v2/images/:image_id/stage',
    op('image:stage_image', { bodyLimit: LARGE, body: 'raw' }),
    async (req, reply) => {
      await consuming(reply, () =>
        svc.data.stage(ctxOf(req).auth, (req.params as P).image_id, stream(req), contentLength(req)),
      );
      reply.code(204).send();
    },
  );

  app.get('/v2/images/:image_id/file', op('image:download_image'), async (req, reply) => {
    const range = parseRange(req.headers.range);
    const dl = await svc.data.download(ctxOf(req).auth, (req.params as P).image_id, range);
    if (!dl) return reply.code(204).send();
    reply.header('content-type', 'application/octet-stream');
    if (dl.range) {
      reply.code(206).headers({
        'content-range': `bytes ${dl.range.start}-${dl.range.end}/${dl.size}`,
        'content-length': String(dl.range.end - dl.range.start + 1),
      });
    } else {
      reply.code(200).header('content-length', String(dl.size));
      if (dl.checksum) reply.header('content-md5', dl.checksum);
    }
    return reply.send(dl.stream);
  });

  app.post(
    '/v2/images/:image_id/import',
    op('image:import_image', { schema: { body: ImportBody } }),
    async (req, reply) => {
      const b = req.body as ImportBody;
      const r: ImportRequest = {
        method: b.method.name,
        ...(b.stores ? { stores: b.stores } : {}),
        ...(b.all_stores !== undefined ? { allStores: b.all_stores } : {}),
        ...(b.all_stores_must_succeed !== undefined ? { allStoresMustSucceed: b.all_stores_must_succeed } : {}),
      };
      await svc.data.startImport(ctxOf(req).auth, (req.params as P).image_id, r, req.id);
      reply.code(202).send();
    },
  );

  app.get('/v2/info/import', op('image:get_import_info'), async () => ({
    'import-methods': { description: 'Import methods available.', type: 'array', value: [...IMPORT_METHODS] },
  }));
  app.get('/v2/info/stores', op('image:stores_info'), async () => ({ stores: svc.stores() }));
  app.get('/v2/info/usage', op('image:get_usage'), async (req) => {
    const a = ctxOf(req).auth;
    if (!a.projectId) throw badRequest('Usage is reported for a project-scoped token.');
    return { usage: await svc.quotas.usage(a.projectId) };
  });
}
