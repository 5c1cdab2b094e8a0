import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, CloudError } from '../../errors.js';

/** The range this cloud serves: 2.1 up to Zed's 2.93 (Debian's novaclient stops at 2.92; Tempest 33 tests up to it). */
export const MIN_VERSION = '2.1';
export const MAX_VERSION = '2.93';

/** A compute API microversion, comparable. */
export class ApiVersion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  static parse(s: string): ApiVersion {
    const m = /^([1-9]\d*)\.(0|[1-9]\d*)$/.exec(s.trim());
    if (!m) throw badRequest(`API Version String ${s} is of invalid format. Must be of format MajorNum.MinorNum.`);
    return new ApiVersion(Number(m[1]), Number(m[2]));
  }

  /** True when this version is at least `v` ("2.47"). */
  atLeast(v: string): boolean {
    const o = ApiVersion.parse(v);
    return this.major > o.major || (this.major === o.major && this.minor >= o.minor);
  }

  /** True when this version is at most `v`. */
  atMost(v: string): boolean {
    const o = ApiVersion.parse(v);
    return this.major < o.major || (this.major === o.major && this.minor <= o.minor);
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

const MIN = ApiVersion.parse(MIN_VERSION);
const MAX = ApiVersion.parse(MAX_VERSION);

declare module 'fastify' {
  interface FastifyRequest {
    /** The compute microversion of this request (2.1 when none was asked for). */
    computeVersion: ApiVersion | undefined;
  }
}

/** Reads the requested version from OpenStack-API-Version ("compute 2.53") or X-OpenStack-Nova-API-Version. */
export function requestedVersion(headers: FastifyRequest['headers']): ApiVersion {
  let text: string | undefined;
  const generic = headers['openstack-api-version'];
  if (typeof generic === 'string') {
    for (const part of generic.split(',')) {
      const [svc, ver] = part.trim().split(/\s+/, 2);
      if (svc?.toLowerCase() === 'compute' && ver) text = ver;
    }
  }
  const legacy = headers['x-openstack-nova-api-version'];
  if (text === undefined && typeof legacy === 'string') text = legacy;
  if (text === undefined || text.trim() === '') return MIN;
  if (text.trim().toLowerCase() === 'latest') return MAX;
  const v = ApiVersion.parse(text);
  if (v.major !== 2 || v.minor < MIN.minor || v.minor > MAX.minor) {
    throw new CloudError(
      'NotAcceptable',
      `Version ${v} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`,
    );
  }
  return v;
}

function setHeaders(reply: FastifyReply, v: ApiVersion): void {
  reply.header('openstack-api-version', `compute ${v}`);
  reply.header('x-openstack-nova-api-version', `${v}`);
  reply.header('vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
}

/** Installs version negotiation on the compute scope: every answer (errors included) says which version it used. */
export function installMicroversions(scope: FastifyInstance): void {
  scope.decorateRequest('computeVersion', undefined);
  scope.addHook('onRequest', async (request, reply) => {
    // Headers go out even when the version is refused, as Nova does (with the minimum).
    setHeaders(reply, MIN);
    reply.header('x-compute-request-id', request.id);
    const v = requestedVersion(request.headers);
    request.computeVersion = v;
    setHeaders(reply, v);
  });
}

/** The version of a request. */
export function mv(request: FastifyRequest): ApiVersion {
  return request.computeVersion ?? MIN;
}
