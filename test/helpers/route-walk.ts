// The route walk shared by the route-declaration test, the policy matrix and the fuzz test.
import type { RouteDeclaration } from '../../src/api/http/route-policy.js';

/** Every route once: Fastify's automatic HEAD routes mirror a GET and carry its declaration. */
export function walkRoutes(all: readonly RouteDeclaration[]): RouteDeclaration[] {
  const gets = new Set(all.filter((r) => r.method === 'GET').map((r) => r.url));
  return all.filter((r) => !(r.method === 'HEAD' && gets.has(r.url)));
}

/** True when the handler's own source reads the query string. */
export const readsQuery = (r: RouteDeclaration): boolean =>
  /\b(req|request)\.query\b|flatQuery\(\s*(req|request)\b/.test(r.handlerSource);
