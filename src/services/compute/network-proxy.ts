// Over 400 lines, not yet split: Nova's security-group and floating-IP proxies share the translation of network
// errors and views; splitting them into two modules (issue 10 item 5) is still open.
import { badRequest, CloudError, conflict, forbidden, isCloudError, notFound } from '../../errors.js';
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';
import type { NetworkService } from '../network/index.js';
import { SYSTEM_CONTEXT } from '../network/index.js';
import type { SecurityGroup, Rule } from '../network/security-groups.js';
import { UUID_RE } from './common.js';

/** A security group rule as Nova's proxy API shows it (ingress only; ports as Nova reports them). */
export interface NovaRule {
  id: string;
  parent_group_id: string;
  ip_protocol: string | null;
  from_port: number | null;
  to_port: number | null;
  group: { name?: string; tenant_id?: string };
  ip_range: { cidr?: string };
}

/** A security group as Nova's proxy API shows it. */
export interface NovaGroup {
  id: string;
  name: string;
  description: string;
  tenant_id: string;
  rules: NovaRule[];
}

/** A floating IP as Nova's os-floating-ips shows it. */
export interface NovaFloatingIp {
  id: string;
  ip: string;
  pool: string;
  fixed_ip: string | null;
  instance_id: string | null;
}

/** What a rule create asks for, as Nova's os-security-group-rules body carries it (values unvalidated). */
/** A rule as Nova's legacy API takes it: ports and protocol may be numbers or strings (checked by createRule). */
type Loose = string | number | null;
export interface NovaRuleRequest {
  parent_group_id: string;
  group_id?: string | null;
  ip_protocol?: Loose;
  from_port?: Loose;
  to_port?: Loose;
  cidr?: Loose;
}

/** Re-raises a network error with the status Nova's proxy gives it (`map` by the network status). */
function translate(
  e: unknown,
  map: Partial<Record<number, 'BadRequest' | 'Forbidden' | 'NotFound' | 'Conflict'>>,
): never {
  if (isCloudError(e) && map[e.status]) {
    const kind = map[e.status]!;
    throw new CloudError(kind, e.message, { code: e.code });
  }
  throw e;
}

const isV4Cidr = (s: string) =>
  /^(\d{1,3})(\.\d{1,3}){3}\/(\d{1,2})$/.test(s) &&
  s
    .split('/')[0]!
    .split('.')
    .every((o) => Number(o) <= 255) &&
  Number(s.split('/')[1]) <= 32;
const isV6Cidr = (s: string) =>
  /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(s) && s.includes(':') && Number(s.split('/')[1]) <= 128;

/**
 * Nova's proxy APIs over the network service (os-security-groups, os-security-group-rules, server security groups,
 * os-floating-ips, os-networks): Nova's shapes, validations and status codes, with Neutron doing the work.
 */
export class NetworkProxy {
  constructor(private readonly net: NetworkService) {}

  // --- security groups

  private ruleView(r: Rule, groups: Map<string, { name: string; tenant_id: string } | null>): NovaRule | null {
    let from = r.port_range_min;
    let to = r.port_range_max;
    if (r.protocol && from === null && to === null) {
      [from, to] = ['tcp', 'udp'].includes(r.protocol.toLowerCase()) ? [1, 65535] : [-1, -1];
    }
    const out: NovaRule = {
      id: r.id,
      parent_group_id: r.security_group_id,
      ip_protocol: r.protocol,
      from_port: from,
      to_port: to,
      group: {},
      ip_range: {},
    };
    if (r.remote_group_id) {
      const g = groups.get(r.remote_group_id);
      if (!g) return null;
      out.group = g;
    } else {
      out.ip_range = { cidr: r.remote_ip_prefix || '0.0.0.0/0' };
    }
    return out;
  }

