import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import type { ServerListQuery } from '../../services/compute/servers.js';
import { diskConfigOf } from '../../services/compute/disk-config.js';
import { extras } from '../../services/compute/model.js';
import { enforce } from '../../services/policy.js';
import { isAdmin } from '../../services/auth-context.js';
import { badRequest, notFound } from '../../errors.js';
import type { Static } from '@sinclair/typebox';
import { MetadataBody, MetaItem, toBool } from './schemas/common.js';
import {
  InterfaceAttachBody,
  interfaceAttachVersions,
  ServerCreateBody,
  serverCreateVersions,
  ServerUpdateBody,
  serverUpdateVersions,
  TagsBody,
} from './schemas/servers.js';
import { versioned } from './schemas/versions.js';
import { accessIps, serverCreateSpec } from './server-specs.js';
import { randomSecret } from '../../util/ids.js';
import { ctxOf } from '../http/service-api.js';
import { qBool, qInt, qList, qStr, type Json } from './body.js';
import { mv, type ApiVersion } from './microversion.js';
import type { ComputeViews } from './views.js';
import { novaTimeMicro } from '../../services/compute/common.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';

/** An ISO 8601 date or date-time, as Nova's changes-since/changes-before accept (not "2011/01/01"). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;

/** Servers: create, list, show, update, delete, metadata, tags, ips, instance actions, interfaces. */
export function serverRoutes(app: FastifyInstance, compute: ComputeService, v: ComputeViews): void {
  const s = compute.servers;
  const rid = (req: FastifyRequest) => req.id;

  const show = async (req: FastifyRequest, id: string) => {
    const a = ctxOf(req).auth;
    const inst = await s.get(a, id);
    let ports = extras(inst).ports;
    if (ports.length) ports = await compute.network.listPorts(inst.id).catch(() => ports);
    const volumes = (await compute.volume?.ofInstance(inst.id)) ?? [];
    return v.server(inst, mv(req), a, { ports, hostStatus: await hostStatus(inst.host), groups: true, volumes });
  };
  const hostStatus = async (host: string | null): Promise<string> => {
    if (!host) return '';
    const svc = (await compute.hosts.listServices({ binary: 'nova-compute', host }))[0];
    if (!svc) return 'UNKNOWN';
    if (!svc.up) return 'DOWN';
    return svc.disabled ? 'MAINTENANCE' : 'UP';
  };

  const create = async (req: FastifyRequest, reply: FastifyReply) => {
    const a = ctxOf(req).auth;
    enforce(a, 'compute:write', { project_id: a.projectId ?? null });
    const body = req.body as ServerCreateBody;
    const { instances, reservationId } = await s.create(a, rid(req), serverCreateSpec(a, body));
    reply.code(202);
    if (toBool(body.server.return_reservation_id)) return { reservation_id: reservationId };
    const first = instances[0]!;
    reply.header('location', `${v.base}/servers/${first.id}`);
    return {
      server: {
        id: first.id,
        links: v.links('servers', first.id),
        'OS-DCF:diskConfig': diskConfigOf(extras(first).systemMetadata),
        security_groups: extras(first).securityGroups.map((n) => ({ name: n })),
        adminPass: body.server.adminPass ?? randomSecret(9).slice(0, 12),
      },
    };
  };
  const createOpts = op('compute:servers:create', {
    schema: { body: ServerCreateBody },
    ...versioned(serverCreateVersions),
  });
  app.post('/servers', createOpts, create);
  // Nova's older name for create with a block device mapping (boot from volume).
  app.post('/os-volumes_boot', createOpts, create);

  const listQuery = (req: FastifyRequest): ServerListQuery => {
    const q = req.query as Json;
    const a = ctxOf(req).auth;
    const admin = isAdmin(a);
    const allRaw = qStr(q, 'all_tenants');
    const allTenants = allRaw !== undefined && (allRaw === '' || qBool(q, 'all_tenants') !== false);
    const sortKeys = qList(q, 'sort_key');
    const sortDirs = qList(q, 'sort_dir').map((d) => {
      if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid input for query parameters sort_dir. Value: ${d}.`);
      return d;
    }) as ('asc' | 'desc')[];
    const changesSince = qStr(q, 'changes-since');
    const changesBefore = qStr(q, 'changes-before');
    for (const [k, t] of [
      ['changes-since', changesSince],
      ['changes-before', changesBefore],
    ] as const) {
      if (t !== undefined && (!ISO_TIME.test(t.trim()) || Number.isNaN(Date.parse(t))))
        throw badRequest(`Invalid input for query parameters ${k}. Value: ${t}. '${t}' is not a 'date-time'`);
    }
    if (changesSince && changesBefore && Date.parse(changesSince) > Date.parse(changesBefore)) {
      throw badRequest('The value of changes-since must be less than or equal to changes-before.');
    }
    const csv = (k: string) => {
      const s2 = qStr(q, k);
      return s2 === undefined ? undefined : s2.split(',').filter(Boolean);
    };
    const ver = mv(req);
    const limit = qInt(q, 'limit');
    return {
      // As Nova: a project filter counts only together with all_tenants (else an admin sees their own project).
      allTenants: admin && allTenants,
      projectId: admin && allTenants ? (qStr(q, 'project_id') ?? qStr(q, 'tenant_id')) : undefined,
      userId: qStr(q, 'user_id'),
      name: qStr(q, 'name'),
      status: qStr(q, 'status'),
      host: qStr(q, 'host'),
      image: qStr(q, 'image'),
      flavor: qStr(q, 'flavor'),
      ip: qStr(q, 'ip'),
      ip6: qStr(q, 'ip6'),
      changesSince,
      changesBefore,
      reservationId: qStr(q, 'reservation_id'),
      availabilityZone: qStr(q, 'availability_zone'),
      deleted: admin ? qBool(q, 'deleted') : undefined,
      locked: ver.atLeast('2.73') ? qBool(q, 'locked') : undefined,
      tags: ver.atLeast('2.26') ? csv('tags') : undefined,
      tagsAny: ver.atLeast('2.26') ? csv('tags-any') : undefined,
      notTags: ver.atLeast('2.26') ? csv('not-tags') : undefined,
      notTagsAny: ver.atLeast('2.26') ? csv('not-tags-any') : undefined,
      vmState: admin ? qStr(q, 'vm_state') : undefined,
      taskState: admin ? qStr(q, 'task_state') : undefined,
      keyName: qStr(q, 'key_name'),
      sortKeys,
      sortDirs,
      limit: limit === undefined ? 1000 : Math.min(limit, 1000),
      marker: qStr(q, 'marker'),
    };
  };
  const nextLinks = (req: FastifyRequest, path: string, rows: { id: string }[], q: ServerListQuery) => {
    const asked = qInt(req.query as Json, 'limit');
    if (asked === undefined || rows.length < Math.min(asked, 1000) || rows.length === 0) return {};
    const params = new URLSearchParams();
    for (const [k, val] of Object.entries(req.query as Json)) if (k !== 'marker') params.set(k, String(val));
    params.set('marker', rows[rows.length - 1]!.id);
    void q;
    return { servers_links: [{ rel: 'next', href: `${v.base}/${path}?${params.toString()}` }] };
  };
  app.get('/servers', op('compute:servers:index', { schema: { querystring: pagedQuery() } }), async (req) => {
    const q = listQuery(req);
    const rows = await s.list(ctxOf(req).auth, q);
    return { servers: rows.map((r) => v.serverBrief(r)), ...nextLinks(req, 'servers', rows, q) };
  });
  app.get('/servers/detail', op('compute:servers:detail', { schema: { querystring: pagedQuery() } }), async (req) => {
    const a = ctxOf(req).auth;
    const q = listQuery(req);
    const rows = await s.list(a, q);
    const ver = mv(req);
    const statuses = new Map<string, string>();
    if (isAdmin(a) && ver.atLeast('2.16'))
      for (const h of new Set(rows.map((r) => r.host).filter((x): x is string => !!x)))
        statuses.set(h, await hostStatus(h));
    const volumes = (await compute.volume?.ofInstances(rows.map((r) => r.id))) ?? new Map();
    return {
      servers: rows.map((r) =>
        v.server(r, ver, a, {
          hostStatus: r.host ? (statuses.get(r.host) ?? 'UP') : '',
          volumes: volumes.get(r.id) ?? [],
        }),
      ),
      ...nextLinks(req, 'servers/detail', rows, q),
    };
  });
  app.get('/servers/:id', op('compute:servers:show'), async (req) => ({
    server: await show(req, (req.params as { id: string }).id),
  }));
  app.put(
    '/servers/:id',
    op('compute:servers:update', { schema: { body: ServerUpdateBody }, ...versioned(serverUpdateVersions) }),
    async (req) => {
      const a = ctxOf(req).auth;
      const ver = mv(req);
      const b = (req.body as ServerUpdateBody).server;
      const inst = await s.update(a, (req.params as { id: string }).id, {
        name: b.name,
        description: 'description' in b ? (b.description ?? null) : undefined,
        hostname: b.hostname,
        ...accessIps(b),
        diskConfig: b['OS-DCF:diskConfig'],
      });
      // From 2.75 update answers the same representation as show.
      return {
        server: v.server(
          inst,
          ver,
          a,
          ver.atLeast('2.75')
            ? { groups: true, hostStatus: await hostStatus(inst.host) }
            : { minimal: true, groups: true },
        ),
      };
    },
  );
  app.delete('/servers/:id', op('compute:servers:delete'), async (req, reply) => {
    const a = ctxOf(req).auth;
    await compute.serverActions.delete(a, rid(req), (req.params as { id: string }).id);
    return reply.code(204).send();
  });

  // addresses
  app.get('/servers/:id/ips', op('compute:ips:index'), async (req) => {
    const a = ctxOf(req).auth;
    const inst = await s.get(a, (req.params as { id: string }).id);
    const all = v.addresses(extras(inst).ports);
    const strip = Object.fromEntries(
      Object.entries(all).map(([k, l]) => [k, l.map((x) => ({ version: x.version, addr: x.addr }))]),
    );
    return { addresses: strip };
  });
  app.get('/servers/:id/ips/:net', op('compute:ips:show'), async (req) => {
    const a = ctxOf(req).auth;
    const { id, net } = req.params as { id: string; net: string };
    const inst = await s.get(a, id);
    const all = v.addresses(extras(inst).ports);
    const list = all[net];
    if (!list) throw notFound('Instance is not a member of specified network', { code: 'NetworkNotFound' });
    return { [net]: list.map((x) => ({ version: x.version, addr: x.addr })) };
  });

  // metadata
  app.get('/servers/:id/metadata', op('compute:server-metadata:index'), async (req) => ({
    metadata: extras(await s.get(ctxOf(req).auth, (req.params as { id: string }).id)).metadata,
  }));
  app.post(
    '/servers/:id/metadata',
    op('compute:server-metadata:create', { schema: { body: MetadataBody } }),
    async (req) => {
      const md = (req.body as Static<typeof MetadataBody>).metadata;
      return { metadata: await s.setMetadata(ctxOf(req).auth, (req.params as { id: string }).id, md, false) };
    },
  );
  app.put(
    '/servers/:id/metadata',
    op('compute:server-metadata:update_all', { schema: { body: MetadataBody } }),
    async (req) => {
      const md = (req.body as Static<typeof MetadataBody>).metadata;
      return { metadata: await s.setMetadata(ctxOf(req).auth, (req.params as { id: string }).id, md, true) };
    },
  );
  app.get('/servers/:id/metadata/:key', op('compute:server-metadata:show'), async (req) => {
    const { id, key } = req.params as { id: string; key: string };
    const md = extras(await s.get(ctxOf(req).auth, id)).metadata;
    if (!(key in md)) throw notFound('Metadata item was not found', { code: 'MetadataNotFound' });
    return { meta: { [key]: md[key] } };
  });
  app.put(
    '/servers/:id/metadata/:key',
    op('compute:server-metadata:update', { schema: { body: MetaItem } }),
    async (req) => {
      const { id, key } = req.params as { id: string; key: string };
      const meta = (req.body as Static<typeof MetaItem>).meta;
      if (!(key in meta)) throw badRequest('Request body and URI mismatch');
      await s.setMetadata(ctxOf(req).auth, id, meta, false);
      return { meta };
    },
  );
  app.delete('/servers/:id/metadata/:key', op('compute:server-metadata:delete'), async (req, reply) => {
    const { id, key } = req.params as { id: string; key: string };
    await s.deleteMetadataKey(ctxOf(req).auth, id, key);
    return reply.code(204).send();
  });

  // tags (2.26)
  const needTags = (req: FastifyRequest) => {
    if (!mv(req).atLeast('2.26')) throw notFound('The resource could not be found.');
  };
  app.get('/servers/:id/tags', op('compute:os-server-tags:index'), async (req) => {
    needTags(req);
    return { tags: extras(await s.get(ctxOf(req).auth, (req.params as { id: string }).id)).tags };
  });
  app.put('/servers/:id/tags', op('compute:os-server-tags:update_all', { schema: { body: TagsBody } }), async (req) => {
    needTags(req);
    return {
      tags: await s.setTags(
        ctxOf(req).auth,
        (req.params as { id: string }).id,
        (req.body as Static<typeof TagsBody>).tags,
      ),
    };
  });
  app.delete('/servers/:id/tags', op('compute:os-server-tags:delete_all'), async (req, reply) => {
    needTags(req);
    await s.deleteTag(ctxOf(req).auth, (req.params as { id: string }).id, null);
    return reply.code(204).send();
  });
  app.get('/servers/:id/tags/:tag', op('compute:os-server-tags:show'), async (req, reply) => {
    needTags(req);
    const { id, tag } = req.params as { id: string; tag: string };
    if (!extras(await s.get(ctxOf(req).auth, id)).tags.includes(tag)) throw notFound(`Tag ${tag} could not be found.`);
    return reply.code(204).send();
  });
  app.put('/servers/:id/tags/:tag', op('compute:os-server-tags:update', { body: 'none' }), async (req, reply) => {
    needTags(req);
    const { id, tag } = req.params as { id: string; tag: string };
    const added = await s.addTag(ctxOf(req).auth, id, tag);
    reply.header('location', `${v.base}/servers/${id}/tags/${tag}`);
    return reply.code(added ? 201 : 204).send();
  });
  app.delete('/servers/:id/tags/:tag', op('compute:os-server-tags:delete'), async (req, reply) => {
    needTags(req);
    const { id, tag } = req.params as { id: string; tag: string };
    await s.deleteTag(ctxOf(req).auth, id, tag);
    return reply.code(204).send();
  });

  // os-instance-actions
  const actionView = (
    r: {
      action: string;
      instance_id: string;
      request_id: string;
      user_id: string;
      project_id: string;
      start_time: string;
      message: string | null;
      updated_at: string;
    },
    ver: ApiVersion,
  ) => ({
    action: r.action,
    instance_uuid: r.instance_id,
    request_id: r.request_id,
    user_id: r.user_id,
    project_id: r.project_id,
    start_time: novaTimeMicro(r.start_time),
    message: r.message,
    ...(ver.atLeast('2.58') ? { updated_at: novaTimeMicro(r.updated_at) } : {}),
  });
  app.get(
    '/servers/:id/os-instance-actions',
    op('compute:os-instance-actions:list', { schema: { querystring: pagedQuery() } }),
    async (req) => {
      const a = ctxOf(req).auth;
      const id = (req.params as { id: string }).id;
      const ver = mv(req);
      await s.get(a, id, { includeDeleted: ver.atLeast('2.21') });
      const q = req.query as Json;
      const rows = await compute.actions
        .list(id, {
          limit: ver.atLeast('2.58') ? qInt(q, 'limit') : undefined,
          marker: ver.atLeast('2.58') ? qStr(q, 'marker') : undefined,
          changesSince: ver.atLeast('2.58') ? qStr(q, 'changes-since') : undefined,
          changesBefore: ver.atLeast('2.66') ? qStr(q, 'changes-before') : undefined,
        })
        .catch((e: { marker?: string }) => {
          if (e.marker !== undefined) throw badRequest(`Marker ${e.marker} could not be found.`);
          throw e;
        });
      return { instanceActions: rows.map((r) => actionView(r, ver)) };
    },
  );
  app.get('/servers/:id/os-instance-actions/:rid', op('compute:os-instance-actions:show'), async (req) => {
    const a = ctxOf(req).auth;
    const { id, rid: reqId } = req.params as { id: string; rid: string };
    const ver = mv(req);
    await s.get(a, id, { includeDeleted: ver.atLeast('2.21') });
    const got = await compute.actions.get(id, reqId);
    if (!got)
      throw notFound(`Action for request_id ${reqId} on instance ${id} not found`, { code: 'InstanceActionNotFound' });
    const admin = isAdmin(a);
    const events = got.events.map((e) => ({
      event: e.event,
      start_time: novaTimeMicro(e.start_time),
      finish_time: novaTimeMicro(e.finish_time),
      result: e.result,
      ...(admin || !ver.atLeast('2.51') ? { traceback: e.traceback } : {}),
      ...(ver.atLeast('2.62')
        ? {
            hostId: e.host
              ? createHash('sha224')
                  .update(got.action.project_id + e.host)
                  .digest('hex')
              : '',
            ...(admin ? { host: e.host ?? '' } : {}),
          }
        : {}),
      ...(ver.atLeast('2.84') ? { details: e.details } : {}),
    }));
    return { instanceAction: { ...actionView(got.action, ver), ...(admin || ver.atLeast('2.51') ? { events } : {}) } };
  });

  // os-interface
  app.get('/servers/:id/os-interface', op('compute:os-attach-interfaces:list'), async (req) => {
    const inst = await s.get(ctxOf(req).auth, (req.params as { id: string }).id);
    const ports = await compute.network.listPorts(inst.id).catch(() => extras(inst).ports);
    return { interfaceAttachments: ports.map((p) => v.interfaceAttachment(p, mv(req))) };
  });
  app.get('/servers/:id/os-interface/:pid', op('compute:os-attach-interfaces:show'), async (req) => {
    const { id, pid } = req.params as { id: string; pid: string };
    const inst = await s.get(ctxOf(req).auth, id);
    const ports = await compute.network.listPorts(inst.id).catch(() => extras(inst).ports);
    const p = ports.find((x) => x.id === pid);
    if (!p) throw notFound(`Port ${pid} is not attached`, { code: 'PortNotFound' });
    return { interfaceAttachment: v.interfaceAttachment(p, mv(req)) };
  });
  app.post(
    '/servers/:id/os-interface',
    op('compute:os-attach-interfaces:create', {
      schema: { body: InterfaceAttachBody },
      ...versioned(interfaceAttachVersions),
    }),
    async (req) => {
      const a = ctxOf(req).auth;
      const o = (req.body as InterfaceAttachBody | undefined)?.interfaceAttachment ?? {};
      if (o.port_id && o.net_id) throw badRequest('Must not input both network_id and port_id');
      const port = await compute.serverActions.attachInterface(a, rid(req), (req.params as { id: string }).id, {
        networkId: o.net_id,
        portId: o.port_id,
        fixedIp: o.fixed_ips?.[0]?.ip_address,
      });
      return { interfaceAttachment: v.interfaceAttachment(port, mv(req)) };
    },
  );
  app.delete('/servers/:id/os-interface/:pid', op('compute:os-attach-interfaces:delete'), async (req, reply) => {
    const { id, pid } = req.params as { id: string; pid: string };
    await compute.serverActions.detachInterface(ctxOf(req).auth, rid(req), id, pid);
    return reply.code(202).send();
  });
}
