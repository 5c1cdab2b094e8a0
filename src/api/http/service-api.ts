import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorFormat } from './error-bodies.js';
import type { AppDeps } from '../../app-deps.js';
import type { RequestContext } from '../../services/auth-context.js';
import { unauthorized } from '../../errors.js';

/** One OpenStack service exposed on the shared port under a path prefix. */
export interface ServiceApi {
  /** Catalog type, e.g. "identity", "compute", "image", "network", "volumev3". */
  type: string;
  /** Catalog name, e.g. "keystone". */
  name: string;
  /** Path prefix on the shared port, e.g. "/identity". */
  prefix: string;
  /** Path of the catalog endpoint below the public URL (may include a version and %(project_id)s). */
  endpointPath: string;
  /** Which error body this service answers with. */
  errorFormat: ErrorFormat;
  /** Further catalog entries for the same endpoint (Cinder is both `block-storage` and the older `volumev3`). */
  alsoInCatalogAs?: { type: string; name: string }[];
  /** False for routes that are not an OpenStack service of the catalog (the guests' metadata API). */
  catalog?: boolean;
  /** Registers the routes; the scope is already prefixed and has error handling and authentication installed. */
  routes(scope: FastifyInstance, deps: AppDeps): Promise<void> | void;
}

export type { RouteConfig } from './route-policy.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every non-public route. */
    ctx: RequestContext | undefined;
  }
}

/** The caller's context; throws 401 on a public route that needs one anyway. */
export function ctxOf(request: FastifyRequest): RequestContext {
  if (!request.ctx) throw unauthorized();
  return request.ctx;
}
