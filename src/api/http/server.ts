import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { Ajv, type ErrorObject } from 'ajv';
import { validationMessage } from './validation-errors.js';
import { CloudError, isCloudError, badRequest } from '../../errors.js';
import { renderError, type ErrorFormat } from './error-bodies.js';
import type { ServiceApi } from './service-api.js';
import { checkQueryKeys, parseJsonBody } from './json-body.js';
import { enforceRoutePolicy, installRouteDeclarations, type RouteConfig } from './route-policy.js';
import type { AppDeps } from '../../app-deps.js';
import { uuid } from '../../util/ids.js';
import { requestAllowed } from '../../services/identity/access-rules.js';
import { registerDashboard } from '../dashboard/index.js';
import { lazyValidator } from './lazy-validator.js';

// verbose: each error carries the offending value, which the messages show (validation-errors.ts).
const bodyAjv = new Ajv({
  verbose: true,
  allErrors: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  strict: false,
});
const queryAjv = new Ajv({
  verbose: true,
  allErrors: false,
  coerceTypes: 'array',
  useDefaults: true,
  removeAdditional: false,
  strict: false,
});

/** Turns anything thrown in a handler into a CloudError; unknown errors become a logged 500 without internals. */
export function toCloudError(err: unknown, request: FastifyRequest): CloudError {
  if (isCloudError(err)) return err;
  const e = err as FastifyError & { validation?: unknown; validationContext?: string; status?: number };
  if (Array.isArray(e.validation))
    return badRequest(validationMessage(e.validation as ErrorObject[], e.validationContext));
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return badRequest('Malformed request body: the body is not valid JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CloudError('PayloadTooLarge', 'Request entity is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CloudError(
        'UnsupportedMediaType',
        `Unsupported Content-Type: ${request.headers['content-type'] ?? ''}`,
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return badRequest('Content-Length does not match the body.');
  }
  if (err instanceof SyntaxError) return badRequest('Malformed request body: the body is not valid JSON.');
  const status = e.statusCode ?? e.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new CloudError(status === 413 ? 'PayloadTooLarge' : 'BadRequest', e.message, { status });
  }
  request.log.error({ err }, 'unexpected error');
  return new CloudError('Internal', 'An unexpected error prevented the server from fulfilling your request.');
}

/** Sends an error in the given format. */
export function sendError(reply: FastifyReply, format: ErrorFormat, err: CloudError): FastifyReply {
  const r = renderError(format, err);
  if (err.headers) reply.headers(err.headers);
  return reply.code(r.status).type(r.contentType).send(r.body);
}

/** Installs one service's error body for everything thrown or unmatched below its prefix. */
export function installErrorHandling(scope: FastifyInstance, format: ErrorFormat): void {
  scope.setErrorHandler((err, request, reply) => sendError(reply, format, toCloudError(err, request)));
  scope.setNotFoundHandler((_request, reply) =>
    sendError(reply, format, new CloudError('NotFound', `The resource could not be found.`)),
  );
}

/**
 * The auth hook: validates X-Auth-Token on every route not marked public and enforces the route's rule. It runs
 * before schema validation (the body is parsed by then, so action routes find their rule), so a caller the rule
 * refuses gets its 401 or 403 whatever it sent, and learns nothing from validation messages.
 */
function installAuth(scope: FastifyInstance, deps: AppDeps, svc: ServiceApi): void {
  scope.decorateRequest('ctx', undefined);
  scope.addHook('preValidation', async (request) => {
    const config = request.routeOptions.config as RouteConfig | undefined;
    const token = request.headers['x-auth-token'];
    if (typeof token === 'string' && token.length > 0) {
      // On a public route (version documents, POST /auth/tokens) a stale or bad token is ignored, as Keystone's own
      // public endpoints do; everywhere else it is a 401.
      const auth = config?.public
        ? await deps.identity.tokens.validateForRequest(token).catch(() => undefined)
        : await deps.identity.tokens.validateForRequest(token);
      if (!auth) return;
      // Application-credential access rules, enforced as keystonemiddleware does: paths are relative to the service
      // root.
      const path = request.url.slice(svc.prefix.length) || '/';
      if (!requestAllowed(auth.accessRules, svc.type, request.method, path)) {
        throw new CloudError('Unauthorized', 'The application credential does not permit this request.');
      }
      request.ctx = { requestId: request.id, auth };
      // The route's declared rule, before the handler sees the request (public routes declare none).
      if (!config?.public) await enforceRoutePolicy(request, auth);
    } else if (!config?.public) {
      throw new CloudError('Unauthorized', 'The request you have made requires authentication.', {
        headers: { 'WWW-Authenticate': `Keystone uri="${deps.config.server.publicUrl}/identity"` },
      });
    }
  });
}

/**
 * Something the composition root plugs into the whole server (audit trail, metrics): it adds its hooks before the
 * services are registered, so every service's scope inherits them.
 */
export type ServerHook = (app: FastifyInstance, services: readonly ServiceApi[]) => void;

/** Builds the one HTTP server that carries every service. */
export async function buildServer(
  deps: AppDeps,
  services: ServiceApi[],
  opts: {
    hooks?: readonly ServerHook[] /** Log lines go here instead of stdout (tests). */;
    logStream?: NodeJS.WritableStream;
  } = {},
): Promise<FastifyInstance> {
  const level = deps.config.logging.level;
  const app = Fastify({
    logger: level === 'silent' ? false : { level, ...(opts.logStream ? { stream: opts.logStream } : {}) },
    // One structured line per request comes from our onResponse hook instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req-${uuid()}`,
    requestIdHeader: false,
    bodyLimit: deps.config.server.maxJsonBodyBytes,
    // Clients differ on trailing slashes (".../v3/" vs ".../v3"); OpenStack services accept both.
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
    ajv: { customOptions: {} },
  });

  app.setValidatorCompiler(({ schema, httpPart }) =>
    lazyValidator(httpPart === 'body' ? bodyAjv : queryAjv, schema as object),
  );

  // JSON bodies: an empty body is "no body" (clients send Content-Type on DELETE), bad JSON is a clear 400.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(/^application\/([\w.+-]*\+)?json(;.*)?$/i, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-openstack-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const a = request.ctx?.auth;
    request.log.info(
      {
        req_id: request.id,
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Number(reply.elapsedTime.toFixed(2)),
        user: a?.userId,
        project: a?.projectId,
      },
      'request',
    );
  });

  installRouteDeclarations(app);
  for (const hook of opts.hooks ?? []) hook(app, services);
  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));
  registerDashboard(app);

  for (const svc of services) {
    await app.register(
      async (scope) => {
        installErrorHandling(scope, svc.errorFormat);
        // Before any handler builds objects from the query string: prototype keys are a 400.
        scope.addHook('onRequest', async (request) => checkQueryKeys(request.url));
        installAuth(scope, deps, svc);
        await svc.routes(scope, deps);
      },
      { prefix: svc.prefix },
    );
  }

  installErrorHandling(app, 'keystone');
  return app;
}
