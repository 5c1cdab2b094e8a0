// Nova's security-group proxies (os-security-groups, os-security-group-rules, a server's security groups) over the
// network service: Nova's shapes, validations and status codes, with Neutron doing the work.
import { badRequest, conflict, isCloudError, notFound } from '../../../errors.js';
import type { AuthContext } from '../../auth-context.js';
import { isAdmin } from '../../auth-context.js';
import type { NetworkService } from '../../network/index.js';
import { SYSTEM_CONTEXT } from '../../network/index.js';
import type { Rule, SecurityGroup } from '../../network/security-groups.js';
import { UUID_RE } from '../common.js';
import { translate } from './errors.js';
import { checkRuleIds, type NovaRuleRequest, parseRuleSpec } from './rule-request.js';

export type { NovaRuleRequest } from './rule-request.js';

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

/** os-security-groups, os-security-group-rules and the server security-group actions. */
export class SecurityGroupProxy {
  constructor(private readonly net: NetworkService) {}

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
    SecurityGroupProxy.checkId(id);
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
    checkRuleIds(req);
    const parent = await this.group(a, req.parent_group_id);
    const source = req.group_id ? await this.group(a, req.group_id) : null;
    const { cidr, protocol, fromN, toN } = parseRuleSpec(req, source !== null);
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
}
