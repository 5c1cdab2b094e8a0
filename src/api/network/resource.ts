// One Neutron collection's routes, described once: POST (single and bulk), GET list/one, PUT, DELETE and the tags API.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../services/auth-context.js';
import type { NetworkService } from '../../services/network/index.js';
import type { NetObjectKind } from '../../net/index.js';
import { ctxOf } from '../http/service-api.js';
import { enforce, networkRule, networkTagRule, type NetworkResource } from '../../services/policy.js';
import { op } from '../http/route-policy.js';
import { pagedQuery, plainQuery } from '../http/query-schemas.js';
import { badRequest, notFound } from '../../errors.js';
import { applyQuery, pick, queryOf, type Query } from './query.js';

type Obj = Record<string, unknown>;

/** How one collection maps onto the service. */
export interface ResourceSpec<T extends { id: string }> {
  /** URL collection, e.g. "security-groups". */
  path: string;
  /** Body key of one item, e.g. "security_group" (also names its policy rules). */
  member: NetworkResource;
  /** Body key of a list, e.g. "security_groups". */
  collection: string;
  /** Data-plane object kind, when the driver cares. */
  kind?: NetObjectKind;
  /** Tag resource type, when taggable. */
  tagType?: string;
  list: (a: AuthContext, q: Query) => Promise<T[]>;
  get: (a: AuthContext, id: string) => Promise<T>;
  views: (a: AuthContext, rows: T[]) => Promise<Obj[]>;
  create?: (a: AuthContext, body: Obj) => Promise<T>;
  update?: (a: AuthContext, id: string, body: Obj) => Promise<T>;
  remove?: (a: AuthContext, id: string) => Promise<unknown>;
  /** Runs after a create/update/delete commits (events to the data plane). */
  after?: (action: 'created' | 'updated' | 'deleted', id: string, last?: Obj) => Promise<void>;
}

const authOf = (req: FastifyRequest): AuthContext => ctxOf(req).auth;

/** Writes need the member role in the caller's project (admin anywhere); the service checks ownership. */
export function writer(a: AuthContext): void {
  enforce(a, 'network:write', { project_id: a.projectId ?? null });
}

