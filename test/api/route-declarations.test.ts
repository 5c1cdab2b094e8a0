// Walks every route every service registers: each one is public or names its policy rule, and each route that
// takes a JSON body declares its schema. Routes not converted yet are listed in route-baseline.json; the list may
// only shrink (a listed route that now complies fails the test until it is taken off the list). A handler that reads
// the query string (`req.query`, `request.query`, `flatQuery(req)` in its own source) declares a query schema too;
// a handler reading it only through a helper it calls is not seen, so such routes declare one anyway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createTestCloud } from '../helpers/cloud.js';
import { declaredRoutes, takesBody, type RouteDeclaration } from '../../src/api/http/route-policy.js';
import { walkRoutes, readsQuery } from '../helpers/route-walk.js';

interface Baseline {
  withoutPolicy: string[];
  withoutBodySchema: string[];
  withoutQuerySchema: string[];
}
const baseline = JSON.parse(
  readFileSync(new URL('../../../test/api/route-baseline.json', import.meta.url), 'utf8'),
) as Baseline;

const key = (r: RouteDeclaration) => `${r.method} ${r.url}`;

test('every route names a policy rule (or is public) and declares the body schema it takes', async () => {
  const cloud = await createTestCloud();
  try {
    const routes = walkRoutes(declaredRoutes(cloud.controller.server));
    const withoutPolicy = routes.filter((r) => !r.public && r.policy === undefined).map(key);
    const withoutBody = routes.filter((r) => takesBody(r.method) && !r.hasBodySchema && r.body === undefined).map(key);
    const withoutQuery = routes.filter((r) => readsQuery(r) && !r.hasQuerySchema).map(key);
    const declared = routes.filter((r) => r.policy !== undefined).length;
    console.log(
      `routes: ${routes.length} (public ${routes.filter((r) => r.public).length}, with a policy ${declared}, ` +
        `without a policy ${withoutPolicy.length}, writes without a body schema ${withoutBody.length}, ` +
        `query readers without a query schema ${withoutQuery.length})`,
    );

    const newWithout = withoutPolicy.filter((k) => !baseline.withoutPolicy.includes(k));
    assert.deepEqual(
      newWithout,
      [],
      'routes without a policy rule: declare one with op(...) (src/api/http/route-policy.ts)',
    );
    const newBody = withoutBody.filter((k) => !baseline.withoutBodySchema.includes(k));
    assert.deepEqual(
      newBody,
      [],
      "routes taking a body without a schema: declare schema.body, or body: 'none' | 'raw'",
    );

    const newQuery = withoutQuery.filter((k) => !baseline.withoutQuerySchema.includes(k));
    assert.deepEqual(newQuery, [], 'handlers reading req.query without a query schema: declare schema.querystring');

    const stalePolicy = baseline.withoutPolicy.filter((k) => !withoutPolicy.includes(k));
    assert.deepEqual(stalePolicy, [], 'these routes now name a policy: take them off test/api/route-baseline.json');
    const staleBody = baseline.withoutBodySchema.filter((k) => !withoutBody.includes(k));
    assert.deepEqual(staleBody, [], 'these routes now declare a body: take them off test/api/route-baseline.json');
    const staleQuery = baseline.withoutQuerySchema.filter((k) => !withoutQuery.includes(k));
    assert.deepEqual(
      staleQuery,
      [],
      'these routes now declare a query schema: take them off test/api/route-baseline.json',
    );
  } finally {
    await cloud.close();
  }
});
