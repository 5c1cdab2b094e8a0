import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeService } from '../../services/compute/index.js';
import { extras } from '../../services/compute/model.js';
import type { ProjectHostUsage } from '../../services/compute/reports.js';
import { passwordOf } from '../../services/metadata/model.js';
import { enforce } from '../../services/policy.js';
import { badRequest, CloudError, invalidState, notFound } from '../../errors.js';
import { ctxOf } from '../http/service-api.js';
import type { Json } from './body.js';
import { ExternalEventsBody, HostUpdateBody } from './schemas/resources.js';
import { mv } from './microversion.js';
import { diagnostics248, legacyDiagnostics } from './diagnostics.js';
import { op } from '../http/route-policy.js';
import { pagedQuery } from '../http/query-schemas.js';

/** The binaries os-hosts leaves out (API services) and the topic each other one reports as. */
const TOPIC: Record<string, string> = {
  'nova-compute': 'compute',
  'nova-scheduler': 'scheduler',
  'nova-conductor': 'conductor',
};

/** External event names by the microversion that introduced them. */
const EVENT_NAMES: [string, string][] = [
  ['network-changed', '2.1'],
  ['network-vif-plugged', '2.1'],
  ['network-vif-unplugged', '2.1'],
  ['network-vif-deleted', '2.1'],
  ['volume-extended', '2.51'],
  ['power-update', '2.76'],
  ['accelerator-request-bound', '2.82'],
  ['volume-reimaged', '2.93'],
];

