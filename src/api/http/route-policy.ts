// Every route declares its policy rule (and its body schema) in its own declaration; this module reads those
// declarations as Fastify registers them, refuses malformed ones at start-up, keeps the list for the route-walking
// test, and enforces the rule before the handler runs.
//
// A route declares, in its options:
// app.post('/servers/:id/metadata', op('compute:server-metadata:create', { schema: { body: MetadataBody } }), handler)
//  `op()` is the helper; `config.policy` may also be written by hand. See docs/architecture.md ("Routes").
import type { FastifyInstance, FastifyRequest, RouteOptions, RouteShorthandOptions, FastifySchema } from 'fastify';
import type { AuthContext } from '../../services/auth-context.js';
import { enforce, isPolicyName, type PolicyName, type PolicyTarget } from '../../services/policy.js';

/** A rule chosen by the first key of the body (Nova's `POST /servers/{id}/action`, `/flavors/{id}/action`). */
export interface ActionPolicy {
  byAction: Partial<Record<string, PolicyName>>;
  /** For a body naming no known action (the handler then answers 400). */
  otherwise: PolicyName;
}

/**
 * The object a rule is checked against, from the request (params, query, body). It may load the object (Keystone's
 * credentials and trusts: the owner is in the row), so a missing object answers 404 before the rule is checked, as
 * Keystone does when it builds its policy target.
 */
export type RouteTarget = (
  req: Pick<FastifyRequest, 'params' | 'query' | 'body' | 'headers'>,
  auth: AuthContext,
) => PolicyTarget | Promise<PolicyTarget>;

/** Route config every route carries (Fastify's `config`). */
export interface RouteConfig {
  /** No token needed (version documents, POST /auth/tokens); no policy then. */
  public?: boolean;
  /** The policy rule of this operation, from the one table (src/services/policy.ts). */
  policy?: PolicyName | ActionPolicy;
  /**
   * What the rule is checked against. Default: the caller's own scope (its project, user, domain), which checks the
   * role; the service then finds the object within the caller's project, so a rule of "member of the owner project"
   * holds. Routes naming another project or user in the URL (quotas, keypairs, identity) say so here.
   */
  target?: RouteTarget;
  /** For POST/PUT/PATCH without a JSON body schema: 'none' (no body read) or 'raw' (bytes, e.g. image data). */
  body?: 'none' | 'raw';
}

/** What the route walk sees of one registered route. */
export interface RouteDeclaration {
  method: string;
  url: string;
  public: boolean;
  policy: PolicyName | ActionPolicy | undefined;
  hasBodySchema: boolean;
  hasQuerySchema: boolean;
  hasParamsSchema: boolean;
  body: 'none' | 'raw' | undefined;
  /** The declared target (the policy matrix test evaluates the rule with it); undefined = the caller's own scope. */
  target: RouteTarget | undefined;
  /** The handler's source, so the walk can tell a handler that reads the query string. */
  handlerSource: string;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH']);
const declarations = new WeakMap<FastifyInstance, RouteDeclaration[]>();

/** Route options carrying a policy (and optionally schemas and the rest of the route config). */
export function op(
  policy: PolicyName | ActionPolicy,
  opts: RouteShorthandOptions & { target?: RouteConfig['target']; body?: RouteConfig['body'] } = {},
): RouteShorthandOptions {
  const { target, body, config, ...rest } = opts;
  return {
    ...rest,
    config: { ...(config as object | undefined), policy, ...(target ? { target } : {}), ...(body ? { body } : {}) },
  };
}

/** Route options of a public route (no token, no policy). */
export const publicRoute = (opts: RouteShorthandOptions = {}): RouteShorthandOptions => ({
  ...opts,
  config: { ...(opts.config as object | undefined), public: true },
});

/** The declarations of every route registered on this server so far (for the route walk). */
export function declaredRoutes(app: FastifyInstance): readonly RouteDeclaration[] {
  return declarations.get(app) ?? [];
}

function checkPolicyNames(p: PolicyName | ActionPolicy, where: string): void {
  const names = typeof p === 'string' ? [p] : [p.otherwise, ...Object.values(p.byAction)];
  for (const n of names) if (!isPolicyName(n)) throw new Error(`${where}: unknown policy rule "${String(n)}"`);
}

/** Records every route's declaration and refuses, at registration, a policy naming no rule. */
export function installRouteDeclarations(app: FastifyInstance): void {
  const list: RouteDeclaration[] = [];
  declarations.set(app, list);
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ?? {}) as RouteConfig;
    const schema = (route.schema ?? {}) as FastifySchema;
    for (const method of [route.method].flat()) {
      const where = `${method} ${route.url}`;
      if (config.policy !== undefined) checkPolicyNames(config.policy, where);
      if (config.public && config.policy !== undefined) throw new Error(`${where}: a public route has no policy`);
      list.push({
        method,
        url: route.url,
        public: !!config.public,
        policy: config.policy,
        body: config.body,
        target: config.target,
        hasBodySchema: !!schema.body,
        hasQuerySchema: !!schema.querystring,
        hasParamsSchema: !!schema.params,
        handlerSource: String(route.handler),
      });
    }
  });
}

/** The rule of this request: the route's rule, or the one its action body names. */
export function ruleOf(config: RouteConfig, body: unknown): PolicyName | undefined {
  const p = config.policy;
  if (p === undefined || typeof p === 'string') return p;
  const action = body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body)[0] : undefined;
  return (action !== undefined && Object.hasOwn(p.byAction, action) ? p.byAction[action] : undefined) ?? p.otherwise;
}

/** The caller's own scope: the default target (role check; the service checks the object's owner). */
export function ownScope(auth: AuthContext): PolicyTarget {
  return {
    project_id: auth.projectId ?? null,
    user_id: auth.userId,
    domain_id: auth.domainId ?? auth.projectDomainId ?? null,
  };
}

/** Enforces the route's declared rule for an authenticated request (a 403 in the service's body otherwise). */
export async function enforceRoutePolicy(req: FastifyRequest, auth: AuthContext): Promise<void> {
  const config = (req.routeOptions.config ?? {}) as RouteConfig;
  const rule = ruleOf(config, req.body);
  if (rule === undefined) return;
  enforce(auth, rule, config.target ? await config.target(req, auth) : ownScope(auth));
}

/** True for a method that carries a body. */
export const takesBody = (method: string): boolean => WRITES.has(method);
