// One way to declare a Cinder route: method, URL, the policy rule, the TypeBox schemas, the status and the
// microversion range, all in the declaration, so a route cannot exist without its schema and its rule.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { badRequest, CloudError } from '../../errors.js';
import type { AuthContext } from '../../services/auth-context.js';
import type { PolicyName } from '../../services/policy.js';
import { ctxOf } from '../http/service-api.js';
import type { ApiVersion } from '../compute/microversion.js';
import { vv } from './microversion.js';

/** What a handler gets: the caller, the version and the validated input. */
export interface VolumeCall<B, Q> {
  req: FastifyRequest;
  auth: AuthContext;
  version: ApiVersion;
  /** The project id of the URL (the caller's own, checked). */
  project: string;
  params: Record<string, string>;
  body: B;
  query: Q;
}

// biome-ignore lint/suspicious/noExplicitAny: a route without a body schema has an untyped body
export interface VolumeRoute<B = any, Q = Record<string, unknown>> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Below /v3/:project_id. */
  url: string;
  /** A rule of services/policy.ts, enforced by the auth hook against the caller's project before the handler. */
  policy: PolicyName;
  body?: TSchema;
  query?: TSchema;
  /** Success status (200 unless said). */
  status?: number;
  /** First microversion that has the route (older ones answer 404 as Cinder does). */
  minVersion?: string;
  handler(c: VolumeCall<B, Q>): Promise<unknown>;
}

/** A handler's answer when its status depends on the input (the volume actions: 200 for some, 202 for others). */
export class Answer {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}

/** 202 Accepted with no body. */
export const accepted = (): Answer => new Answer(202);

/** Query strings accept anything by default: Cinder ignores filters it does not know. */
const ANY_QUERY = { type: 'object', additionalProperties: true } as const;

/** Registers one route on the /v3 scope. */
// biome-ignore lint/suspicious/noExplicitAny: as VolumeRoute
export function route<B = any, Q = Record<string, unknown>>(app: FastifyInstance, r: VolumeRoute<B, Q>): void {
  app.route({
    method: r.method,
    url: `/:project_id${r.url}`,
    schema: { ...(r.body ? { body: r.body } : {}), querystring: r.query ?? ANY_QUERY },
    config: { policy: r.policy },
    handler: async (req, reply) => {
      const auth = ctxOf(req).auth;
      const params = req.params as Record<string, string>;
      const project = params.project_id!;
      // Cinder refuses a URL naming another project than the token's ("Malformed request url").
      if (auth.projectId !== project) throw badRequest('Malformed request url');
      // `GET /volumes/` is a show without an id for Cinder (404), not the list the server's trailing-slash
      // tolerance would otherwise route it to.
      if (req.url.split('?')[0]!.endsWith('/')) throw new CloudError('NotFound', 'The resource could not be found.');
      const version = vv(req);
      if (r.minVersion && !version.atLeast(r.minVersion))
        throw new CloudError('NotFound', 'The resource could not be found.');
      const out = await r.handler({
        req,
        auth,
        version,
        project,
        params,
        body: req.body as B,
        query: (req.query ?? {}) as Q,
      });
      if (out instanceof Answer) {
        reply.code(out.status);
        return out.body === undefined ? reply.send() : out.body;
      }
      reply.code(r.status ?? 200);
      return out === undefined ? reply.send() : out;
    },
  });
}
