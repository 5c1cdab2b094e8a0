// Gureum's own monitoring API at /monitoring/v1 (not an OpenStack service, not in the catalog): per-minute graphs of
// instances' CPU, memory, disk and network from the built-in store, read with the user's token. docs/observability.md
// describes the URLs, the query parameters and the answers.
//   GET /monitoring/v1/servers/{id}?metric=cpu|memory|disk|net&start=&end=
//   GET /monitoring/v1/projects/{project_id}?metric=...&start=&end=
import { Type } from '@sinclair/typebox';
import type { ServiceApi } from '../http/service-api.js';
import { ctxOf } from '../http/service-api.js';
import { op } from '../http/route-policy.js';

const metric = Type.Union([Type.Literal('cpu'), Type.Literal('memory'), Type.Literal('disk'), Type.Literal('net')]);

/** start and end: ISO 8601 or unix seconds (checked by the service: a bad one is a 400 naming it). */
const SeriesQuery = Type.Object(
  {
    metric: Type.Optional(metric),
    start: Type.Optional(Type.String({ maxLength: 64 })),
    end: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

type Q = { metric?: string; start?: string; end?: string };

export const monitoringApi: ServiceApi = {
  type: 'monitoring',
  name: 'gureum-monitoring',
  prefix: '/monitoring',
  endpointPath: '/monitoring/v1',
  errorFormat: 'nova',
  catalog: false,
  routes(app, deps) {
    const mon = deps.monitoring;
    app.get('/v1/servers/:id', op('monitoring:server:show', { schema: { querystring: SeriesQuery } }), async (req) =>
      mon.serverSeries(ctxOf(req).auth, (req.params as { id: string }).id, req.query as Q),
    );
    app.get(
      '/v1/projects/:project_id',
      op('monitoring:project:show', {
        schema: { querystring: SeriesQuery },
        target: (req) => ({ project_id: (req.params as { project_id: string }).project_id }),
      }),
      async (req) => mon.projectSeries((req.params as { project_id: string }).project_id, req.query as Q),
    );
  },
};