  private async views(rows: SecurityGroup[]): Promise<NovaGroup[]> {
    const ids = rows.map((g) => g.id);
    const rules = ids.length ? await this.net.securityGroups.listRules(SYSTEM_CONTEXT) : [];
    const remote = new Map<string, { name: string; tenant_id: string } | null>(
      rows.map((g) => [g.id, { name: g.name, tenant_id: g.project_id }]),
    );
    const wanted = [...new Set(rules.map((r) => r.remote_group_id).filter((x): x is string => !!x && !remote.has(x)))];
    if (wanted.length) {
      for (const g of await this.net.securityGroups.list(SYSTEM_CONTEXT, { ids: wanted }))
        remote.set(g.id, { name: g.name, tenant_id: g.project_id });
    }
    const byGroup = new Map<string, Rule[]>();
    for (const r of rules)
      if (r.direction === 'ingress' && ids.includes(r.security_group_id))
        byGroup.set(r.security_group_id, [...(byGroup.get(r.security_group_id) ?? []), r]);
    return rows.map((g) => ({
      id: g.id,
      name: g.name,
      description: g.description,
      tenant_id: g.project_id,
      rules: (byGroup.get(g.id) ?? []).map((r) => this.ruleView(r, remote)).filter((r): r is NovaRule => r !== null),
    }));
  }

  private static checkId(id: string): void {
    if (!UUID_RE.test(id)) throw badRequest('Security group id should be uuid');
  }

  private async group(a: AuthContext, id: string): Promise<SecurityGroup> {
    NetworkProxy.checkId(id);
    try {
      return await this.net.securityGroups.get(a, id);
    } catch (e) {
      return translate(e, { 404: 'NotFound' });
    }
  }

  /** The caller's groups (all projects' for an admin asking `all_tenants`), sorted by project then name. */
  async listGroups(
    a: AuthContext,
    opts: { allTenants: boolean; limit?: number; offset?: number },
  ): Promise<NovaGroup[]> {
    const rows = await this.net.securityGroups.list(
      a,
      opts.allTenants && isAdmin(a) ? {} : { projectId: a.projectId ?? '' },
    );
    const page = rows.slice(opts.offset ?? 0, opts.limit === undefined ? undefined : (opts.offset ?? 0) + opts.limit);
    return (await this.views(page)).sort((x, y) =>
      x.tenant_id === y.tenant_id
        ? x.name < y.name
          ? -1
          : x.name > y.name
            ? 1
            : 0
        : x.tenant_id < y.tenant_id
          ? -1
          : 1,
    );
  }

  async getGroup(a: AuthContext, id: string): Promise<NovaGroup> {
    return (await this.views([await this.group(a, id)]))[0]!;
  }

  async createGroup(a: AuthContext, name: string, description: string): Promise<NovaGroup> {
    let g: SecurityGroup;
    try {
      g = await this.net.securityGroups.create(a, { name, description });
    } catch (e) {
      return translate(e, { 400: 'BadRequest', 409: 'Forbidden' });
    }
    await this.net.publish('security_group', 'created', g.id);
    return this.getGroup(a, g.id);
  }

  async updateGroup(a: AuthContext, id: string, name: string, description: string): Promise<NovaGroup> {
    await this.group(a, id);
    try {
      await this.net.securityGroups.update(a, id, { name, description });
    } catch (e) {
      return translate(e, { 400: 'BadRequest', 404: 'NotFound', 409: 'BadRequest' });
    }
    await this.net.publish('security_group', 'updated', id);
    return this.getGroup(a, id);
  }

  async deleteGroup(a: AuthContext, id: string): Promise<void> {
    const g = await this.group(a, id);
    // Nova's proxy never lets anyone remove a project's default group (Neutron lets an admin).
    if (g.name === 'default' && (await this.net.securityGroups.defaultId(g.project_id)) === g.id) {
      throw badRequest('Removing default security group not allowed.');
    }
    const last = await this.net.render('security_group', id);
    try {
      await this.net.securityGroups.delete(a, id);
    } catch (e) {
      // Rules of other groups that name this one as their remote group go with it (Neutron's cascade); the network
      // service checks ports first, so a refusal naming a rule means no port uses the group.
      if (!(isCloudError(e) && e.status === 409 && /in use by rule/.test(e.message)))
        return translate(e, { 404: 'NotFound', 409: 'BadRequest' });
      const peers = (await this.net.securityGroups.listRules(SYSTEM_CONTEXT)).filter(
        (r) => r.remote_group_id === id && r.security_group_id !== id,
      );
      for (const r of peers) {
        await this.net.securityGroups.deleteRule(SYSTEM_CONTEXT, r.id);
        await this.net.publish('security_group', 'updated', r.security_group_id);
      }
      try {
        await this.net.securityGroups.delete(a, id);
      } catch (e2) {
        return translate(e2, { 404: 'NotFound', 409: 'BadRequest' });
      }
    }
    await this.net.publish('security_group', 'deleted', id, last);
  }

