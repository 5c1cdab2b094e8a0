// The response hook that feeds /metrics' control-plane counters: one observation per finished request, labelled with
// the route template (never the raw URL, so label values stay bounded) and the service whose prefix it is under.
import type { FastifyInstance } from 'fastify';
import type { RequestObservation } from '../../services/monitoring/metrics.js';

/** Where observations go (ControlPlaneCounters). */
export interface RequestObserver {
  observe(r: RequestObservation): void;
}

const lengthOf = (v: unknown): number => {
  const n = Number(Array.isArray(v) ? v[0] : v);
  return Number.isFinite(n) && n > 0 ? n : 0;
};

/** Adds the hook to the whole server; `prefixes` name the services ("/compute" → compute), anything else is "other". */
export function installRequestMetrics(app: FastifyInstance, observer: RequestObserver, prefixes: string[]): void {
  const services = prefixes.map((p) => ({ prefix: p, name: p.replace(/^\//, '') }));
  const serviceOf = (path: string) =>
    services.find((s) => path === s.prefix || path.startsWith(`${s.prefix}/`))?.name ?? 'other';
  app.addHook('onResponse', async (request, reply) => {
    const template = request.routeOptions.url;
    const path = template ?? request.url.split('?')[0] ?? '';
    observer.observe({
      service: serviceOf(path),
      // Unrouted requests (404s for made-up URLs) share one label value.
      route: template ?? 'unmatched',
      method: request.method,
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
      bytesIn: lengthOf(request.headers['content-length']),
      bytesOut: lengthOf(reply.getHeader('content-length')),
      hadToken: typeof request.headers['x-auth-token'] === 'string',
    });
  });
}
