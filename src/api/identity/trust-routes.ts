import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { Trust } from '../../services/identity/trusts.js';
import type { Role } from '../../services/identity/roles.js';
import { enforce, allowed } from '../../services/policy.js';
import { expiryWithZ } from '../../services/identity/delegation.js';
import { notFound } from '../../errors.js';
import { ctxOf } from '../http/service-api.js';
import { flatQuery } from './crud.js';
import type { Views } from './views.js';

type Obj = Record<string, unknown>;

/** OS-TRUST: /v3/OS-TRUST/trusts and the roles each trust delegates. */
export function trustRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const trusts = deps.identity.trusts;
  const base = '/v3/OS-TRUST/trusts';
  const view = (t: Trust, roles?: Role[]) => {
    const out: Obj = {
      ...t.extra, id: t.id, trustor_user_id: t.trustor_user_id, trustee_user_id: t.trustee_user_id, project_id: t.project_id,
      impersonation: t.impersonation, expires_at: expiryWithZ(t.expires_at), remaining_uses: t.remaining_uses,
      redelegated_trust_id: t.redelegated_trust_id, redelegation_count: t.redelegation_count, allow_redelegation: t.allow_redelegation,
      links: v.self(`/OS-TRUST/trusts/${t.id}`),
    };
    if (roles) {
      out.roles = roles.map((r) => v.role(r));
      out.roles_links = v.collection(`/OS-TRUST/trusts/${t.id}/roles`);
    }
    return out;
  };
  const readable = async (req: FastifyRequest) => {
    const { trust_id } = req.params as { trust_id: string };
    const t = await trusts.get(trust_id);
    enforce(ctxOf(req).auth, 'identity:trust_read', { trustor_user_id: t.trustor_user_id, trustee_user_id: t.trustee_user_id });
    return t;
  };

  app.post(base, { schema: { body: { type: 'object', required: ['trust'], properties: { trust: { type: 'object' } } } } }, async (req, reply) => {
    const auth = ctxOf(req).auth;
    const body = (req.body as { trust: Obj }).trust;
    if (typeof body.trustor_user_id === 'string') enforce(auth, 'identity:trust_create', { trustor_user_id: body.trustor_user_id });
    const t = await trusts.create(auth, body);
    reply.code(201);
    return { trust: view(t, await trusts.rolesOf(t)) };
  });

  app.get(base, async (req) => {
    const auth = ctxOf(req).auth;
    const q = flatQuery(req);
    const f: { trustor_user_id?: string; trustee_user_id?: string } = {};
    if (q.trustor_user_id) f.trustor_user_id = q.trustor_user_id;
    if (q.trustee_user_id) f.trustee_user_id = q.trustee_user_id;
    if (!f.trustor_user_id && !f.trustee_user_id) {
      enforce(auth, 'identity:list_trusts_any');
    } else if (!allowed(auth, 'identity:list_trusts_any') && f.trustor_user_id !== auth.userId && f.trustee_user_id !== auth.userId) {
      // Non-admins list only trusts they are a party to, and must filter by themselves to do so.
      enforce(auth, 'identity:list_trusts_any');
    }
    const list = await trusts.list(f);
    return { trusts: list.map((t) => view(t)), links: v.collection('/OS-TRUST/trusts', new URLSearchParams(q).toString()) };
  });

  app.get(`${base}/:trust_id`, async (req) => {
    const t = await readable(req);
    return { trust: view(t, await trusts.rolesOf(t)) };
  });

  app.delete(`${base}/:trust_id`, async (req, reply) => {
    const auth = ctxOf(req).auth;
    const { trust_id } = req.params as { trust_id: string };
    const t = await trusts.get(trust_id);
    enforce(auth, 'identity:trust_delete', { trustor_user_id: t.trustor_user_id, trustee_user_id: t.trustee_user_id });
    await trusts.delete(auth, trust_id);
    reply.code(204).send();
  });

  app.get(`${base}/:trust_id/roles`, async (req) => {
    const t = await readable(req);
    const roles = await trusts.rolesOf(t);
    return { roles: roles.map((r) => v.role(r)), links: v.collection(`/OS-TRUST/trusts/${t.id}/roles`) };
  });

  const delegatedRole = async (req: FastifyRequest) => {
    const t = await readable(req);
    const { role_id } = req.params as { role_id: string };
    const role = (await trusts.rolesOf(t)).find((r) => r.id === role_id);
    if (!role) throw notFound(`Could not find role: ${role_id}.`);
    return role;
  };
  app.get(`${base}/:trust_id/roles/:role_id`, { exposeHeadRoute: false }, async (req) => ({ role: v.role(await delegatedRole(req)) }));
  app.head(`${base}/:trust_id/roles/:role_id`, async (req, reply) => {
    await delegatedRole(req);
    reply.code(200).send();
  });
}
