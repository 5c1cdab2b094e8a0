// Metadata definitions: /v2/metadefs/namespaces (+ objects, properties, tags, resource type associations).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { Namespace, NamedDef } from '../../services/image/metadefs.js';
import { ctxOf } from '../http/service-api.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';
import {
  MetadefObjectBody,
  MetadefPropertyBody,
  MetadefTagBody,
  MetadefTagsBody,
  NamespaceBody,
  ResourceTypeAssociationBody,
} from './request-schemas.js';

type Obj = Record<string, unknown>;
type NsP = { ns: string };
const base = '/v2/metadefs/namespaces';

/** The body of a write, already checked against the route's schema (./request-schemas.ts): a JSON object. */
const body = (req: FastifyRequest): Obj => req.body as Obj;

function nsView(n: Namespace): Obj {
  const v: Obj = { ...n, schema: '/v2/schemas/metadefs/namespace', self: `${base}/${n.namespace}` };
  for (const k of ['display_name', 'description', 'owner']) if (v[k] === null) delete v[k];
  return v;
}

function objectView(ns: string, o: NamedDef): Obj {
  return {
    ...o.body,
    name: o.name,
    created_at: o.created_at,
    updated_at: o.updated_at,
    schema: '/v2/schemas/metadefs/object',
    self: `${base}/${ns}/objects/${o.name}`,
  };
}

function propertyView(p: NamedDef): Obj {
  return { ...p.body, name: p.name };
}

