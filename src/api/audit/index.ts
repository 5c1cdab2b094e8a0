// Gureum's own audit API (not an OpenStack service, not in the catalog), for cloud admins:
//   GET /audit/v1/events?project_id=&user_id=&service=&method=&action=&outcome=&request_id=&target_id=
//                        &since=&until=&limit=&marker=
// Newest first; `links` carries the next page's URL (marker = the last event's id) when the page is full.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { ServiceApi } from '../http/service-api.js';
import { op } from '../http/route-policy.js';
import { auditTime, type AuditQuery } from '../../services/audit/index.js';

const Id = Type.String({ minLength: 1, maxLength: 255 });
const EventsQuery = Type.Object(
  {
    project_id: Type.Optional(Id),
    user_id: Type.Optional(Id),
    service: Type.Optional(Id),
    method: Type.Optional(Type.Union(['POST', 'PUT', 'PATCH', 'DELETE'].map((m) => Type.Literal(m)))),
    action: Type.Optional(Id),
    outcome: Type.Optional(
      Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Integer({ minimum: 100, maximum: 599 })]),
    ),
    request_id: Type.Optional(Id),
    target_id: Type.Optional(Id),
    since: Type.Optional(Type.String({ maxLength: 64 })),
    until: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    marker: Type.Optional(Id),
  },
  { additionalProperties: false },
);
type EventsQuery = Static<typeof EventsQuery>;

const DEFAULT_LIMIT = 100;

function toQuery(q: EventsQuery): AuditQuery {
  return {
    projectId: q.project_id,
    userId: q.user_id,
    service: q.service,
    method: q.method,
    action: q.action,
    outcome: q.outcome,
    requestId: q.request_id,
    targetId: q.target_id,
    since: q.since === undefined ? undefined : auditTime('since', q.since),
    until: q.until === undefined ? undefined : auditTime('until', q.until),
    limit: q.limit ?? DEFAULT_LIMIT,
    marker: q.marker,
  };
}

/** The next page's URL: the same query with the marker moved to the last event shown. */
function nextLink(req: FastifyRequest, publicUrl: string, lastId: string): string {
  const url = new URL(req.url, 'http://x');
  url.searchParams.set('marker', lastId);
  return `${publicUrl}${url.pathname}${url.search}`;
}

export const auditApi: ServiceApi = {
  type: 'audit',
  name: 'gureum-audit',
  prefix: '/audit/v1',
  endpointPath: '/audit/v1',
  errorFormat: 'keystone',
  catalog: false,
  routes(app, deps) {
    app.get('/events', op('audit:events:list', { schema: { querystring: EventsQuery } }), async (req) => {
      const query = toQuery(req.query as EventsQuery);
      const events = await deps.audit.list(query);
      const links =
        events.length === query.limit
          ? [{ rel: 'next', href: nextLink(req, deps.config.server.publicUrl, events[events.length - 1].id) }]
          : [];
      return { events, links };
    });
  },
};