  /** Adds one ingress rule the Nova way (checks ports/protocol as Nova does, refuses duplicates with 400). */
  async createRule(a: AuthContext, req: NovaRuleRequest): Promise<NovaRule> {
    if (typeof req.parent_group_id !== 'string' || !UUID_RE.test(req.parent_group_id)) {
      throw badRequest(
        `Invalid input for field/attribute parent_group_id. Value: ${String(req.parent_group_id)}. '${String(req.parent_group_id)}' is not a 'uuid'`,
      );
    }
    if (
      req.group_id !== undefined &&
      req.group_id !== null &&
      (typeof req.group_id !== 'string' || !UUID_RE.test(req.group_id))
    ) {
      throw badRequest(
        `Invalid input for field/attribute group_id. Value: ${String(req.group_id)}. '${String(req.group_id)}' is not a 'uuid'`,
      );
    }
    const parent = await this.group(a, req.parent_group_id);
    const source = req.group_id ? await this.group(a, req.group_id) : null;
    let cidr: string | null = null;
    if (!source) {
      const raw =
        req.cidr === undefined || req.cidr === null || req.cidr === ''
          ? '0.0.0.0/0'
          : decodeURIComponent(String(req.cidr));
      if (!isV4Cidr(raw) && !isV6Cidr(raw)) throw badRequest(`Invalid cidr ${raw}.`);
      const [net, len] = raw.split('/');
      if (net !== '0.0.0.0' && net !== '::' && len === '0') throw badRequest(`Bad prefix for network in cidr ${raw}`);
      cidr = raw;
    }
    const proto =
      req.ip_protocol === undefined || req.ip_protocol === null || req.ip_protocol === ''
        ? null
        : String(req.ip_protocol);
    let from = req.from_port ?? null;
    let to = req.to_port ?? null;
    if (source && proto) {
      const up = proto.toUpperCase();
      if (up === 'ICMP' && from === null && to === null) {
        from = -1;
        to = -1;
      } else if ((up === 'TCP' || up === 'UDP') && from === null && to === null) {
        from = 1;
        to = 65535;
      }
    }
    let fromN: number | null = null;
    let toN: number | null = null;
    if (proto && from !== null && to !== null) {
      fromN = typeof from === 'number' ? from : /^\s*-?\d+\s*$/.test(String(from)) ? Number(from) : NaN;
      toN = typeof to === 'number' ? to : /^\s*-?\d+\s*$/.test(String(to)) ? Number(to) : NaN;
      const up = proto.toUpperCase();
      if (!Number.isInteger(fromN) || !Number.isInteger(toN)) {
        throw badRequest(
          up === 'ICMP'
            ? 'Invalid input received: Type and Code must be integers for ICMP protocol type'
            : 'Invalid input received: To and From ports must be integers',
        );
      }
      if (!['TCP', 'UDP', 'ICMP'].includes(up)) throw badRequest(`Invalid IP protocol ${proto}.`);
      if ((up === 'TCP' || up === 'UDP') && fromN > toN) {
        throw badRequest(`Invalid port range ${fromN}:${toN}. Former value cannot be greater than the later`);
      }
      if ((up === 'TCP' || up === 'UDP') && (fromN < 1 || toN > 65535)) {
        throw badRequest(`Invalid port range ${fromN}:${toN}. Valid ${up} ports should be between 1-65535`);
      }
      if (up === 'ICMP' && (fromN < -1 || fromN > 255 || toN < -1 || toN > 255)) {
        throw badRequest(`Invalid port range ${fromN}:${toN}. For ICMP, the type:code must be valid`);
      }
    } else if (!source) {
      throw badRequest('Not enough parameters to build a valid rule.');
    }
    const protocol =
      proto && fromN !== null ? proto.toLowerCase() : source ? (proto ? proto.toLowerCase() : null) : null;
    // Nova's duplicate test: same remote group, cidr, ports and protocol among the group's ingress rules.
    const existing = (await this.views([parent]))[0]!.rules;
    const mine = { group: source?.id ?? null, cidr: source ? null : cidr, from: fromN, to: toN, protocol };
    const rows = (await this.net.securityGroups.listRules(SYSTEM_CONTEXT)).filter(
      (r) => r.security_group_id === parent.id && r.direction === 'ingress',
    );
    for (const r of rows) {
      const v = existing.find((x) => x.id === r.id);
      if (!v) continue;
      if (
        (r.remote_group_id ?? null) === mine.group &&
        (r.remote_group_id ? null : (v.ip_range.cidr ?? null)) === mine.cidr &&
        v.from_port === mine.from &&
        v.to_port === mine.to &&
        (r.protocol ?? null) === mine.protocol
      ) {
        throw badRequest(`This rule already exists in group ${parent.id}`);
      }
    }
    const body: Record<string, unknown> = {
      security_group_id: parent.id,
      direction: 'ingress',
      protocol,
      ethertype: cidr?.includes(':') ? 'IPv6' : 'IPv4',
      remote_ip_prefix: source ? null : cidr,
      remote_group_id: source?.id ?? null,
    };
    if (fromN !== null && fromN !== -1) body.port_range_min = fromN;
    if (toN !== null && toN !== -1) body.port_range_max = toN;
    let made: Rule;
    try {
      made = (await this.net.securityGroups.createRules(a, [body]))[0]!;
    } catch (e) {
      return translate(e, { 400: 'BadRequest', 404: 'NotFound', 409: 'Forbidden' });
    }
    await this.net.publish('security_group', 'updated', parent.id);
    const groups = new Map<string, { name: string; tenant_id: string } | null>();
    if (source) groups.set(source.id, { name: source.name, tenant_id: source.project_id });
    const view = this.ruleView(made, groups)!;
    // The answer names the cidr as asked ("10.2.3.124/24"), as Nova relays Neutron's remote_ip_prefix.
    if (!source && cidr) view.ip_range = { cidr };
    return view;
  }