function bodyMember(body: unknown, member: string): Obj {
  const b = body as Obj | undefined;
  const v = b?.[member];
  if (!b || typeof b !== 'object' || v === undefined) throw badRequest(`Resource body required: expected "${member}".`);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid body: "${member}" must be an object.`);
  return v as Obj;
}

const memberSchema = (member: string) => ({
  type: 'object',
  required: [member],
  properties: { [member]: { type: 'object' } },
});
/** One item, or a bulk list under the collection key. */
const createSchema = (member: string, collection: string) => ({
  type: 'object',
  properties: { [member]: { type: 'object' }, [collection]: { type: 'array', items: { type: 'object' } } },
  anyOf: [{ required: [member] }, { required: [collection] }],
});
const tagsSchema = {
  type: 'object',
  required: ['tags'],
  properties: { tags: { type: 'array', items: { type: 'string', maxLength: 255 } } },
};

export function registerResource<T extends { id: string }>(
  app: FastifyInstance,
  net: NetworkService,
  baseUrl: string,
  spec: ResourceSpec<T>,
): void {
  const base = `/v2.0/${spec.path}`;
  const one = async (a: AuthContext, row: T) => (await spec.views(a, [row]))[0]!;
  const rule = (verb: 'get' | 'create' | 'update' | 'delete') => networkRule(verb, spec.member);

  app.get(base, op(rule('get'), { schema: { querystring: pagedQuery() } }), async (req) => {
    const a = authOf(req);
    const q = queryOf(req.query);
    const rows = await spec.list(a, q);
    const { items, links } = applyQuery(await spec.views(a, rows), q, {
      path: `/network${base}`,
      collection: spec.collection,
      baseUrl,
    });
    const out: Obj = { [spec.collection]: items };
    if (links.length) out[`${spec.collection}_links`] = links;
    return out;
  });

  app.get(`${base}/:id`, op(rule('get'), { schema: { querystring: plainQuery } }), async (req) => {
    const a = authOf(req);
    const v = await one(a, await spec.get(a, (req.params as { id: string }).id));
    const fields = queryOf(req.query)
      .fields?.flatMap((f) => f.split(','))
      .filter(Boolean);
    return { [spec.member]: fields?.length ? pick(v, fields) : v };
  });

  if (spec.create) {
    const create = spec.create;
    app.post(
      base,
      op(rule('create'), { schema: { body: createSchema(spec.member, spec.collection) } }),
      async (req, reply) => {
        const a = authOf(req);
        writer(a);
        const body = req.body as Obj | undefined;
        if (body && Array.isArray(body[spec.collection])) {
          // Bulk create: all or nothing (what was made before a failure is removed again).
          const made: T[] = [];
          try {
            for (const item of body[spec.collection] as unknown[]) {
              if (!item || typeof item !== 'object' || Array.isArray(item))
                throw badRequest(`Invalid body: each of "${spec.collection}" must be an object.`);
              made.push(await create(a, item as Obj));
            }
          } catch (e) {
            // Bulk create is all or nothing: undo the ones made, and report the create's error, not a cleanup's.
            for (const m of made.reverse()) await spec.remove?.(a, m.id).catch(() => {});
            throw e;
          }
          for (const m of made) await spec.after?.('created', m.id);
          reply.code(201);
          return { [spec.collection]: await spec.views(a, made) };
        }
        const row = await create(a, bodyMember(body, spec.member));
        await spec.after?.('created', row.id);
        reply.code(201);
        return { [spec.member]: await one(a, row) };
      },
    );
  }

  if (spec.update) {
    const update = spec.update;
    app.put(`${base}/:id`, op(rule('update'), { schema: { body: memberSchema(spec.member) } }), async (req) => {
      const a = authOf(req);
      writer(a);
      const id = (req.params as { id: string }).id;
      const body = bodyMember(req.body, spec.member);
      if (body.id !== undefined && body.id !== id) throw badRequest('Cannot update read-only attribute id');
      delete body.id;
      const row = await update(a, id, body);
      await spec.after?.('updated', row.id);
      return { [spec.member]: await one(a, row) };
    });
  }

  if (spec.remove) {
    const remove = spec.remove;
    app.delete(`${base}/:id`, op(rule('delete')), async (req, reply) => {
      const a = authOf(req);
      writer(a);
      const id = (req.params as { id: string }).id;
      const last = spec.kind ? await net.render(spec.kind, id).catch(() => undefined) : undefined;
      await remove(a, id);
      await spec.after?.('deleted', id, last);
      reply.code(204).send();
    });
  }

  if (spec.tagType) {
    const type = spec.tagType;
    const tagsOf = `${base}/:id/tags`;
    const tagRule = (verb: 'get' | 'create' | 'update' | 'delete') => networkTagRule(verb, spec.member);
    const visible = async (req: FastifyRequest) => {
      const a = authOf(req);
      const row = await spec.get(a, (req.params as { id: string }).id);
      return { a, row };
    };
    /** Tag writes need the member role in the tagged object's own project (a shared network is visible, not ours). */
    const owned = async (req: FastifyRequest, verb: 'create' | 'update' | 'delete') => {
      const { a, row } = await visible(req);
      enforce(a, tagRule(verb), { project_id: (row as { project_id?: string | null }).project_id ?? null });
      return { a, row };
    };
    const touched = async (id: string) => spec.after?.('updated', id);
    app.get(tagsOf, op(tagRule('get')), async (req) => {
      const { row } = await visible(req);
      return { tags: await net.tags.of(row.id) };
    });
    app.get(`${tagsOf}/:tag`, op(tagRule('get')), async (req, reply) => {
      const { row } = await visible(req);
      const tag = (req.params as { tag: string }).tag;
      if (!(await net.tags.of(row.id)).includes(tag))
        throw notFound(`Tag ${tag} could not be found for ${spec.member} ${row.id}.`, { code: 'TagNotFound' });
      reply.code(204).send();
    });
    app.put(tagsOf, op(tagRule('update'), { schema: { body: tagsSchema } }), async (req) => {
      const { row } = await owned(req, 'update');
      const body = req.body as Obj | undefined;
      if (!body || !Array.isArray(body.tags)) throw badRequest('Invalid body: expected {"tags": [...]}.');
      const tags = await net.tags.replace(type, row.id, body.tags);
      await touched(row.id);
      return { tags };
    });
    app.put(`${tagsOf}/:tag`, op(tagRule('create'), { body: 'none' }), async (req, reply) => {
      const { row } = await owned(req, 'create');
      await net.tags.add(type, row.id, (req.params as { tag: string }).tag);
      await touched(row.id);
      reply.code(201).send();
    });
    app.delete(tagsOf, op(tagRule('delete')), async (req, reply) => {
      const { row } = await owned(req, 'delete');
      await net.tags.removeAll(row.id);
      reply.code(204).send();
    });
    app.delete(`${tagsOf}/:tag`, op(tagRule('delete')), async (req, reply) => {
      const { row } = await owned(req, 'delete');
      const tag = (req.params as { tag: string }).tag;
      if (!(await net.tags.remove(row.id, tag)))
        throw notFound(`Tag ${tag} could not be found for ${spec.member} ${row.id}.`, { code: 'TagNotFound' });
      reply.code(204).send();
    });
  }
}
