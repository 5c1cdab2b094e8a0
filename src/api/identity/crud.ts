import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../services/auth-context.js';
import { ctxOf } from '../http/service-api.js';
import { badRequest } from '../../errors.js';
import type { Views } from './views.js';

type Obj = Record<string, unknown>;

/** One Keystone resource's five routes, described once (POST/GET list/GET/PATCH/DELETE with {member: ...} bodies). */
export interface Crud<T> {
  /** Path below /v3, e.g. "/projects". */
  path: string;
  /** Body key of one item, e.g. "project"; the list key is `${member}s` unless `collection` says otherwise. */
  member: string;
  collection?: string;
  view: (item: T) => unknown;
  /** Each hook checks policy itself (with the caller's context) before it acts. */
  create?: (auth: AuthContext, body: Obj) => Promise<T>;
  list?: (auth: AuthContext, query: Record<string, string>) => Promise<T[]>;
  get?: (auth: AuthContext, id: string) => Promise<T>;
  update?: (auth: AuthContext, id: string, body: Obj) => Promise<T>;
  remove?: (auth: AuthContext, id: string) => Promise<void>;
}

/** Reference fields of Keystone bodies: strings (or null) of an id's length; anything else is a 400 at the edge. */
const REFERENCES = Object.fromEntries(['domain_id', 'parent_id', 'default_project_id', 'service_id', 'region_id', 'parent_region_id']
  .map((k) => [k, { type: ['string', 'null'], maxLength: 255 }]));

const memberBody = (member: string) => ({
  type: 'object', required: [member], properties: { [member]: { type: 'object', properties: REFERENCES } },
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
  if (c.create) {
    const create = c.create;
    app.post(`/v3${c.path}`, { schema: { body: memberBody(c.member) } }, async (req, reply) => {
      const item = await create(ctxOf(req).auth, (req.body as Obj)[c.member] as Obj);
      reply.code(201);
      return { [c.member]: c.view(item) };
    });
  }
  if (c.list) {
    const fetch = c.list;
    app.get(`/v3${c.path}`, async (req) => {
      const q = flatQuery(req);
      const items = await fetch(ctxOf(req).auth, q);
      const qs = new URLSearchParams(q).toString();
      return { [list]: items.map((i) => c.view(i)), links: v.collection(c.path, qs) };
    });
  }
  if (c.get) {
    const get = c.get;
    app.get(`/v3${c.path}/:${idParam}`, async (req) => ({
      [c.member]: c.view(await get(ctxOf(req).auth, (req.params as Record<string, string>)[idParam]!)),
    }));
  }
  if (c.update) {
    const update = c.update;
    app.patch(`/v3${c.path}/:${idParam}`, { schema: { body: memberBody(c.member) } }, async (req) => {
      const id = (req.params as Record<string, string>)[idParam]!;
      const body = (req.body as Obj)[c.member] as Obj;
      if (body.id !== undefined && body.id !== id) throw badRequest(`Cannot change the id of a ${c.member}.`);
      return { [c.member]: c.view(await update(ctxOf(req).auth, id, body)) };
    });
  }
  if (c.remove) {
    const remove = c.remove;
    app.delete(`/v3${c.path}/:${idParam}`, async (req, reply) => {
      await remove(ctxOf(req).auth, (req.params as Record<string, string>)[idParam]!);
      reply.code(204).send();
    });
  }
}
