import type { FastifyInstance } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import { quotaResources, QUOTA_DEFAULTS } from '../../services/compute/quotas.js';
import { enforce } from '../../services/policy.js';
import { isAdmin } from '../../services/auth-context.js';
import { forbidden } from '../../errors.js';
import { ctxOf } from '../http/service-api.js';
import { qInt, qStr, type Json } from './body.js';
import { toBool, toInt } from './schemas/common.js';
import { KeypairCreateBody, keypairCreateVersions, QuotaClassSetBody, QuotaSetBody } from './schemas/resources.js';
import { onlyResources, versioned } from './schemas/versions.js';
import { mv } from './microversion.js';
import type { ComputeViews } from './views.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';

/** Keypairs, os-quota-sets, os-quota-class-sets and limits. */
export function accountRoutes(app: FastifyInstance, compute: ComputeService, v: ComputeViews): void {
  const kp = compute.keypairs;
  /** The user a keypair call is about: admins may name another with ?user_id= (2.10+). */
  const whose = (req: import('fastify').FastifyRequest): string => {
    const a = ctxOf(req).auth;
    const uid = qStr(req.query as Json, 'user_id');
    if (uid !== undefined && mv(req).atLeast('2.10')) {
      if (uid !== a.userId && !isAdmin(a))
        throw forbidden(`Policy doesn't allow os_compute_api:os-keypairs:index to be performed.`);
      return uid;
    }
    return a.userId;
  };

  app.get('/os-keypairs', op('compute:os-keypairs:index', { schema: { querystring: pagedQuery() } }), async (req) => {
    const ver = mv(req);
    const q = req.query as Json;
    const limit = ver.atLeast('2.35') ? qInt(q, 'limit') : undefined;
    const marker = ver.atLeast('2.35') ? qStr(q, 'marker') : undefined;
    const list = await kp.list(whose(req), { limit, marker });
    const out: Json = { keypairs: list.map((k) => ({ keypair: v.keypair(k, ver) })) };
    if (limit !== undefined && list.length === limit && list.length > 0) {
      out.keypairs_links = [
        {
          rel: 'next',
          href: `${v.base}/os-keypairs?limit=${limit}&marker=${encodeURIComponent(list[list.length - 1]!.name)}`,
        },
      ];
    }
    return out;
  });
  app.get(
    '/os-keypairs/:name',
    op('compute:os-keypairs:show', { schema: { querystring: pagedQuery() } }),
    async (req) => {
      return {
        keypair: v.keypair(await kp.get(whose(req), (req.params as { name: string }).name), mv(req), { full: true }),
      };
    },
  );
  app.delete('/os-keypairs/:name', op('compute:os-keypairs:delete'), async (req, reply) => {
    await kp.delete(whose(req), (req.params as { name: string }).name);
    return reply.code(mv(req).atLeast('2.2') ? 204 : 202).send();
  });
  app.post(
    '/os-keypairs',
    op('compute:os-keypairs:create', { schema: { body: KeypairCreateBody }, ...versioned(keypairCreateVersions) }),
    async (req, reply) => {
      const a = ctxOf(req).auth;
      const ver = mv(req);
      const { name, public_key: publicKey, type, user_id: uid } = (req.body as KeypairCreateBody).keypair;
      let userId = a.userId;
      if (uid !== undefined && uid !== a.userId) {
        if (!isAdmin(a)) throw forbidden(`Policy doesn't allow os_compute_api:os-keypairs:create to be performed.`);
        userId = uid;
      }
      const created = await kp.create(userId, a.projectId, { name, type, publicKey, wideNames: ver.atLeast('2.92') });
      if (ver.atLeast('2.2')) reply.code(201);
      return { keypair: v.keypair(created, ver, { created: true }) };
    },
  );

  // quotas: the project named in the URL is the target
  const projectParam = (req: { params: unknown }) => ({ project_id: (req.params as { pid: string }).pid });
  const quotaBody = (id: string, limits: Record<string, number>, ver: import('./microversion.js').ApiVersion) => {
    const out: Json = { id };
    for (const r of quotaResources(ver)) out[r] = limits[r];
    return out;
  };
  const checkProject = (req: import('fastify').FastifyRequest, pid: string) => {
    const a = ctxOf(req).auth;
    if (!isAdmin(a) && a.projectId !== pid)
      throw forbidden(`Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.`);
  };
  app.get('/os-quota-sets/:pid', op('compute:os-quota-sets:show', { target: projectParam }), async (req) => {
    const pid = (req.params as { pid: string }).pid;
    checkProject(req, pid);
    return { quota_set: quotaBody(pid, await compute.quotas.limits(pid), mv(req)) };
  });
  app.get('/os-quota-sets/:pid/defaults', op('compute:os-quota-sets:defaults'), async (req) => {
    const pid = (req.params as { pid: string }).pid;
    return { quota_set: quotaBody(pid, await compute.quotas.classLimits(), mv(req)) };
  });
  app.get(
    '/os-quota-sets/:pid/detail',
    op('compute:os-quota-sets:detail', { schema: { querystring: pagedQuery() }, target: projectParam }),
    async (req) => {
      const pid = (req.params as { pid: string }).pid;
      checkProject(req, pid);
      const lim = await compute.quotas.limits(pid);
      const a = ctxOf(req).auth;
      const used = await compute.quotas.usage(pid, qStr(req.query as Json, 'user_id') ?? a.userId);
      const out: Json = { id: pid };
      for (const r of quotaResources(mv(req))) out[r] = { limit: lim[r], in_use: used[r] ?? 0, reserved: 0 };
      return { quota_set: out };
    },
  );
  app.put(
    '/os-quota-sets/:pid',
    op('compute:os-quota-sets:update', { schema: { body: QuotaSetBody } }),
    async (req) => {
      enforce(ctxOf(req).auth, 'compute:admin');
      const pid = (req.params as { pid: string }).pid;
      const ver = mv(req);
      const { force: forceRaw, ...limits } = (req.body as QuotaSetBody).quota_set;
      onlyResources(limits, quotaResources(ver), 'quota_set');
      const force = toBool(forceRaw) ?? false;
      const values: Record<string, number> = {};
      for (const [k, val] of Object.entries(limits)) values[k] = toInt(val as number | string);
      await compute.quotas.update(pid, values, force);
      const lim = await compute.quotas.limits(pid);
      const { id: _id, ...rest } = quotaBody(pid, lim, ver);
      return { quota_set: rest };
    },
  );
  app.delete('/os-quota-sets/:pid', op('compute:os-quota-sets:delete'), async (req, reply) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    await compute.quotas.reset((req.params as { pid: string }).pid);
    return reply.code(202).send();
  });
  app.get('/os-quota-class-sets/:name', op('compute:os-quota-class-sets:show'), async (req) => {
    enforce(ctxOf(req).auth, 'compute:admin');
    const name = (req.params as { name: string }).name;
    const lim = name === 'default' ? await compute.quotas.classLimits() : { ...QUOTA_DEFAULTS };
    return { quota_class_set: quotaBody(name, lim, mv(req)) };
  });
  app.put(
    '/os-quota-class-sets/:name',
    op('compute:os-quota-class-sets:update', { schema: { body: QuotaClassSetBody } }),
    async (req) => {
      enforce(ctxOf(req).auth, 'compute:admin');
      const name = (req.params as { name: string }).name;
      const values = (req.body as QuotaClassSetBody).quota_class_set;
      onlyResources(values, quotaResources(mv(req)), 'quota_class_set');
      await compute.quotas.updateClass(name, values);
      const { id: _id, ...rest } = quotaBody(name, await compute.quotas.classLimits(name), mv(req));
      return { quota_class_set: rest };
    },
  );

  app.get('/limits', op('compute:limits', { schema: { querystring: pagedQuery() } }), async (req) => {
    const a = ctxOf(req).auth;
    const ver = mv(req);
    let pid = a.projectId ?? '';
    const asked = qStr(req.query as Json, 'tenant_id');
    if (asked && isAdmin(a)) pid = asked;
    const lim = await compute.quotas.limits(pid);
    const used = await compute.quotas.usage(pid, a.userId);
    const absolute: Json = {
      maxTotalInstances: lim.instances,
      maxTotalCores: lim.cores,
      maxTotalRAMSize: lim.ram,
      maxServerMeta: lim.metadata_items,
      maxImageMeta: lim.metadata_items,
      maxTotalKeypairs: lim.key_pairs,
      maxServerGroups: lim.server_groups,
      maxServerGroupMembers: lim.server_group_members,
      totalInstancesUsed: used.instances,
      totalCoresUsed: used.cores,
      totalRAMUsed: used.ram,
      totalServerGroupsUsed: used.server_groups,
    };
    if (!ver.atLeast('2.57'))
      Object.assign(absolute, {
        maxPersonality: lim.injected_files,
        maxPersonalitySize: lim.injected_file_content_bytes,
      });
    if (!ver.atLeast('2.36')) {
      Object.assign(absolute, {
        maxSecurityGroups: lim.security_groups,
        maxSecurityGroupRules: lim.security_group_rules,
        maxTotalFloatingIps: lim.floating_ips,
        totalFloatingIpsUsed: 0,
        totalSecurityGroupsUsed: 0,
      });
    }
    return { limits: { rate: [], absolute } };
  });
}