/** The API extensions this cloud serves, as Nova's /extensions names them (alias, name, what it covers). */
const EXTENSIONS: [string, string, string][] = [
  ['OS-DCF', 'DiskConfig', 'Disk configuration attribute on servers and images.'],
  ['OS-EXT-AZ', 'ExtendedAvailabilityZone', 'Availability zone of a server.'],
  ['OS-EXT-IMG-SIZE', 'ImageSize', 'Image size in image views.'],
  ['OS-EXT-IPS', 'ExtendedIps', 'Address type (fixed or floating) in server addresses.'],
  ['OS-EXT-IPS-MAC', 'ExtendedIpsMac', 'MAC address in server addresses.'],
  ['OS-EXT-SRV-ATTR', 'ExtendedServerAttributes', 'Host and hypervisor attributes of a server (admin).'],
  ['OS-EXT-STS', 'ExtendedStatus', 'vm_state, task_state and power_state of a server.'],
  ['OS-FLV-DISABLED', 'FlavorDisabled', 'Disabled flag of flavors.'],
  ['OS-FLV-EXT-DATA', 'FlavorExtraData', 'Ephemeral disk size of flavors.'],
  ['OS-SCH-HNT', 'SchedulerHints', 'Scheduler hints at server create.'],
  ['OS-SRV-USG', 'ServerUsage', 'Launch and termination times of servers.'],
  ['os-access-ips', 'AccessIPs', 'accessIPv4 and accessIPv6 of servers.'],
  ['os-admin-actions', 'AdminActions', 'Reset state and other admin server actions.'],
  ['os-admin-password', 'AdminPassword', 'changePassword server action.'],
  ['os-aggregates', 'Aggregates', 'Host aggregates.'],
  ['os-attach-interfaces', 'AttachInterfaces', 'Attaching and detaching server ports.'],
  ['os-availability-zone', 'AvailabilityZone', 'Availability zones.'],
  ['os-block-device-mapping', 'BlockDeviceMapping', 'Block device mappings at server create.'],
  ['os-block-device-mapping-v2-boot', 'BlockDeviceMappingV2Boot', 'block_device_mapping_v2 at server create.'],
  ['os-config-drive', 'ConfigDrive', 'Config drive at server create.'],
  ['os-console-output', 'ConsoleOutput', 'Server console log.'],
  ['os-consoles', 'Consoles', 'Remote consoles of servers.'],
  ['os-create-backup', 'CreateBackup', 'createBackup server action with rotation.'],
  ['os-deferred-delete', 'DeferredDelete', 'forceDelete and restore server actions.'],
  ['os-extended-quotas', 'ExtendedQuotas', 'Quota details.'],
  ['os-extended-services', 'ExtendedServices', 'Disabling services with a reason.'],
  ['os-extended-services-delete', 'ExtendedServicesDelete', 'Deleting services.'],
  ['os-extended-status', 'ExtendedStatus', 'Extended server status attributes.'],
  ['os-extended-volumes', 'ExtendedVolumes', 'Attached volumes in server views.'],
  ['os-flavor-access', 'FlavorAccess', 'Private flavors and their projects.'],
  ['os-flavor-extra-specs', 'FlavorExtraSpecs', 'Flavor extra specs.'],
  ['os-flavor-manage', 'FlavorManage', 'Creating and deleting flavors.'],
  ['os-flavor-rxtx', 'FlavorRxtx', 'rxtx_factor of flavors.'],
  ['os-flavor-swap', 'FlavorSwap', 'Swap size of flavors.'],
  ['os-floating-ip-pools', 'FloatingIpPools', 'Floating IP pools (external networks).'],
  ['os-floating-ips', 'FloatingIps', 'Floating IPs through the compute API.'],
  ['os-hosts', 'Hosts', 'Hosts and their resources.'],
  ['os-hypervisors', 'Hypervisors', 'Hypervisors and their usage.'],
  ['os-instance-actions', 'InstanceActions', 'Server action records and events.'],
  ['os-instance_usage_audit_log', 'OSInstanceUsageAuditLog', 'Instance usage audit log.'],
  ['os-keypairs', 'Keypairs', 'SSH key pairs.'],
  ['os-lock-server', 'LockServer', 'lock and unlock server actions.'],
  ['os-migrate-server', 'MigrateServer', 'Cold and live migration.'],
  ['os-migrations', 'Migrations', 'Migration records.'],
  ['os-multiple-create', 'MultipleCreate', 'min_count and max_count at server create.'],
  ['os-networks', 'Networks', 'Networks through the compute API.'],
  ['os-pause-server', 'PauseServer', 'pause and unpause server actions.'],
  ['os-personality', 'Personality', 'Personality files at server create.'],
  ['os-preserve-ephemeral-rebuild', 'PreserveEphemeralOnRebuild', 'preserve_ephemeral on rebuild.'],
  ['os-quota-class-sets', 'QuotaClasses', 'Quota classes.'],
  ['os-quota-sets', 'Quotas', 'Project quotas.'],
  ['os-rescue', 'Rescue', 'rescue and unrescue server actions.'],
  ['os-security-groups', 'SecurityGroups', 'Security groups through the compute API.'],
  ['os-server-diagnostics', 'ServerDiagnostics', 'Server diagnostics.'],
  ['os-server-external-events', 'ServerExternalEvents', 'Events from other services about servers.'],
  ['os-server-group-quotas', 'ServerGroupQuotas', 'Server group quotas.'],
  ['os-server-groups', 'ServerGroups', 'Server groups (affinity policies).'],
  ['os-server-list-multi-status', 'ServerListMultiStatus', 'Several status filters in server lists.'],
  ['os-server-password', 'ServerPassword', 'The password a guest posted.'],
  ['os-server-sort-keys', 'ServerSortKeys', 'Sorting server lists.'],
  ['os-server-start-stop', 'ServerStartStop', 'os-start and os-stop server actions.'],
  ['os-services', 'Services', 'Compute services.'],
  ['os-shelve', 'Shelve', 'shelve, shelveOffload and unshelve server actions.'],
  ['os-simple-tenant-usage', 'SimpleTenantUsage', 'Usage per project.'],
  ['os-suspend-server', 'SuspendServer', 'suspend and resume server actions.'],
  ['os-tenant-networks', 'OSTenantNetworks', 'Project networks through the compute API.'],
  ['os-used-limits', 'UsedLimits', 'Used quota in limits.'],
  ['os-user-data', 'UserData', 'User data at server create.'],
];

const extensionView = ([alias, name, description]: [string, string, string]) => ({
  alias,
  name,
  description,
  links: [],
  namespace: 'http://docs.openstack.org/compute/ext/fake_xml',
  updated: '2014-12-03T00:00:00Z',
});

/** The audit period Nova's instance usage audit uses by default (the last complete month before `before`). */
export function lastAuditPeriod(before: Date): { begin: Date; end: Date } {
  const end = new Date(Date.UTC(before.getUTCFullYear(), before.getUTCMonth(), 1));
  const begin = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
  return { begin, end };
}

/** Python's str(datetime): "2026-10-01 00:00:00". */
const pyTime = (d: Date) =>
  d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, '');

/**
 * os-hosts, os-instance_usage_audit_log, server diagnostics, os-server-external-events, os-server-password, extensions.
 */
