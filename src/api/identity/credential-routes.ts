import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { Credential } from '../../services/identity/credentials.js';
import { enforce, allowed } from '../../services/policy.js';
import { fromJson } from '../../util/json.js';
import { ctxOf } from '../http/service-api.js';
import { op, type RouteTarget } from '../http/route-policy.js';
import { registerCrud, flatQuery, fromParam, querySchema } from './crud.js';
import type { Views } from './views.js';

type Obj = Record<string, unknown>;
const asUser = (userId: unknown) => ({ user_id: typeof userId === 'string' ? userId : null });

/** /v3/credentials (owner or admin) and the OS-EC2 view of ec2 credentials under /v3/users/{id}/credentials/OS-EC2. */
export function credentialRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const creds = deps.identity.credentials;
  const view = (c: Credential) => ({
    ...c.extra,
    id: c.id,
    user_id: c.user_id,
    project_id: c.project_id,
    type: c.type,
    blob: c.blob,
    links: v.self(`/credentials/${c.id}`),
  });

  // The credential's owner is the target: from the body on create, from the stored row otherwise (404 first).
  const stored: RouteTarget = async (req) =>
    asUser((await creds.get((req.params as { credential_id: string }).credential_id)).user_id);
  registerCrud<Credential>(app, v, {
    path: '/credentials',
    member: 'credential',
    view,
    filters: ['user_id', 'type', 'project_id'],
    rules: {
      create: 'identity:create_credential',
      list: 'identity:list_credentials',
      get: 'identity:get_credential',
      update: 'identity:update_credential',
      remove: 'identity:delete_credential',
    },
    targets: {
      create: (req) => asUser((req.body as { credential?: Obj } | undefined)?.credential?.user_id),
      get: stored,
      update: stored,
      remove: stored,
    },
    create: async (_a, b) => creds.create(b),
    list: async (a, q) => {
      // Non-admins see their own credentials only, whatever they filter on.
      const userId = allowed(a, 'identity:admin') ? q.user_id : a.userId;
      if (q.user_id !== undefined && q.user_id !== userId) return [];
      return creds.list({
        ...(userId !== undefined ? { user_id: userId } : {}),
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.project_id !== undefined ? { project_id: q.project_id } : {}),
      });
    },
    get: async (_a, id) => creds.get(id),
    update: async (a, id, b) => {
      // Moving a credential to another user needs that user's rule too.
      const c = await creds.get(id);
      if (b.user_id !== undefined && b.user_id !== c.user_id)
        enforce(a, 'identity:update_credential', asUser(b.user_id));
      return creds.update(id, b);
    },
    remove: async (_a, id) => {
      await creds.delete(id);
    },
  });

  // OS-EC2.
  const ec2View = (c: Credential) => {
    const b = fromJson<Obj>(c.blob, {});
    return {
      user_id: c.user_id,
      tenant_id: c.project_id,
      access: b.access,
      secret: b.secret,
      trust_id: b.trust_id ?? null,
      ...(b.app_cred_id ? { app_cred_id: b.app_cred_id } : {}),
      links: v.self(`/users/${c.user_id}/credentials/OS-EC2/${String(b.access)}`),
    };
  };
  const ec2 = '/v3/users/:user_id/credentials/OS-EC2';
  type P = { user_id: string; access?: string };
  const ec2User = fromParam('user_id', 'user_id');
  app.post(
    ec2,
    op('identity:ec2_create_credential', { target: ec2User, schema: { body: { type: 'object' } } }),
    async (req, reply) => {
      const auth = ctxOf(req).auth;
      const { user_id } = req.params as P;
      const c = await creds.createEc2(user_id, (req.body as Obj).tenant_id, {
        ...(auth.trustId ? { trustId: auth.trustId } : {}),
        ...(auth.appCredId ? { appCredId: auth.appCredId } : {}),
      });
      reply.code(201);
      return { credential: ec2View(c) };
    },
  );
  app.get(
    ec2,
    op('identity:ec2_list_credentials', { target: ec2User, schema: { querystring: querySchema() } }),
    async (req) => {
      const { user_id } = req.params as P;
      await deps.identity.users.get(user_id);
      const list = await creds.list({ user_id, type: 'ec2' });
      return {
        credentials: list.map(ec2View),
        links: v.collection(`/users/${user_id}/credentials/OS-EC2`, new URLSearchParams(flatQuery(req)).toString()),
      };
    },
  );
  app.get(`${ec2}/:access`, op('identity:ec2_get_credential', { target: ec2User }), async (req) => {
    const { user_id, access } = req.params as Required<P>;
    return { credential: ec2View(await creds.getEc2(user_id, access)) };
  });
  app.delete(`${ec2}/:access`, op('identity:ec2_delete_credential', { target: ec2User }), async (req, reply) => {
    const { user_id, access } = req.params as Required<P>;
    const c = await creds.getEc2(user_id, access);
    await creds.delete(c.id);
    reply.code(204).send();
  });
}
