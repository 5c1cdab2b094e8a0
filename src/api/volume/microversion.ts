// Cinder's microversions: `OpenStack-API-Version: volume 3.X` in, the same header (and Vary) out.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CloudError } from '../../errors.js';
import { ApiVersion } from '../compute/microversion.js';

/** 3.0 up to 3.64 (Yoga's 3.64 adds encryption_key_id; later ones are not claimed). */
export const MIN_VOLUME_VERSION = '3.0';
export const MAX_VOLUME_VERSION = '3.64';

const MIN = ApiVersion.parse(MIN_VOLUME_VERSION);
const MAX = ApiVersion.parse(MAX_VOLUME_VERSION);

declare module 'fastify' {
  interface FastifyRequest {
    /** The volume microversion of this request (3.0 when none was asked for). */
    volumeVersion: ApiVersion | undefined;
  }
}

function requested(headers: FastifyRequest['headers']): ApiVersion {
  let text: string | undefined;
  const generic = headers['openstack-api-version'];
  if (typeof generic === 'string') {
    for (const part of generic.split(',')) {
      const [svc, ver] = part.trim().split(/\s+/, 2);
      if (svc?.toLowerCase() === 'volume' && ver) text = ver;
    }
  }
  if (text === undefined || text.trim() === '') return MIN;
  if (text.trim().toLowerCase() === 'latest') return MAX;
  const v = ApiVersion.parse(text);
  if (v.major !== 3 || v.minor > MAX.minor) {
    throw new CloudError(
      'NotAcceptable',
      `Version ${v} is not supported by the API. Minimum is ${MIN_VOLUME_VERSION} and maximum is ` +
        `${MAX_VOLUME_VERSION}.`,
    );
  }
  return v;
}

function setHeaders(reply: FastifyReply, v: ApiVersion): void {
  reply.header('openstack-api-version', `volume ${v}`);
  reply.header('vary', 'OpenStack-API-Version');
}

/** Installs version negotiation on the /v3 scope: every answer (errors too) says which version it used. */
export function installVolumeMicroversions(scope: FastifyInstance): void {
  scope.decorateRequest('volumeVersion', undefined);
  scope.addHook('onRequest', async (request, reply) => {
    setHeaders(reply, MIN);
    const v = requested(request.headers);
    request.volumeVersion = v;
    setHeaders(reply, v);
  });
}

/** The version of a request. */
export function vv(request: FastifyRequest): ApiVersion {
  return request.volumeVersion ?? MIN;
}
