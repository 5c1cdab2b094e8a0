import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../services/auth-context.js';
import { ctxOf } from '../http/service-api.js';
import { badRequest } from '../../errors.js';
import type { PolicyName } from '../../services/policy.js';
import { op, type RouteTarget } from '../http/route-policy.js';
import type { Views } from './views.js';

type Obj = Record<string, unknown>;

export type CrudOp = 'create' | 'list' | 'get' | 'update' | 'remove';

/** One Keystone resource's five routes, described once (POST/GET list/GET/PATCH/DELETE with {member: ...} bodies). */
export interface Crud<T> {
  /** Path below /v3, e.g. "/projects". */
  path: string;
  /** Body key of one item, e.g. "project"; the list key is `${member}s` unless `collection` says otherwise. */
  member: string;
  collection?: string;
  /** The filters the list reads from the query string (its query schema). */
  filters?: string[];
  view: (item: T) => unknown;
  /** The rule of each operation (Keystone's name); the route enforces it before the hook runs. */
  rules: Partial<Record<CrudOp, PolicyName>>;
  /** What each rule is checked against (default: the caller's own scope; admin-only rules need none). */
  targets?: Partial<Record<CrudOp, RouteTarget>>;
  /** Hooks may narrow what they return or check the object further (the route has enforced the rule). */
  create?: (auth: AuthContext, body: Obj) => Promise<T>;
  list?: (auth: AuthContext, query: Record<string, string>) => Promise<T[]>;
  get?: (auth: AuthContext, id: string) => Promise<T>;
  update?: (auth: AuthContext, id: string, body: Obj) => Promise<T>;
  remove?: (auth: AuthContext, id: string) => Promise<void>;
}

/** Reference fields of Keystone bodies: strings (or null) of an id's length; anything else is a 400 at the edge. */
const REFERENCES = Object.fromEntries(
  ['domain_id', 'parent_id', 'default_project_id', 'service_id', 'region_id', 'parent_region_id'].map((k) => [
    k,
    { type: ['string', 'null'], maxLength: 255 },
  ]),
);

const memberBody = (member: string) => ({
  type: 'object',
  required: [member],
  properties: { [member]: { type: 'object', properties: REFERENCES } },
});

/** The query string with repeated keys flattened to their last value (Keystone reads one value per filter). */
export function flatQuery(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
    out[k] = Array.isArray(val) ? String(val[val.length - 1]) : String(val);
  }
  return out;
}

export function registerCrud<T>(app: FastifyInstance, v: Views, c: Crud<T>): void {
  const list = c.collection ?? `${c.member}s`;
  const idParam = `${c.member}_id`;
  const rule = (o: CrudOp, extra: Parameters<typeof op>[1] = {}) => {
    const name = c.rules[o];
    if (!name) throw new Error(`${c.path}: no policy rule for ${o}`);
    const target = c.targets?.[o];
    return op(name, { ...extra, ...(target ? { target } : {}) });
  };
  if (c.create) {
    const create = c.create;
    app.post(`/v3${c.path}`, rule('create', { schema: { body: memberBody(c.member) } }), async (req, reply) => {
      const item = await create(ctxOf(req).auth, (req.body as Obj)[c.member] as Obj);
      reply.code(201);
      return { [c.member]: c.view(item) };
    });
  }
  if (c.list) {
    const fetch = c.list;
    app.get(
      `/v3${c.path}`,
      rule('list', { schema: { querystring: querySchema(...(c.filters ?? [])) } }),
      async (req) => {
        const q = flatQuery(req);
        const items = await fetch(ctxOf(req).auth, q);
        const qs = new URLSearchParams(q).toString();
        return { [list]: items.map((i) => c.view(i)), links: v.collection(c.path, qs) };
      },
    );
  }
  if (c.get) {
    const get = c.get;
    app.get(`/v3${c.path}/:${idParam}`, rule('get'), async (req) => ({
      [c.member]: c.view(await get(ctxOf(req).auth, (req.params as Record<string, string>)[idParam]!)),
    }));
  }
  if (c.update) {
    const update = c.update;
    app.patch(`/v3${c.path}/:${idParam}`, rule('update', { schema: { body: memberBody(c.member) } }), async (req) => {
      const id = (req.params as Record<string, string>)[idParam]!;
      const body = (req.body as Obj)[c.member] as Obj;
      if (body.id !== undefined && body.id !== id) throw badRequest(`Cannot change the id of a ${c.member}.`);
      return { [c.member]: c.view(await update(ctxOf(req).auth, id, body)) };
    });
  }
  if (c.remove) {
    const remove = c.remove;
    app.delete(`/v3${c.path}/:${idParam}`, rule('remove'), async (req, reply) => {
      await remove(ctxOf(req).auth, (req.params as Record<string, string>)[idParam]!);
      reply.code(204).send();
    });
  }
}

/** A target naming one path parameter as the object's user, project or domain (`/users/:user_id` → {user_id}). */
export const fromParam =
  (param: string, field: 'user_id' | 'project_id' | 'domain_id'): RouteTarget =>
  (req) => ({ [field]: (req.params as Record<string, string | undefined>)[param] ?? null });

/** Keystone's five rule names of one resource (`identity:create_region`, `identity:list_regions`, ...). */
export const crudRules = <N extends string, P extends string>(name: N, plural: P) =>
  ({
    create: `identity:create_${name}`,
    list: `identity:list_${plural}`,
    get: `identity:get_${name}`,
    update: `identity:update_${name}`,
    remove: `identity:delete_${name}`,
  }) as const;

/** One query filter's value: a string, or the list a repeated key makes (handlers read the last, as flatQuery does). */
const FILTER = {
  anyOf: [
    { type: 'string', maxLength: 1024 },
    { type: 'array', maxItems: 32, items: { type: 'string', maxLength: 1024 } },
  ],
};

/**
 * The query schema of an identity route: the filters it names, each a string (Keystone ignores filters it does not
 * know, so other keys pass, typed the same). Prototype keys are refused for every route before this (json-body.ts).
 */
export const querySchema = (...filters: string[]) => ({
  type: 'object',
  properties: Object.fromEntries(filters.map((k) => [k, FILTER])),
  additionalProperties: FILTER,
});