  async deleteRule(a: AuthContext, id: string): Promise<void> {
    if (!UUID_RE.test(id)) throw badRequest('Security group id should be uuid');
    let rule: Rule;
    try {
      rule = await this.net.securityGroups.getRule(a, id);
      await this.net.securityGroups.deleteRule(a, id);
    } catch (e) {
      return translate(e, { 404: 'NotFound', 409: 'Conflict' });
    }
    await this.net.publish('security_group', 'updated', rule.security_group_id);
  }

  /** The groups on an instance's ports (as the caller may see them). */
  async serverGroups(a: AuthContext, instanceId: string): Promise<NovaGroup[]> {
    const ids = await this.instanceGroupIds(instanceId);
    if (ids.length === 0) return [];
    const rows = (await this.net.securityGroups.list(SYSTEM_CONTEXT, { ids })).filter(
      (g) => isAdmin(a) || g.project_id === a.projectId,
    );
    return (await this.views(rows)).sort((x, y) =>
      x.tenant_id === y.tenant_id ? (x.name < y.name ? -1 : 1) : x.tenant_id < y.tenant_id ? -1 : 1,
    );
  }

  /** Names of the groups on an instance's ports, in port order, each once (Nova's server view). */
  async serverGroupNames(instanceId: string): Promise<string[]> {
    const ids = await this.instanceGroupIds(instanceId);
    if (ids.length === 0) return [];
    const rows = await this.net.securityGroups.list(SYSTEM_CONTEXT, { ids });
    return ids
      .map((id) => rows.find((g) => g.id === id))
      .filter((g): g is SecurityGroup => !!g)
      .map((g) => g.name || g.id);
  }

  private async instanceGroupIds(instanceId: string): Promise<string[]> {
    const ports = await this.net.serverPorts(instanceId);
    const out: string[] = [];
    for (const p of ports)
      for (const g of (p.security_groups as string[] | undefined) ?? []) if (!out.includes(g)) out.push(g);
    return out;
  }

  /** A group by name or id in the caller's project (Nova's find by name or id). */
  private async resolveGroup(a: AuthContext, nameOrId: string): Promise<string> {
    const groups = await this.net.securityGroups.list(a, { projectId: a.projectId ?? '' });
    const byId = groups.find((g) => g.id === nameOrId);
    if (byId) return byId.id;
    const byName = groups.filter((g) => g.name === nameOrId);
    if (byName.length > 1)
      throw conflict(`Multiple security_group matches found for name '${nameOrId}', use an ID to be more specific.`, {
        code: 'NoUniqueMatch',
      });
    if (byName.length === 0)
      throw notFound(`Security group ${nameOrId} is not found for project ${a.projectId ?? ''}`, {
        code: 'SecurityGroupNotFound',
      });
    return byName[0]!.id;
  }

