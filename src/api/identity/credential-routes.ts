import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { Credential } from '../../services/identity/credentials.js';
import type { AuthContext } from '../../services/auth-context.js';
import { enforce, allowed } from '../../services/policy.js';
import { fromJson } from '../../util/json.js';
import { ctxOf } from '../http/service-api.js';
import { registerCrud, flatQuery } from './crud.js';
import type { Views } from './views.js';

type Obj = Record<string, unknown>;
const own = (a: AuthContext, userId: unknown) => enforce(a, 'identity:credential', { user_id: typeof userId === 'string' ? userId : null });

/** /v3/credentials (owner or admin) and the OS-EC2 view of ec2 credentials under /v3/users/{id}/credentials/OS-EC2. */
export function credentialRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const creds = deps.identity.credentials;
  const view = (c: Credential) => ({
    ...c.extra, id: c.id, user_id: c.user_id, project_id: c.project_id, type: c.type, blob: c.blob, links: v.self(`/credentials/${c.id}`),
  });

  registerCrud<Credential>(app, v, {
    path: '/credentials', member: 'credential', view,
    create: async (a, b) => { own(a, b.user_id); return creds.create(b); },
    list: async (a, q) => {
      // Non-admins see their own credentials only, whatever they filter on.
      const userId = allowed(a, 'identity:admin') ? q.user_id : a.userId;
      if (q.user_id !== undefined && q.user_id !== userId) return [];
      return creds.list({
        ...(userId !== undefined ? { user_id: userId } : {}), ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.project_id !== undefined ? { project_id: q.project_id } : {}),
      });
    },
    get: async (a, id) => { const c = await creds.get(id); own(a, c.user_id); return c; },
    update: async (a, id, b) => {
      const c = await creds.get(id);
      own(a, c.user_id);
      if (b.user_id !== undefined && b.user_id !== c.user_id) own(a, b.user_id);
      return creds.update(id, b);
    },
    remove: async (a, id) => { const c = await creds.get(id); own(a, c.user_id); await creds.delete(id); },
  });

  // OS-EC2.
  const ec2View = (c: Credential) => {
    const b = fromJson<Obj>(c.blob, {});
    return {
      user_id: c.user_id, tenant_id: c.project_id, access: b.access, secret: b.secret, trust_id: b.trust_id ?? null,
      ...(b.app_cred_id ? { app_cred_id: b.app_cred_id } : {}),
      links: v.self(`/users/${c.user_id}/credentials/OS-EC2/${String(b.access)}`),
    };
  };
  const ec2 = '/v3/users/:user_id/credentials/OS-EC2';
  type P = { user_id: string; access?: string };
  app.post(ec2, { schema: { body: { type: 'object' } } }, async (req, reply) => {
    const auth = ctxOf(req).auth;
    const { user_id } = req.params as P;
    own(auth, user_id);
    const c = await creds.createEc2(user_id, (req.body as Obj).tenant_id, {
      ...(auth.trustId ? { trustId: auth.trustId } : {}), ...(auth.appCredId ? { appCredId: auth.appCredId } : {}),
    });
    reply.code(201);
    return { credential: ec2View(c) };
  });
  app.get(ec2, async (req) => {
    const { user_id } = req.params as P;
    own(ctxOf(req).auth, user_id);
    await deps.identity.users.get(user_id);
    const list = await creds.list({ user_id, type: 'ec2' });
    return { credentials: list.map(ec2View), links: v.collection(`/users/${user_id}/credentials/OS-EC2`, new URLSearchParams(flatQuery(req)).toString()) };
  });
  app.get(`${ec2}/:access`, async (req) => {
    const { user_id, access } = req.params as Required<P>;
    own(ctxOf(req).auth, user_id);
    return { credential: ec2View(await creds.getEc2(user_id, access)) };
  });
  app.delete(`${ec2}/:access`, async (req, reply) => {
    const { user_id, access } = req.params as Required<P>;
    own(ctxOf(req).auth, user_id);
    const c = await creds.getEc2(user_id, access);
    await creds.delete(c.id);
    reply.code(204).send();
  });
}