export function metadefRoutes(app: FastifyInstance, deps: AppDeps): void {
  const m = deps.image.metadefs;
  const auth = (req: FastifyRequest) => ctxOf(req).auth;

  app.get('/v2/metadefs/resource_types', op('image:list_metadef_resource_types'), async () => ({
    resource_types: await m.listResourceTypes(),
  }));

  app.get(base, op('image:get_metadef_namespaces', { schema: { querystring: pagedQuery() } }), async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const list = await m.listNamespaces(auth(req), {
      ...(q.visibility ? { visibility: q.visibility } : {}),
      ...(q.resource_types ? { resourceTypes: q.resource_types.split(',') } : {}),
    });
    return { namespaces: list.map(nsView), first: base, schema: '/v2/schemas/metadefs/namespaces' };
  });
  app.post(base, op('image:add_metadef_namespace', { schema: { body: NamespaceBody } }), async (req, reply) => {
    const n = await m.createNamespace(auth(req), body(req));
    reply.code(201);
    return nsView(n);
  });
  app.get(`${base}/:ns`, op('image:get_metadef_namespace'), async (req) => {
    const full = await m.getNamespace(auth(req), (req.params as NsP).ns);
    const v = nsView(full.ns);
    if (full.associations.length) v.resource_type_associations = full.associations;
    if (full.properties.length)
      v.properties = Object.fromEntries(full.properties.map((p) => [p.name, propertyView(p)]));
    if (full.objects.length) v.objects = full.objects.map((o) => objectView(full.ns.namespace, o));
    if (full.tags.length) v.tags = full.tags.map((t) => ({ name: t.name }));
    return v;
  });
  app.put(`${base}/:ns`, op('image:modify_metadef_namespace', { schema: { body: NamespaceBody } }), async (req) =>
    nsView(await m.updateNamespace(auth(req), (req.params as NsP).ns, body(req))),
  );
  app.delete(`${base}/:ns`, op('image:delete_metadef_namespace'), async (req, reply) => {
    await m.deleteNamespace(auth(req), (req.params as NsP).ns);
    reply.code(204).send();
  });

  // Resource type associations.
  app.get(`${base}/:ns/resource_types`, op('image:get_metadef_resource_types'), async (req) => ({
    resource_type_associations: await m.listAssociations(auth(req), (req.params as NsP).ns),
  }));
  app.post(
    `${base}/:ns/resource_types`,
    op('image:add_metadef_resource_type_association', { schema: { body: ResourceTypeAssociationBody } }),
    async (req, reply) => {
      const r = await m.associate(auth(req), (req.params as NsP).ns, body(req));
      reply.code(201);
      return r;
    },
  );
  app.delete(
    `${base}/:ns/resource_types/:rt`,
    op('image:remove_metadef_resource_type_association'),
    async (req, reply) => {
      const { ns, rt } = req.params as NsP & { rt: string };
      await m.dissociate(auth(req), ns, rt);
      reply.code(204).send();
    },
  );

  // Objects.
  app.get(`${base}/:ns/objects`, op('image:get_metadef_objects'), async (req) => {
    const { ns } = req.params as NsP;
    return {
      objects: (await m.listDefs(auth(req), ns, 'metadef_objects')).map((o) => objectView(ns, o)),
      schema: '/v2/schemas/metadefs/objects',
    };
  });
  app.post(
    `${base}/:ns/objects`,
    op('image:add_metadef_object', { schema: { body: MetadefObjectBody } }),
    async (req, reply) => {
      const { ns } = req.params as NsP;
      const o = await m.putDef(auth(req), ns, 'metadef_objects', body(req));
      reply.code(201);
      return objectView(ns, o);
    },
  );
  app.get(`${base}/:ns/objects/:name`, op('image:get_metadef_object'), async (req) => {
    const { ns, name } = req.params as NsP & { name: string };
    return objectView(ns, await m.getDef(auth(req), ns, 'metadef_objects', name));
  });
  app.put(
    `${base}/:ns/objects/:name`,
    op('image:modify_metadef_object', { schema: { body: MetadefObjectBody } }),
    async (req) => {
      const { ns, name } = req.params as NsP & { name: string };
      return objectView(ns, await m.putDef(auth(req), ns, 'metadef_objects', body(req), name));
    },
  );
  app.delete(`${base}/:ns/objects/:name`, op('image:delete_metadef_object'), async (req, reply) => {
    const { ns, name } = req.params as NsP & { name: string };
    await m.deleteDef(auth(req), ns, 'metadef_objects', name);
    reply.code(204).send();
  });

  // Properties (listed as an object keyed by name, as Glance does).
  app.get(`${base}/:ns/properties`, op('image:get_metadef_properties'), async (req) => {
    const props = await m.listDefs(auth(req), (req.params as NsP).ns, 'metadef_properties');
    return { properties: Object.fromEntries(props.map((p) => [p.name, propertyView(p)])) };
  });
  app.post(
    `${base}/:ns/properties`,
    op('image:add_metadef_property', { schema: { body: MetadefPropertyBody } }),
    async (req, reply) => {
      const p = await m.putDef(auth(req), (req.params as NsP).ns, 'metadef_properties', body(req));
      reply.code(201);
      return propertyView(p);
    },
  );
  app.get(`${base}/:ns/properties/:name`, op('image:get_metadef_property'), async (req) => {
    const { ns, name } = req.params as NsP & { name: string };
    return propertyView(await m.getDef(auth(req), ns, 'metadef_properties', name));
  });
  app.put(
    `${base}/:ns/properties/:name`,
    op('image:modify_metadef_property', { schema: { body: MetadefPropertyBody } }),
    async (req) => {
      const { ns, name } = req.params as NsP & { name: string };
      return propertyView(await m.putDef(auth(req), ns, 'metadef_properties', body(req), name));
    },
  );
  app.delete(`${base}/:ns/properties/:name`, op('image:remove_metadef_property'), async (req, reply) => {
    const { ns, name } = req.params as NsP & { name: string };
    await m.deleteDef(auth(req), ns, 'metadef_properties', name);
    reply.code(204).send();
  });

  // Tags.
  app.get(`${base}/:ns/tags`, op('image:get_metadef_tags'), async (req) => ({
    tags: await m.listTags(auth(req), (req.params as NsP).ns),
  }));
  app.post(
    `${base}/:ns/tags`,
    op('image:add_metadef_tags', { schema: { body: MetadefTagsBody } }),
    async (req, reply) => {
      const append = String(req.headers['x-openstack-append'] ?? '').toLowerCase() === 'true';
      const tags = await m.setTags(auth(req), (req.params as NsP).ns, body(req).tags, append);
      reply.code(201);
      return { tags: tags.map((t) => ({ name: t.name })) };
    },
  );
  app.delete(`${base}/:ns/tags`, op('image:delete_metadef_tags'), async (req, reply) => {
    await m.deleteTags(auth(req), (req.params as NsP).ns);
    reply.code(204).send();
  });
  app.post(`${base}/:ns/tags/:name`, op('image:add_metadef_tag', { body: 'none' }), async (req, reply) => {
    const { ns, name } = req.params as NsP & { name: string };
    const t = await m.addTag(auth(req), ns, name);
    reply.code(201);
    return t;
  });
  app.get(`${base}/:ns/tags/:name`, op('image:get_metadef_tag'), async (req) => {
    const { ns, name } = req.params as NsP & { name: string };
    return m.getTag(auth(req), ns, name);
  });
  app.put(
    `${base}/:ns/tags/:name`,
    op('image:modify_metadef_tag', { schema: { body: MetadefTagBody } }),
    async (req) => {
      const { ns, name } = req.params as NsP & { name: string };
      return m.renameTag(auth(req), ns, name, body(req));
    },
  );
  app.delete(`${base}/:ns/tags/:name`, op('image:delete_metadef_tag'), async (req, reply) => {
    const { ns, name } = req.params as NsP & { name: string };
    await m.deleteTag(auth(req), ns, name);
    reply.code(204).send();
  });
}