  /** addSecurityGroup: the group goes on every port of the instance. */
  async addToInstance(a: AuthContext, instanceId: string, name: string): Promise<void> {
    const gid = await this.resolveGroup(a, name);
    const ports = await this.net.serverPorts(instanceId);
    if (ports.length === 0)
      throw notFound(`instance_id ${instanceId} could not be found as device id on any ports`, {
        code: 'SecurityGroupNotFound',
      });
    for (const p of ports) {
      const hasIp = Array.isArray(p.fixed_ips) && p.fixed_ips.length > 0;
      if (!hasIp || p.port_security_enabled === false)
        throw badRequest('Unable to add security group to port: port security is disabled or the port has no address.');
    }
    for (const p of ports) {
      const groups = [...((p.security_groups as string[] | undefined) ?? [])];
      if (groups.includes(gid)) continue;
      groups.push(gid);
      try {
        await this.net.ports.update(SYSTEM_CONTEXT, String(p.id), { security_groups: groups });
      } catch (e) {
        return translate(e, { 400: 'BadRequest', 409: 'Conflict' });
      }
      await this.net.publish('port', 'updated', String(p.id));
    }
  }

  /** removeSecurityGroup: off every port that has it; 404 when none had it. */
  async removeFromInstance(a: AuthContext, instanceId: string, name: string): Promise<void> {
    const gid = await this.resolveGroup(a, name);
    const ports = await this.net.serverPorts(instanceId);
    if (ports.length === 0)
      throw notFound(`instance_id ${instanceId} could not be found as device id on any ports`, {
        code: 'SecurityGroupNotFound',
      });
    let found = false;
    for (const p of ports) {
      const groups = (p.security_groups as string[] | undefined) ?? [];
      if (!groups.includes(gid)) continue;
      await this.net.ports.update(SYSTEM_CONTEXT, String(p.id), { security_groups: groups.filter((g) => g !== gid) });
      await this.net.publish('port', 'updated', String(p.id));
      found = true;
    }
    if (!found)
      throw notFound(`Security group ${name} not associated with the instance ${instanceId}`, {
        code: 'SecurityGroupNotFound',
      });
  }

  // --- floating IPs

  private async fipViews(
    rows: {
      id: string;
      floating_ip_address: string;
      floating_network_id: string;
      fixed_ip_address: string | null;
      port_id: string | null;
    }[],
  ): Promise<NovaFloatingIp[]> {
    const out: NovaFloatingIp[] = [];
    for (const f of rows) {
      const net = await this.net.networks.find(f.floating_network_id);
      const port = f.port_id ? await this.net.ports.find(f.port_id) : undefined;
      out.push({
        id: f.id,
        ip: f.floating_ip_address,
        pool: net?.name || f.floating_network_id,
        fixed_ip: f.fixed_ip_address,
        instance_id: port?.device_id ? port.device_id : null,
      });
    }
    return out;
  }

  async listFloatingIps(a: AuthContext): Promise<NovaFloatingIp[]> {
    const rows = await this.net.floatingIps.list(a);
    return this.fipViews(isAdmin(a) ? rows.filter((f) => f.project_id === a.projectId) : rows);
  }

  async getFloatingIp(a: AuthContext, id: string): Promise<NovaFloatingIp> {
    const notThere = () => notFound(`Floating IP not found for ID ${id}`, { code: 'FloatingIpNotFound' });
    if (!UUID_RE.test(id)) throw notThere();
    const f = await this.net.floatingIps.get(a, id).catch(() => {
      throw notThere();
    });
    return (await this.fipViews([f]))[0]!;
  }

  /** The external networks, as Nova's floating IP pools. */
  async pools(): Promise<string[]> {
    return (await this.net.networks.list(SYSTEM_CONTEXT)).filter((n) => n.router_external).map((n) => n.name || n.id);
  }

