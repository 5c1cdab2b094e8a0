import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import type { Trust } from '../../services/identity/trusts.js';
import type { Role } from '../../services/identity/roles.js';
import { expiryWithZ } from '../../services/identity/delegation.js';
import { notFound } from '../../errors.js';
import { ctxOf } from '../http/service-api.js';
import { op, type RouteTarget } from '../http/route-policy.js';
import { flatQuery, querySchema } from './crud.js';
import type { Views } from './views.js';

type Obj = Record<string, unknown>;

/** OS-TRUST: /v3/OS-TRUST/trusts and the roles each trust delegates. */
export function trustRoutes(app: FastifyInstance, deps: AppDeps, v: Views): void {
  const trusts = deps.identity.trusts;
  const base = '/v3/OS-TRUST/trusts';
  const view = (t: Trust, roles?: Role[]) => {
    const out: Obj = {
      ...t.extra,
      id: t.id,
      trustor_user_id: t.trustor_user_id,
      trustee_user_id: t.trustee_user_id,
      project_id: t.project_id,
      impersonation: t.impersonation,
      expires_at: expiryWithZ(t.expires_at),
      remaining_uses: t.remaining_uses,
      redelegated_trust_id: t.redelegated_trust_id,
      redelegation_count: t.redelegation_count,
      allow_redelegation: t.allow_redelegation,
      links: v.self(`/OS-TRUST/trusts/${t.id}`),
    };
    if (roles) {
      out.roles = roles.map((r) => v.role(r));
      out.roles_links = v.collection(`/OS-TRUST/trusts/${t.id}/roles`);
    }
    return out;
  };
  // The target of a trust's rules is the stored trust's two parties (a missing trust is a 404 first).
  const parties: RouteTarget = async (req) => {
    const t = await trusts.get((req.params as { trust_id: string }).trust_id);
    return { trustor_user_id: t.trustor_user_id, trustee_user_id: t.trustee_user_id };
  };
  const readable = async (req: FastifyRequest) => trusts.get((req.params as { trust_id: string }).trust_id);
  /** The trustor named in the body (the service answers 400 when there is none). */
  const bodyTrustor: RouteTarget = (req, auth) => {
    const named = (req.body as { trust?: Obj } | undefined)?.trust?.trustor_user_id;
    return { trustor_user_id: typeof named === 'string' ? named : auth.userId };
  };
  /** A list is narrowed to one party by its filter; without one it is everyone's (admins only). */
  const listFilter: RouteTarget = (req) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const one = (x: unknown) =>
      typeof x === 'string' && x ? x : Array.isArray(x) && typeof x.at(-1) === 'string' ? (x.at(-1) as string) : null;
    return { trustor_user_id: one(q.trustor_user_id), trustee_user_id: one(q.trustee_user_id) };
  };

  const trustBody = { type: 'object', required: ['trust'], properties: { trust: { type: 'object' } } };
  app.post(
    base,
    op('identity:create_trust', { target: bodyTrustor, schema: { body: trustBody } }),
    async (req, reply) => {
      const auth = ctxOf(req).auth;
      const body = (req.body as { trust: Obj }).trust;
      const t = await trusts.create(auth, body);
      reply.code(201);
      return { trust: view(t, await trusts.rolesOf(t)) };
    },
  );

  // Non-admins list only trusts they are a party to, and must filter by themselves to do so.
  app.get(
    base,
    op('identity:list_trusts', {
      target: listFilter,
      schema: { querystring: querySchema('trustor_user_id', 'trustee_user_id') },
    }),
    async (req) => {
      const q = flatQuery(req);
      const f: { trustor_user_id?: string; trustee_user_id?: string } = {};
      if (q.trustor_user_id) f.trustor_user_id = q.trustor_user_id;
      if (q.trustee_user_id) f.trustee_user_id = q.trustee_user_id;
      const list = await trusts.list(f);
      return {
        trusts: list.map((t) => view(t)),
        links: v.collection('/OS-TRUST/trusts', new URLSearchParams(q).toString()),
      };
    },
  );

  app.get(`${base}/:trust_id`, op('identity:get_trust', { target: parties }), async (req) => {
    const t = await readable(req);
    return { trust: view(t, await trusts.rolesOf(t)) };
  });

  app.delete(`${base}/:trust_id`, op('identity:delete_trust', { target: parties }), async (req, reply) => {
    const auth = ctxOf(req).auth;
    const { trust_id } = req.params as { trust_id: string };
    await trusts.delete(auth, trust_id);
    reply.code(204).send();
  });

  app.get(`${base}/:trust_id/roles`, op('identity:list_roles_for_trust', { target: parties }), async (req) => {
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
  app.get(
    `${base}/:trust_id/roles/:role_id`,
    op('identity:get_role_for_trust', { target: parties, exposeHeadRoute: false }),
    async (req) => ({ role: v.role(await delegatedRole(req)) }),
  );
  app.head(
    `${base}/:trust_id/roles/:role_id`,
    op('identity:get_role_for_trust', { target: parties }),
    async (req, reply) => {
      await delegatedRole(req);
      reply.code(200).send();
    },
  );
}
