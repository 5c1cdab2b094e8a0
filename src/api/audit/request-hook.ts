// Appends one audit event per state-changing call (POST, PUT, PATCH, DELETE) on every service, after the answer is
// sent: refused (401/403) and failed calls too. What is kept is who (from the validated token, when there was one),
// what (route template, policy rule, target id), the outcome and the time taken; never the body, so passwords,
// tokens, keys, user_data and admin passwords cannot reach the trail, and never the query string.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditService } from '../../services/audit/index.js';
import type { ServiceApi } from '../http/service-api.js';
import { ruleOf, type RouteConfig } from '../http/route-policy.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Largest answer body searched for the id of what a POST created. */
const MAX_SCANNED_BODY = 64 * 1024;

/** The id of the object a route names: its `id` parameter, else the last parameter whose name ends in id. */
function targetOfParams(params: unknown): string | null {
  if (!params || typeof params !== 'object') return null;
  const entries = Object.entries(params as Record<string, unknown>).filter(
    (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
  );
  const byName = entries.find(([k]) => k === 'id') ?? entries.reverse().find(([k]) => /id$/i.test(k)) ?? entries[0];
  return byName ? byName[1].slice(0, 255) : null;
}

/** The id of what a create answered with: `{"server": {"id": ...}}`, `{"id": ...}` (Glance). */
function createdId(payload: unknown): string | null {
  if (typeof payload !== 'string' || payload.length > MAX_SCANNED_BODY || !payload.startsWith('{')) return null;
  try {
    const body = JSON.parse(payload) as Record<string, unknown>;
    if (typeof body.id === 'string') return body.id;
    const keys = Object.keys(body);
    const inner = keys.length === 1 ? body[keys[0]] : undefined;
    const id = inner && typeof inner === 'object' ? (inner as Record<string, unknown>).id : undefined;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/** Installs the audit hooks on the server (before the services are registered, so every scope inherits them). */
export function auditRequests(audit: AuditService) {
  return (app: FastifyInstance, services: readonly ServiceApi[]): void => {
    const created = new WeakMap<FastifyRequest, string>();
    const serviceOf = (url: string): string =>
      services.find((s) => url === s.prefix || url.startsWith(`${s.prefix}/`))?.type ?? 'gureum';

    app.addHook('onSend', async (request, reply, payload) => {
      if (request.method === 'POST' && reply.statusCode < 300) {
        const id = createdId(payload);
        if (id) created.set(request, id);
      }
      return payload;
    });

    app.addHook('onResponse', async (request, reply) => {
      if (!WRITES.has(request.method)) return;
      const auth = request.ctx?.auth;
      const path = request.url.split('?')[0];
      const config = request.routeOptions.config as RouteConfig | undefined;
      // Never awaited by the request: the answer is already sent; the service reports a failed write itself.
      void audit.record({
        created_at: new Date().toISOString(),
        request_id: request.id,
        user_id: auth?.userId ?? null,
        user_name: auth?.userName ?? null,
        project_id: auth?.projectId ?? null,
        domain_id: auth?.domainId ?? auth?.projectDomainId ?? auth?.userDomainId ?? null,
        service: serviceOf(path),
        method: request.method,
        route: (request.routeOptions.url ?? path).slice(0, 1024),
        target_id: targetOfParams(request.params) ?? created.get(request) ?? null,
        action: config ? (ruleOf(config, request.body) ?? null) : null,
        status: reply.statusCode,
        duration_ms: Number(reply.elapsedTime.toFixed(2)),
        remote_addr: request.ip ?? null,
      });
    });
  };
}
