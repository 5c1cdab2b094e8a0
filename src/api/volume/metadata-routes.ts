// The metadata sub-resource Cinder gives volumes and snapshots alike: list, merge (POST), replace (PUT), one item
// (show, set, delete), each with its schema and policy rule.
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { badRequest, notFound } from '../../errors.js';
import type { AuthContext } from '../../services/auth-context.js';
import { route } from './route.js';
import { MetadataBody, MetaItemBody } from './schemas.js';

/** What the routes need of the service that owns the resource. */
export interface MetadataOwner {
  get(a: AuthContext, id: string): Promise<{ metadata: Record<string, string> }>;
  setMetadata(
    a: AuthContext,
    id: string,
    meta: Record<string, string>,
    replace: boolean,
  ): Promise<Record<string, string>>;
  deleteMetadata(a: AuthContext, id: string, key: string): Promise<void>;
}

/** Declares /<collection>/:id/metadata[/:key] over `owner`. */
export function metadataRoutes(app: FastifyInstance, collection: 'volumes' | 'snapshots', owner: MetadataOwner): void {
  const base = `/${collection}/:id/metadata`;
  route(app, {
    method: 'GET',
    url: base,
    policy: 'volume:read',
    handler: async ({ auth, params }) => ({ metadata: (await owner.get(auth, params.id!)).metadata }),
  });
  route<Static<typeof MetadataBody>>(app, {
    method: 'POST',
    url: base,
    policy: 'volume:write',
    body: MetadataBody,
    handler: async ({ auth, params, body }) => ({
      metadata: await owner.setMetadata(auth, params.id!, body.metadata, false),
    }),
  });
  route<Static<typeof MetadataBody>>(app, {
    method: 'PUT',
    url: base,
    policy: 'volume:write',
    body: MetadataBody,
    handler: async ({ auth, params, body }) => ({
      metadata: await owner.setMetadata(auth, params.id!, body.metadata, true),
    }),
  });
  route(app, {
    method: 'GET',
    url: `${base}/:key`,
    policy: 'volume:read',
    handler: async ({ auth, params }) => {
      const m = (await owner.get(auth, params.id!)).metadata;
      if (!(params.key! in m)) throw notFound('Metadata item was not found.');
      return { meta: { [params.key!]: m[params.key!] } };
    },
  });
  route<Static<typeof MetaItemBody>>(app, {
    method: 'PUT',
    url: `${base}/:key`,
    policy: 'volume:write',
    body: MetaItemBody,
    handler: async ({ auth, params, body }) => {
      if (!(params.key! in body.meta)) throw badRequest('Request body and URI mismatch');
      await owner.setMetadata(auth, params.id!, body.meta, false);
      return { meta: body.meta };
    },
  });
  route(app, {
    method: 'DELETE',
    url: `${base}/:key`,
    policy: 'volume:write',
    handler: async ({ auth, params }) => {
      await owner.deleteMetadata(auth, params.id!, params.key!);
    },
  });
}