  /** Allocates from `pool` (an external network's name or id; the default external network when null). */
  async allocateFloatingIp(a: AuthContext, pool: string | null): Promise<NovaFloatingIp> {
    const externals = (await this.net.networks.list(SYSTEM_CONTEXT)).filter((n) => n.router_external);
    let net =
      pool === null
        ? (externals.find((n) => n.is_default) ??
          (externals.length === 1 ? externals[0] : externals.find((n) => n.name === 'public')))
        : (externals.find((n) => n.id === pool) ??
          (externals.filter((n) => n.name === pool).length === 1 ? externals.find((n) => n.name === pool) : undefined));
    if (pool !== null && !net && externals.filter((n) => n.name === pool).length > 1)
      throw conflict(`Multiple floating IP pools matches found for name '${pool}'`, { code: 'NoUniqueMatch' });
    if (!net) throw notFound('Floating IP pool not found.', { code: 'FloatingIpPoolNotFound' });
    net = net!;
    let f;
    try {
      f = await this.net.floatingIps.create(a, { floating_network_id: net.id });
    } catch (e) {
      if (isCloudError(e) && (e.code === 'OverQuota' || e.kind === 'OverQuota' || /quota/i.test(e.message)))
        throw forbidden('Maximum number of floating IPs exceeded', { code: 'FloatingIpLimitExceeded' });
      if (isCloudError(e) && (e.code === 'IpAddressGenerationFailure' || /No more IP|exhausted/i.test(e.message)))
        throw notFound(`No more floating IPs in pool ${pool ?? net.name}.`, { code: 'NoMoreFloatingIps' });
      return translate(e, { 400: 'BadRequest', 404: 'NotFound', 409: 'BadRequest' });
    }
    await this.net.publish('floatingip', 'created', f.id);
    return (await this.fipViews([f]))[0]!;
  }

  async deleteFloatingIp(a: AuthContext, id: string): Promise<void> {
    await this.getFloatingIp(a, id);
    const last = await this.net.render('floatingip', id);
    await this.net.floatingIps.delete(a, id);
    await this.net.publish('floatingip', 'deleted', id, last);
  }

  private async fipByAddress(a: AuthContext, address: string) {
    const f = (await this.net.floatingIps.list(a)).find((x) => x.floating_ip_address === address);
    if (!f) throw notFound('floating IP not found', { code: 'FloatingIpNotFoundForAddress' });
    return f;
  }

  /** addFloatingIp: to the instance's port holding `fixedAddress` (else its first IPv4 address). */
  async associate(a: AuthContext, instanceId: string, address: string, fixedAddress: string | null): Promise<void> {
    const ports = await this.net.serverPorts(instanceId);
    if (ports.length === 0) throw badRequest('Instance network is not ready yet');
    const fixed = ports.flatMap((p) =>
      ((p.fixed_ips as { ip_address: string }[] | undefined) ?? []).map((i) => ({
        port: String(p.id),
        ip: i.ip_address,
      })),
    );
    if (fixed.length === 0) throw badRequest('No fixed IPs associated to instance');
    let chosen = fixed.find((x) => x.ip === fixedAddress);
    if (fixedAddress !== null && !chosen) throw badRequest('Specified fixed address not assigned to instance');
    if (!chosen) chosen = fixed.find((x) => !x.ip.includes(':'));
    if (!chosen)
      throw badRequest(
        `Unable to associate floating IP ${address} to any fixed IPs for instance ${instanceId}. Instance has no fixed IPv4 addresses to associate.`,
      );
    const f = await this.fipByAddress(a, address);
    try {
      await this.net.floatingIps.update(a, f.id, { port_id: chosen.port, fixed_ip_address: chosen.ip });
    } catch (e) {
      if (isCloudError(e) && e.status === 403) throw e;
      throw badRequest(
        `Unable to associate floating IP ${address} to fixed IP ${chosen.ip} for instance ${instanceId}. Error: ${isCloudError(e) ? e.message : 'unexpected error'}`,
      );
    }
    await this.net.publish('floatingip', 'updated', f.id);
  }

  /** removeFloatingIp: 409 unless the address is associated with this instance. */
  async disassociate(a: AuthContext, instanceId: string, address: string): Promise<void> {
    const f = await this.fipByAddress(a, address);
    const port = f.port_id ? await this.net.ports.find(f.port_id) : undefined;
    if (!port || port.device_id !== instanceId)
      throw conflict(`Floating IP ${address} is not associated with instance ${instanceId}.`);
    await this.net.floatingIps.update(a, f.id, { port_id: null });
    await this.net.publish('floatingip', 'updated', f.id);
  }

  // --- networks (read-only views)

  async networks(a: AuthContext): Promise<{ id: string; name: string }[]> {
    return (await this.net.networks.list(a)).map((n) => ({ id: n.id, name: n.name }));
  }

  async network(a: AuthContext, id: string): Promise<{ id: string; name: string }> {
    const n = await this.net.networks.get(a, id).catch(() => {
      throw notFound('Network not found', { code: 'NetworkNotFound' });
    });
    return { id: n.id, name: n.name };
  }
}