export function hostRoutes(app: FastifyInstance, compute: ComputeService): void {
  const admin = (req: FastifyRequest) => enforce(ctxOf(req).auth, 'compute:admin');
  const hosts = compute.hosts;
  const hostsVersion = (req: FastifyRequest) => {
    if (!mv(req).atMost('2.42')) throw notFound('The resource could not be found.');
  };
  const computeHost = async (name: string) => {
    const node = (await hosts.listNodes()).find((n) => n.host === name);
    if (!node) throw notFound(`Compute host ${name} could not be found.`, { code: 'ComputeHostNotFound' });
    return node;
  };

  // os-hosts (2.1-2.42)
  app.get('/os-hosts', op('compute:os-hosts:list', { schema: { querystring: pagedQuery() } }), async (req) => {
    hostsVersion(req);
    admin(req);
    const zone = (req.query as Json).zone;
    const services = (await hosts.listServices()).filter(
      (s) => !s.disabled && TOPIC[s.binary] && (!zone || s.zone === zone),
    );
    return { hosts: services.map((s) => ({ host_name: s.host, service: TOPIC[s.binary]!, zone: s.zone })) };
  });
  app.get('/os-hosts/:host', op('compute:os-hosts:show'), async (req) => {
    hostsVersion(req);
    admin(req);
    const name = (req.params as { host: string }).host;
    const n = await computeHost(name);
    const byProject = await compute.reports.usageOnHost(name);
    const res = (project: string, cpu: number, memory: number, disk: number) => ({
      resource: { host: name, project, cpu, memory_mb: memory, disk_gb: disk },
    });
    const sum = (f: (p: ProjectHostUsage) => number) => byProject.reduce((x, p) => x + f(p), 0);
    return {
      host: [
        res('(total)', n.vcpus, n.memory_mb, n.local_gb),
        res('(used_now)', n.vcpus_used, n.memory_mb_used, n.local_gb_used),
        res(
          '(used_max)',
          sum((p) => p.vcpus),
          sum((p) => p.memoryMb),
          sum((p) => p.diskGb),
        ),
        ...byProject.map((p) => res(p.projectId, p.vcpus, p.memoryMb, p.diskGb)),
      ],
    };
  });
  app.put('/os-hosts/:host', op('compute:os-hosts:update', { schema: { body: HostUpdateBody } }), async (req) => {
    hostsVersion(req);
    admin(req);
    const name = (req.params as { host: string }).host;
    const b = req.body as HostUpdateBody;
    const flag = (val: string | undefined): boolean | undefined =>
      val === undefined ? undefined : val.toLowerCase() === 'enable';
    const status = flag(b.status);
    const maintenance = flag(b.maintenance_mode);
    await computeHost(name);
    if (maintenance !== undefined)
      throw new CloudError('BadRequest', 'Host maintenance mode is not supported by this hypervisor driver.', {
        status: 501,
      });
    const svc = await hosts.findService('nova-compute', name);
    const out = await hosts.updateService(svc.id, { disabled: !status });
    compute.scheduler.invalidate();
    return { host: name, status: out.disabled ? 'disabled' : 'enabled' };
  });
  for (const action of ['startup', 'shutdown', 'reboot']) {
    app.get(`/os-hosts/:host/${action}`, op('compute:os-hosts:power'), async (req) => {
      hostsVersion(req);
      admin(req);
      await computeHost((req.params as { host: string }).host);
      throw new CloudError('BadRequest', `Host power action ${action} is not supported by this hypervisor driver.`, {
        status: 501,
      });
    });
  }

  // os-instance_usage_audit_log: no audit task runs here, so every compute host is reported as not run.
  const auditLog = async (before: Date) => {
    const { begin, end } = lastAuditPeriod(before);
    const computeHosts = [...new Set((await hosts.listServices({ binary: 'nova-compute' })).map((s) => s.host))];
    return {
      period_beginning: pyTime(begin),
      period_ending: pyTime(end),
      num_hosts: computeHosts.length,
      num_hosts_done: 0,
      num_hosts_running: 0,
      num_hosts_not_run: computeHosts.length,
      hosts_not_run: computeHosts,
      total_instances: 0,
      total_errors: 0,
      overall_status: `${computeHosts.length === 0 ? 'ALL' : `0 of ${computeHosts.length}`} hosts done. 0 errors.`,
      log: {},
    };
  };
  app.get('/os-instance_usage_audit_log', op('compute:os-instance-usage-audit-log:list'), async (req) => {
    admin(req);
    return { instance_usage_audit_logs: await auditLog(new Date()) };
  });
  app.get('/os-instance_usage_audit_log/:before', op('compute:os-instance-usage-audit-log:show'), async (req) => {
    admin(req);
    const raw = (req.params as { before: string }).before;
    const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?$/.exec(raw);
    const d = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : null;
    if (!d || Number.isNaN(d.getTime()) || d.getUTCDate() !== +m![3]! || d.getUTCMonth() !== +m![2]! - 1)
      throw badRequest(`Invalid timestamp for date ${raw}`);
    return { instance_usage_audit_log: await auditLog(d) };
  });

  // server diagnostics (admin)
  app.get('/servers/:id/diagnostics', op('compute:os-server-diagnostics'), async (req) => {
    const a = ctxOf(req).auth;
    enforce(a, 'compute:admin');
    const inst = await compute.servers.get(a, (req.params as { id: string }).id);
    if (!inst.host || inst.vm_state === 'building')
      throw invalidState(`Instance ${inst.id} is not ready yet.`, { code: 'InstanceNotReady' });
    const ephemeral = extras(inst).flavor.ephemeral > 0;
    const shape = {
      inst,
      ports: extras(inst).ports,
      disks: 1 + (ephemeral ? 1 : 0) + (inst.config_drive ? 1 : 0),
      hypervisor: compute.driver?.type ?? null,
    };
    const stats = await compute.serverActions.guestStats(inst);
    if (mv(req).atLeast('2.48')) return diagnostics248(shape, stats);
    const out = legacyDiagnostics(shape, stats);
    // Gureum's facts about the guest (e.g. gureum:ssh = 127.0.0.1:PORT), in this free-form view only: the 2.48
    // view has a fixed schema, and the server's metadata belongs to its user.
    for (const [k, val] of Object.entries(await compute.serverActions.guestDetails(inst))) out[`gureum:${k}`] = val;
    return out;
  });

  // os-server-external-events (admin; what Neutron tells Nova)
  app.post(
    '/os-server-external-events',
    op('compute:os-server-external-events:create', { schema: { body: ExternalEventsBody } }),
    async (req, reply) => {
      admin(req);
      const ver = mv(req);
      const { events } = req.body as ExternalEventsBody;
      const names = EVENT_NAMES.filter(([, since]) => ver.atLeast(since)).map(([n]) => n);
      const out: Json[] = [];
      let accepted = 0;
      for (const { name, server_uuid: server, status = 'completed', tag } of events) {
        // Which event names exist depends on the version (EVENT_NAMES), so this one is checked here.
        if (!names.includes(name))
          throw badRequest(
            `Invalid input for field/attribute name. Value: ${name}. '${name}' is not one of ${JSON.stringify(names)}`,
          );
        const host = await compute.reports.hostOf(server);
        const code = host === undefined ? 404 : !host ? 422 : 200;
        if (code === 200) accepted++;
        out.push({ name, server_uuid: server, status, ...(tag !== undefined ? { tag } : {}), code });
      }
      if (accepted === 0) throw notFound('No instances found for any event');
      return reply.code(accepted === events.length ? 200 : 207).send({ events: out });
    },
  );

  // os-server-password: what the guest posted to the metadata service (system_metadata password_0..3)
  app.get('/servers/:id/os-server-password', op('compute:os-server-password:show'), async (req) => {
    const a = ctxOf(req).auth;
    const inst = await compute.servers.get(a, (req.params as { id: string }).id);
    enforce(a, 'compute:read', { project_id: inst.project_id });
    return { password: passwordOf(extras(inst).systemMetadata) };
  });
  app.delete('/servers/:id/os-server-password', op('compute:os-server-password:clear'), async (req, reply) => {
    const a = ctxOf(req).auth;
    const inst = await compute.servers.get(a, (req.params as { id: string }).id);
    enforce(a, 'compute:write', { project_id: inst.project_id });
    await compute.passwords.clear(inst.id);
    return reply.code(204).send();
  });

  // extensions
  app.get('/extensions', op('compute:extensions'), async () => ({ extensions: EXTENSIONS.map(extensionView) }));
  app.get('/extensions/:alias', op('compute:extensions'), async (req) => {
    const alias = (req.params as { alias: string }).alias;
    const ext = EXTENSIONS.find(([x]) => x === alias);
    if (!ext) throw notFound('The resource could not be found.');
    return { extension: extensionView(ext) };
  });
}
