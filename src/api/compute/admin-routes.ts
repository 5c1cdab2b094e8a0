import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import type { ComputeNodeRow, MigrationRow } from '../../services/compute/model.js';
import { enforce } from '../../services/policy.js';
import { isAdmin } from '../../services/auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import { novaTime, novaTimeMicro } from '../../services/compute/common.js';
import { ctxOf } from '../http/service-api.js';
import { qBool, qInt, qStr, type Json } from './body.js';
import { toBool, toInt } from './schemas/common.js';
import {
  AggregateActionBody,
  AggregateCreateBody,
  AggregateUpdateBody,
  ServerGroupCreateBody,
  serverGroupCreateVersions,
  ServiceUpdateBody,
  serviceUpdateVersions,
} from './schemas/resources.js';
import { versioned } from './schemas/versions.js';
import { uptimeLine } from './host-uptime.js';
import { mv, type ApiVersion } from './microversion.js';
import type { ComputeViews } from './views.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';

/**
 * os-services, os-hypervisors, os-availability-zone, os-aggregates, os-server-groups, os-simple-tenant-usage,
 * os-migrations.
 */
export function adminRoutes(app: FastifyInstance, compute: ComputeService, v: ComputeViews): void {
  const admin = (req: FastifyRequest) => enforce(ctxOf(req).auth, 'compute:admin');
  const hosts = compute.hosts;

  // os-services
  const serviceView = (s: Awaited<ReturnType<typeof hosts.listServices>>[number], ver: ApiVersion) => ({
    id: ver.atLeast('2.53') ? s.id : Math.abs(hashInt(s.id)),
    binary: s.binary,
    host: s.host,
    zone: s.zone,
    status: s.disabled ? 'disabled' : 'enabled',
    state: s.up ? 'up' : 'down',
    updated_at: novaTimeMicro(s.last_seen_at),
    disabled_reason: s.disabled_reason,
    ...(ver.atLeast('2.11') ? { forced_down: s.forced_down === 1 } : {}),
  });
  app.get('/os-services', op('compute:os-services:list', { schema: { querystring: pagedQuery() } }), async (req) => {
    admin(req);
    const q = req.query as Json;
    const list = await hosts.listServices({ binary: qStr(q, 'binary'), host: qStr(q, 'host') });
    return { services: list.map((s) => serviceView(s, mv(req))) };
  });
  app.put(
    '/os-services/:id',
    op('compute:os-services:update', { schema: { body: ServiceUpdateBody }, ...versioned(serviceUpdateVersions) }),
    async (req) => {
      admin(req);
      const ver = mv(req);
      const id = (req.params as { id: string }).id;
      const b = req.body as ServiceUpdateBody;
      if (!ver.atLeast('2.53')) {
        // enable, disable, disable-log-reason, force-down with {host, binary}
        if (b.host === undefined || b.binary === undefined)
          throw badRequest(
            `Invalid input for field/attribute service. '${b.host === undefined ? 'host' : 'binary'}' is a required ` +
              `property`,
          );
        const svc = await hosts.findService(b.binary, b.host);
        let out;
        if (id === 'enable') out = await hosts.updateService(svc.id, { disabled: false });
        else if (id === 'disable') out = await hosts.updateService(svc.id, { disabled: true });
        else if (id === 'disable-log-reason')
          out = await hosts.updateService(svc.id, {
            disabled: true,
            disabledReason:
              b.disabled_reason ??
              (() => {
                throw badRequest("Invalid input for field/attribute service. 'disabled_reason' is a required property");
              })(),
          });
        else if (id === 'force-down' && ver.atLeast('2.11'))
          out = await hosts.updateService(svc.id, { forcedDown: toBool(b.forced_down) ?? false });
        else throw notFound('Unknown action');
        compute.scheduler.invalidate();
        const view: Json = { host: out.host, binary: out.binary };
        if (id === 'force-down') view.forced_down = out.forced_down === 1;
        else view.status = out.disabled ? 'disabled' : 'enabled';
        if (id === 'disable-log-reason') view.disabled_reason = out.disabled_reason;
        return { service: view };
      }
      const status = b.status;
      if (b.disabled_reason !== undefined && status !== 'disabled')
        throw badRequest('Specifying a disabled reason is only allowed when disabling a service.');
      if (Object.keys(b).length === 0)
        throw badRequest('No updates were requested. Fields status or forced_down should be specified.');
      const out = await hosts.updateService(id, {
        disabled: status === undefined ? undefined : status === 'disabled',
        disabledReason: b.disabled_reason,
        forcedDown: toBool(b.forced_down),
      });
      compute.scheduler.invalidate();
      return { service: serviceView(out, ver) };
    },
  );
  app.delete('/os-services/:id', op('compute:os-services:delete'), async (req, reply) => {
    admin(req);
    await hosts.deleteService((req.params as { id: string }).id);
    compute.scheduler.invalidate();
    return reply.code(204).send();
  });

  // os-hypervisors
  const hvView = async (n: ComputeNodeRow, ver: ApiVersion, detail: boolean, withServers = false) => {
    const svc = (await hosts.listServices({ binary: 'nova-compute', host: n.host }))[0];
    const out: Json = {
      id: ver.atLeast('2.53') ? n.id : Math.abs(hashInt(n.id)),
      hypervisor_hostname: n.hypervisor_hostname,
      state: svc?.up ? 'up' : 'down',
      status: svc?.disabled ? 'disabled' : 'enabled',
    };
    if (detail) {
      const usage = await compute.hostUsage(n.host);
      Object.assign(out, {
        host_ip: n.host_ip,
        hypervisor_type: n.hypervisor_type,
        hypervisor_version: n.hypervisor_version,
        service: {
          host: n.host,
          id: ver.atLeast('2.53') ? svc?.id : Math.abs(hashInt(svc?.id ?? n.id)),
          disabled_reason: svc?.disabled_reason ?? null,
        },
      });
      if (!ver.atLeast('2.88')) {
        Object.assign(out, {
          vcpus: n.vcpus,
          memory_mb: n.memory_mb,
          local_gb: n.local_gb,
          vcpus_used: n.vcpus_used,
          memory_mb_used: n.memory_mb_used,
          local_gb_used: n.local_gb_used,
          free_ram_mb: n.memory_mb - n.memory_mb_used,
          free_disk_gb: n.local_gb - n.local_gb_used,
          current_workload: 0,
          running_vms: n.running_vms,
          // Nova's libvirt driver reports the file system's real free space here, not capacity minus claims.
          disk_available_least: usage ? usage.diskFreeGb : n.local_gb - n.local_gb_used,
          cpu_info: ver.atLeast('2.28') ? JSON.parse(n.cpu_info) : n.cpu_info,
        });
      } else {
        out.uptime = uptimeLine(usage);
      }
    }
    if (withServers) {
      const rows = await compute.reports.instancesOnHost(n.host);
      out.servers = rows.map((r) => ({ uuid: r.id, name: r.name }));
    }
    return out;
  };
  const listHv = async (req: FastifyRequest, detail: boolean) => {
    admin(req);
    const ver = mv(req);
    const q = req.query as Json;
    let nodes = await hosts.listNodes();
    const pattern = ver.atLeast('2.53') ? qStr(q, 'hypervisor_hostname_pattern') : undefined;
    if (pattern) nodes = nodes.filter((n) => n.hypervisor_hostname.includes(pattern));
    const marker = ver.atLeast('2.33') ? qStr(q, 'marker') : undefined;
    if (marker !== undefined) {
      const i = nodes.findIndex((n) => n.id === marker || String(Math.abs(hashInt(n.id))) === marker);
      if (i < 0) throw badRequest(`marker [${marker}] not found`);
      nodes = nodes.slice(i + 1);
    }
    const limit = ver.atLeast('2.33') ? qInt(q, 'limit') : undefined;
    if (limit !== undefined) nodes = nodes.slice(0, limit);
    const withServers = ver.atLeast('2.53') && qBool(q, 'with_servers') === true;
    const list = await Promise.all(nodes.map((n) => hvView(n, ver, detail, withServers)));
    const out: Json = { hypervisors: list };
    if (limit !== undefined && nodes.length === limit && limit > 0) {
      out.hypervisors_links = [
        {
          rel: 'next',
          href: `${v.base}/os-hypervisors${detail ? '/detail' : ''}?limit=${limit}&marker=${list[list.length - 1]!.id}`,
        },
      ];
    }
    return out;
  };
  app.get('/os-hypervisors', op('compute:os-hypervisors:list'), async (req) => listHv(req, false));
  app.get('/os-hypervisors/detail', op('compute:os-hypervisors:list-detail'), async (req) => listHv(req, true));
  const findNode = async (id: string) => {
    const nodes = await hosts.listNodes();
    const n = nodes.find((x) => x.id === id || String(Math.abs(hashInt(x.id))) === id);
    if (!n) throw notFound(`Hypervisor ${id} could not be found.`, { code: 'ComputeHostNotFound' });
    return n;
  };
  app.get('/os-hypervisors/statistics', op('compute:os-hypervisors:statistics'), async (req) => {
    admin(req);
    const nodes = await hosts.listNodes();
    const sum = (f: (n: ComputeNodeRow) => number) => nodes.reduce((a, n) => a + f(n), 0);
    const free = new Map<string, number>();
    for (const n of nodes) {
      const u = await compute.hostUsage(n.host);
      if (u) free.set(n.host, u.diskFreeGb);
    }
    return {
      hypervisor_statistics: {
        count: nodes.length,
        vcpus: sum((n) => n.vcpus),
        memory_mb: sum((n) => n.memory_mb),
        local_gb: sum((n) => n.local_gb),
        vcpus_used: sum((n) => n.vcpus_used),
        memory_mb_used: sum((n) => n.memory_mb_used),
        local_gb_used: sum((n) => n.local_gb_used),
        free_ram_mb: sum((n) => n.memory_mb - n.memory_mb_used),
        free_disk_gb: sum((n) => n.local_gb - n.local_gb_used),
        current_workload: 0,
        running_vms: sum((n) => n.running_vms),
        disk_available_least: sum((n) => free.get(n.host) ?? n.local_gb - n.local_gb_used),
      },
    };
  });
  app.get(
    '/os-hypervisors/:id',
    op('compute:os-hypervisors:show', { schema: { querystring: pagedQuery() } }),
    async (req) => {
      admin(req);
      const ver = mv(req);
      return {
        hypervisor: await hvView(
          await findNode((req.params as { id: string }).id),
          ver,
          true,
          ver.atLeast('2.53') && qBool(req.query as Json, 'with_servers') === true,
        ),
      };
    },
  );
  app.get('/os-hypervisors/:id/uptime', op('compute:os-hypervisors:uptime'), async (req) => {
    admin(req);
    const n = await findNode((req.params as { id: string }).id);
    return {
      hypervisor: {
        ...(await hvView(n, mv(req), false)),
        uptime: uptimeLine(await compute.hostUsage(n.host)),
      },
    };
  });
  app.get('/os-hypervisors/:pattern/search', op('compute:os-hypervisors:search'), async (req) => {
    admin(req);
    const p = (req.params as { pattern: string }).pattern;
    const nodes = (await hosts.listNodes()).filter((n) => n.hypervisor_hostname.includes(p));
    if (nodes.length === 0) throw notFound(`No hypervisor matching '${p}' could be found.`);
    return { hypervisors: await Promise.all(nodes.map((n) => hvView(n, mv(req), false))) };
  });
  app.get('/os-hypervisors/:pattern/servers', op('compute:os-hypervisors:servers'), async (req) => {
    admin(req);
    const p = (req.params as { pattern: string }).pattern;
    const nodes = (await hosts.listNodes()).filter((n) => n.hypervisor_hostname.includes(p));
    if (nodes.length === 0) throw notFound(`No hypervisor matching '${p}' could be found.`);
    return { hypervisors: await Promise.all(nodes.map((n) => hvView(n, mv(req), false, true))) };
  });

  // os-availability-zone
  app.get('/os-availability-zone', op('compute:os-availability-zone:list'), async () => {
    const zones = new Set([compute.options.defaultAvailabilityZone, ...(await hosts.hostZones()).values()]);
    return {
      availabilityZoneInfo: [...zones].map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: null })),
    };
  });
  app.get('/os-availability-zone/detail', op('compute:os-availability-zone:detail'), async (req) => {
    admin(req);
    const services = await hosts.listServices();
    const byZone = new Map<string, Record<string, Record<string, Json>>>();
    for (const s of services) {
      const z = byZone.get(s.zone) ?? {};
      z[s.host] ??= {};
      z[s.host]![s.binary] = {
        available: s.up && !s.disabled,
        active: !s.disabled,
        updated_at: novaTimeMicro(s.last_seen_at),
      };
      byZone.set(s.zone, z);
    }
    return {
      availabilityZoneInfo: [...byZone].map(([zone, h]) => ({
        zoneName: zone,
        zoneState: { available: true },
        hosts: h,
      })),
    };
  });

  // os-aggregates
  const aggView = (x: Awaited<ReturnType<typeof compute.aggregates.get>>, ver: ApiVersion) => ({
    id: x.id,
    name: x.name,
    availability_zone: x.availability_zone,
    hosts: x.hosts,
    metadata: x.meta,
    created_at: novaTimeMicro(x.created_at),
    updated_at: novaTimeMicro(x.updated_at),
    deleted_at: null,
    deleted: false,
    ...(ver.atLeast('2.41') ? { uuid: x.uuid } : {}),
  });
  const aggId = (req: FastifyRequest) => {
    const raw = (req.params as { id: string }).id;
    if (!/^-?\d+$/.test(raw)) throw badRequest(`Aggregate ID ${raw} must be an integer.`);
    return Number(raw);
  };
  app.get('/os-aggregates', op('compute:os-aggregates:index'), async (req) => {
    admin(req);
    return { aggregates: (await compute.aggregates.list()).map((x) => aggView(x, mv(req))) };
  });
  app.post(
    '/os-aggregates',
    op('compute:os-aggregates:create', { schema: { body: AggregateCreateBody } }),
    async (req) => {
      admin(req);
      const b = (req.body as AggregateCreateBody).aggregate;
      const x = await compute.aggregates.create(b.name, b.availability_zone ?? null);
      const { hosts: _h, metadata: _m, ...rest } = aggView(x, mv(req));
      return { aggregate: rest };
    },
  );
  app.get('/os-aggregates/:id', op('compute:os-aggregates:show'), async (req) => {
    admin(req);
    return { aggregate: aggView(await compute.aggregates.get(aggId(req)), mv(req)) };
  });
  app.put(
    '/os-aggregates/:id',
    op('compute:os-aggregates:update', { schema: { body: AggregateUpdateBody } }),
    async (req) => {
      admin(req);
      const b = (req.body as AggregateUpdateBody).aggregate;
      return {
        aggregate: aggView(
          await compute.aggregates.update(aggId(req), {
            name: b.name,
            availabilityZone: 'availability_zone' in b ? (b.availability_zone ?? null) : undefined,
          }),
          mv(req),
        ),
      };
    },
  );
  app.delete('/os-aggregates/:id', op('compute:os-aggregates:delete'), async (req, reply) => {
    admin(req);
    await compute.aggregates.delete(aggId(req));
    return reply.code(200).send();
  });
  app.post(
    '/os-aggregates/:id/action',
    op('compute:os-aggregates:action', { schema: { body: AggregateActionBody } }),
    async (req) => {
      admin(req);
      const id = aggId(req);
      const b = req.body as AggregateActionBody;
      if (b.add_host) return { aggregate: aggView(await compute.aggregates.addHost(id, b.add_host.host), mv(req)) };
      if (b.remove_host)
        return { aggregate: aggView(await compute.aggregates.removeHost(id, b.remove_host.host), mv(req)) };
      return { aggregate: aggView(await compute.aggregates.setMetadata(id, b.set_metadata!.metadata), mv(req)) };
    },
  );

  // os-server-groups
  const groupView = (g: Awaited<ReturnType<typeof compute.groups.get>>, ver: ApiVersion) => {
    const rules = JSON.parse(g.rules) as Json;
    return ver.atLeast('2.64')
      ? {
          id: g.id,
          name: g.name,
          policy: g.policy,
          rules,
          members: g.members,
          project_id: g.project_id,
          user_id: g.user_id,
        }
      : {
          id: g.id,
          name: g.name,
          policies: [g.policy],
          members: g.members,
          metadata: {},
          ...(ver.atLeast('2.13') ? { project_id: g.project_id, user_id: g.user_id } : {}),
        };
  };
  app.get(
    '/os-server-groups',
    op('compute:os-server-groups:index', { schema: { querystring: pagedQuery() } }),
    async (req) => {
      const a = ctxOf(req).auth;
      const q = req.query as Json;
      const list = await compute.groups.list(a, {
        allProjects: qBool(q, 'all_projects') === true,
        limit: qInt(q, 'limit'),
        offset: qInt(q, 'offset'),
      });
      return { server_groups: list.map((g) => groupView(g, mv(req))) };
    },
  );
  app.get('/os-server-groups/:id', op('compute:os-server-groups:show'), async (req) => ({
    server_group: groupView(await compute.groups.get(ctxOf(req).auth, (req.params as { id: string }).id), mv(req)),
  }));
  app.delete('/os-server-groups/:id', op('compute:os-server-groups:delete'), async (req, reply) => {
    await compute.groups.delete(ctxOf(req).auth, (req.params as { id: string }).id);
    return reply.code(204).send();
  });
  app.post(
    '/os-server-groups',
    op('compute:os-server-groups:create', {
      schema: { body: ServerGroupCreateBody },
      ...versioned(serverGroupCreateVersions),
    }),
    async (req) => {
      const a = ctxOf(req).auth;
      const ver = mv(req);
      const b = (req.body as ServerGroupCreateBody).server_group;
      const policy = b.policy ?? b.policies![0]!;
      if (!ver.atLeast('2.15') && policy.startsWith('soft-'))
        throw badRequest(`Invalid input for field/attribute policies. Value: ${JSON.stringify(b.policies)}.`);
      const perHost = toInt(b.rules?.max_server_per_host);
      const rules = perHost !== undefined ? { max_server_per_host: perHost } : {};
      return { server_group: groupView(await compute.groups.create(a, b.name, policy, rules), ver) };
    },
  );

  // os-simple-tenant-usage (paged over instances from 2.40: marker, limit, and a next link when the page is full)
  const usageFor = async (req: FastifyRequest, projectId: string | null, detailed: boolean) => {
    const q = req.query as Json;
    const ver = mv(req);
    const end = qStr(q, 'end') ? new Date(qStr(q, 'end')!) : new Date();
    const start = qStr(q, 'start') ? new Date(qStr(q, 'start')!) : new Date(end.getTime() - 24 * 3600 * 1000);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) throw badRequest('Invalid start or end time.');
    if (start > end) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
    const paged = ver.atLeast('2.40');
    const askedLimit = paged ? qInt(q, 'limit') : undefined;
    const report = await compute.usage.report({
      start,
      end,
      projectId,
      marker: paged ? qStr(q, 'marker') : undefined,
      // Nova's [api] max_limit caps every page.
      limit: paged ? Math.min(askedLimit ?? USAGE_MAX_LIMIT, USAGE_MAX_LIMIT) : undefined,
    });
    const usages = report.projects.map((p) => ({
      tenant_id: p.projectId,
      total_hours: p.totalHours,
      total_memory_mb_usage: p.totalMemoryMbUsage,
      total_vcpus_usage: p.totalVcpusUsage,
      total_local_gb_usage: p.totalLocalGbUsage,
      start: novaTimeMicro(report.start.toISOString()),
      stop: novaTimeMicro(report.end.toISOString()),
      ...(detailed
        ? {
            server_usages: p.servers.map((s) => ({
              instance_id: s.instanceId,
              name: s.name,
              hours: s.hours,
              memory_mb: s.memoryMb,
              local_gb: s.localGb,
              vcpus: s.vcpus,
              tenant_id: s.projectId,
              flavor: s.flavor,
              started_at: novaTimeMicro(s.startedAt),
              ended_at: novaTimeMicro(s.endedAt),
              state: s.state,
              uptime: s.uptimeSec,
            })),
          }
        : {}),
    }));
    // As Nova: a next link only when the client gave a limit and the page is full.
    const last = report.page[report.page.length - 1];
    let links: Json[] | undefined;
    if (askedLimit !== undefined && askedLimit > 0 && last && report.page.length === askedLimit) {
      const next = new URLSearchParams();
      for (const [k, val] of Object.entries(q))
        if (k !== 'marker') next.set(k, String(Array.isArray(val) ? val[val.length - 1] : val));
      next.set('marker', last.instanceId);
      links = [
        { rel: 'next', href: `${v.base}/os-simple-tenant-usage${projectId ? `/${projectId}` : ''}?${next.toString()}` },
      ];
    }
    return { usages, links };
  };
  app.get(
    '/os-simple-tenant-usage',
    op('compute:os-simple-tenant-usage:list', { schema: { querystring: pagedQuery() } }),
    async (req) => {
      // '/os-simple-tenant-usage/' names the show of an empty project id, which Nova does not find.
      if (req.url.split('?')[0]!.endsWith('/')) throw notFound('The resource could not be found.');
      admin(req);
      const { usages, links } = await usageFor(req, null, qBool(req.query as Json, 'detailed') === true);
      return { tenant_usages: usages, ...(links ? { tenant_usages_links: links } : {}) };
    },
  );
  app.get(
    '/os-simple-tenant-usage/:pid',
    op('compute:os-simple-tenant-usage:show', {
      schema: { querystring: pagedQuery() },
      target: (req) => ({ project_id: (req.params as { pid: string }).pid }),
    }),
    async (req) => {
      const a = ctxOf(req).auth;
      const pid = (req.params as { pid: string }).pid;
      if (pid === '') throw notFound('The resource could not be found.');
      if (!isAdmin(a) && a.projectId !== pid) enforce(a, 'compute:admin');
      const { usages, links } = await usageFor(req, pid, true);
      return { tenant_usage: usages[0] ?? {}, ...(links ? { tenant_usage_links: links } : {}) };
    },
  );

  // os-migrations and servers/{id}/migrations
  const migView = (m: MigrationRow, ver: ApiVersion) => ({
    id: m.id,
    status: m.status,
    instance_uuid: m.instance_id,
    source_compute: m.source_compute,
    dest_compute: m.dest_compute,
    source_node: m.source_node,
    dest_node: m.dest_node,
    dest_host: m.dest_host ?? '',
    old_instance_type_id: hashInt(m.old_flavor_id ?? '') & 0xffff,
    new_instance_type_id: hashInt(m.new_flavor_id ?? '') & 0xffff,
    created_at: novaTimeMicro(m.created_at),
    updated_at: novaTimeMicro(m.updated_at),
    ...(ver.atLeast('2.23')
      ? {
          migration_type: m.migration_type,
          links: m.migration_type === 'live-migration' && m.status === 'running' ? [] : undefined,
        }
      : {}),
    ...(ver.atLeast('2.59') ? { uuid: m.uuid } : {}),
    ...(ver.atLeast('2.80') ? { project_id: m.project_id, user_id: m.user_id } : {}),
  });
  app.get(
    '/os-migrations',
    op('compute:os-migrations:index', { schema: { querystring: pagedQuery() } }),
    async (req) => {
      admin(req);
      const q = req.query as Json;
      const rows = await compute.reports.migrations({
        status: qStr(q, 'status'),
        instanceId: qStr(q, 'instance_uuid'),
        migrationType: qStr(q, 'migration_type'),
        host: qStr(q, 'host'),
      });
      return { migrations: rows.map((m) => migView(m, mv(req))) };
    },
  );
  app.get('/servers/:id/migrations', op('compute:servers:migrations:index'), async (req) => {
    admin(req);
    const id = (req.params as { id: string }).id;
    await compute.servers.get(ctxOf(req).auth, id);
    const rows = await compute.reports.liveMigrationsInProgress(id);
    return { migrations: rows.map((m) => migView(m, mv(req))) };
  });
  void novaTime;
}

/** Nova's default [api] max_limit: the largest usage page. */
const USAGE_MAX_LIMIT = 1000;

/** A stable small integer for string ids where old microversions show integers. */
export function hashInt(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h & 0x7fffffff || 1;
}
