import type { AuthContext } from '../auth-context.js';
import type { NetSecurityGroupRow, NetSecurityGroupRuleRow } from '../../store/network-tables.js';
import { inTransaction, isUniqueViolation } from '../../store/database.js';
import { uuid } from '../../util/ids.js';
import type { NetworkDeps, Db, Obj } from './common.js';
import {
  admin,
  badInput,
  boolOf,
  nerr,
  now,
  onlyKnown,
  ownerFor,
  owns,
  projectOf,
  standardView,
  str,
} from './common.js';
import type { Tags } from './tags.js';
import type { Quotas } from './quotas.js';
import { formatCidr, tryParseCidr } from './ipaddr.js';

export type SecurityGroup = NetSecurityGroupRow;
export type Rule = NetSecurityGroupRuleRow;

const SG_KNOWN = ['name', 'description', 'tenant_id', 'project_id', 'stateful', 'tags'] as const;
const RULE_KNOWN = [
  'security_group_id',
  'direction',
  'ethertype',
  'protocol',
  'port_range_min',
  'port_range_max',
  'remote_ip_prefix',
  'remote_group_id',
  'remote_address_group_id',
  'description',
  'tenant_id',
  'project_id',
] as const;

/** IANA protocol names Neutron accepts, with their numbers. */
const PROTOCOLS: Record<string, number> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  icmp: 1,
  icmpv6: 58,
  igmp: 2,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};
const PORT_PROTOCOLS = ['tcp', 'udp', 'sctp', 'dccp', 'udplite', '6', '17', '132', '33', '136'];
const ICMP_PROTOCOLS = ['icmp', 'icmpv6', 'ipv6-icmp', '1', '58'];

export const sgNotFound = (id: string) =>
  nerr('NotFound', 'SecurityGroupNotFound', `Security group ${id} does not exist`);
const ruleNotFound = (id: string) =>
  nerr('NotFound', 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);

/** Security groups and their rules, with the per-project `default` group made on first use. */
export class SecurityGroups {
  constructor(
    private readonly d: NetworkDeps,
    private readonly tags: Tags,
    private readonly quotas: Quotas,
  ) {}

  /** The id of the project's default group if it exists (no creation; safe inside any transaction). */
  async defaultId(project: string, db: Db = this.d.db): Promise<string | undefined> {
    const have = await db
      .selectFrom('net_default_security_groups')
      .select('security_group_id')
      .where('project_id', '=', project)
      .executeTakeFirst();
    return have?.security_group_id;
  }

  /**
   * The project's default group, created (with Neutron's four default rules) the first time it is needed. Runs in a
   * transaction of its own, so call it before opening another one. Concurrent first uses race on the marker row's
   * primary key with ON CONFLICT DO NOTHING (no aborted transaction on PostgreSQL); the loser rolls back its group.
   */
  async ensureDefault(project: string): Promise<string> {
    if (!project) return '';
    const have = await this.defaultId(project);
    if (have) return have;
    const id = uuid();
    const t = now();
    const lost = new Error('default security group made concurrently');
    try {
      await inTransaction(this.d.db, async (trx) => {
        const won = await trx
          .insertInto('net_default_security_groups')
          .values({ project_id: project, security_group_id: id })
          .onConflict((oc) => oc.column('project_id').doNothing())
          .returning('security_group_id')
          .execute();
        if (!won.length) throw lost;
        await trx
          .insertInto('net_security_groups')
          .values({
            id,
            project_id: project,
            name: 'default',
            description: 'Default security group',
            created_at: t,
            updated_at: t,
            revision_number: 1,
            stateful: 1,
          })
          .execute();
        const rule = (direction: string, ethertype: string, remote: string | null): Rule => ({
          id: uuid(),
          project_id: project,
          security_group_id: id,
          direction,
          ethertype,
          protocol: null,
          port_range_min: null,
          port_range_max: null,
          remote_ip_prefix: null,
          remote_group_id: remote,
          description: '',
          created_at: t,
          updated_at: t,
          revision_number: 0,
        });
        await trx
          .insertInto('net_security_group_rules')
          .values([
            rule('egress', 'IPv4', null),
            rule('egress', 'IPv6', null),
            rule('ingress', 'IPv4', id),
            rule('ingress', 'IPv6', id),
          ])
          .execute();
      });
    } catch (e) {
      if (e !== lost && !isUniqueViolation(e)) throw e;
      return (await this.defaultId(project))!;
    }
    return id;
  }

  async get(a: AuthContext, id: string, db: Db = this.d.db): Promise<SecurityGroup> {
    const g = await db.selectFrom('net_security_groups').selectAll().where('id', '=', id).executeTakeFirst();
    if (!g || !owns(a, g.project_id)) throw sgNotFound(id);
    return g;
  }

  ruleView(r: Rule): Obj {
    return {
      id: r.id,
      tenant_id: r.project_id,
      project_id: r.project_id,
      security_group_id: r.security_group_id,
      direction: r.direction,
      ethertype: r.ethertype,
      protocol: r.protocol,
      port_range_min: r.port_range_min,
      port_range_max: r.port_range_max,
      remote_ip_prefix: r.remote_ip_prefix,
      remote_group_id: r.remote_group_id,
      remote_address_group_id: null,
      normalized_cidr: r.remote_ip_prefix,
      description: r.description,
      created_at: r.created_at,
      updated_at: r.updated_at,
      revision_number: r.revision_number,
      belongs_to_default_sg: null,
      tags: [],
    };
  }

  async views(rows: SecurityGroup[]): Promise<Obj[]> {
    const ids = rows.map((r) => r.id);
    const tags = await this.tags.forIds(ids);
    const rules = new Map<string, Obj[]>();
    for (let i = 0; i < ids.length; i += 500) {
      const part = await this.d.db
        .selectFrom('net_security_group_rules')
        .selectAll()
        .where('security_group_id', 'in', ids.slice(i, i + 500))
        .orderBy('created_at')
        .execute();
      for (const r of part)
        rules.set(r.security_group_id, [...(rules.get(r.security_group_id) ?? []), this.ruleView(r)]);
    }
    return rows.map((g) => ({
      ...standardView(g, tags.get(g.id) ?? []),
      stateful: !!g.stateful,
      shared: false,
      security_group_rules: rules.get(g.id) ?? [],
    }));
  }

  async list(
    a: AuthContext,
    filter: { ids?: string[]; name?: string; projectId?: string } = {},
  ): Promise<SecurityGroup[]> {
    if (projectOf(a)) await this.ensureDefault(projectOf(a));
    if (filter.projectId && filter.projectId !== projectOf(a) && admin(a)) await this.ensureDefault(filter.projectId);
    let q = this.d.db.selectFrom('net_security_groups').selectAll();
    if (!admin(a)) q = q.where('project_id', '=', projectOf(a));
    if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
    if (filter.ids) q = q.where('id', 'in', filter.ids.length ? filter.ids : ['']);
    if (filter.name !== undefined) q = q.where('name', '=', filter.name);
    return q.orderBy('created_at').orderBy('id').execute();
  }

  async create(a: AuthContext, body: Obj): Promise<SecurityGroup> {
    onlyKnown(body, SG_KNOWN, 'security_group');
    const project = ownerFor(a, body);
    const name = str(body, 'name') ?? '';
    // The project's default group always exists once anything is asked of it, so a second "default" is a conflict.
    await this.ensureDefault(project);
    if (name === 'default')
      throw nerr('Conflict', 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    const t = now();
    const id = uuid();
    const stateful = boolOf(body, 'stateful') ?? true;
    return inTransaction(this.d.db, async (trx) => {
      await this.quotas.check(trx, project, 'security_group');
      const row: SecurityGroup = {
        id,
        project_id: project,
        name,
        description: str(body, 'description') ?? '',
        created_at: t,
        updated_at: t,
        revision_number: 1,
        stateful: stateful ? 1 : 0,
      };
      await trx.insertInto('net_security_groups').values(row).execute();
      // A new group allows all egress, like Neutron's.
      for (const ethertype of ['IPv4', 'IPv6']) {
        await trx
          .insertInto('net_security_group_rules')
          .values({
            id: uuid(),
            project_id: project,
            security_group_id: id,
            direction: 'egress',
            ethertype,
            protocol: null,
            port_range_min: null,
            port_range_max: null,
            remote_ip_prefix: null,
            remote_group_id: null,
            description: '',
            created_at: t,
            updated_at: t,
            revision_number: 0,
          })
          .execute();
      }
      return row;
    });
  }

  async update(a: AuthContext, id: string, body: Obj): Promise<SecurityGroup> {
    const g = await this.get(a, id);
    onlyKnown(body, SG_KNOWN, 'security_group');
    const set: Partial<SecurityGroup> = {};
    const name = str(body, 'name');
    if (name !== undefined) {
      if (g.name === 'default' && name !== 'default')
        throw nerr('Conflict', 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
      if (name === 'default' && g.name !== 'default')
        throw nerr('Conflict', 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      set.name = name;
    }
    const desc = str(body, 'description');
    if (desc !== undefined) set.description = desc;
    const stateful = boolOf(body, 'stateful');
    if (stateful !== undefined) {
      const used = await this.d.db
        .selectFrom('net_port_security_groups')
        .select('port_id')
        .where('security_group_id', '=', id)
        .executeTakeFirst();
      if (used && (stateful ? 1 : 0) !== g.stateful)
        throw nerr('Conflict', 'SecurityGroupInUse', `Security Group ${id} in use.`);
      set.stateful = stateful ? 1 : 0;
    }
    await this.d.db
      .updateTable('net_security_groups')
      .set({ ...set, updated_at: now(), revision_number: g.revision_number + 1 })
      .where('id', '=', id)
      .execute();
    return await this.get(a, id);
  }

  async delete(a: AuthContext, id: string): Promise<SecurityGroup> {
    const g = await this.get(a, id);
    const isDefault = await this.d.db
      .selectFrom('net_default_security_groups')
      .select('project_id')
      .where('security_group_id', '=', id)
      .executeTakeFirst();
    if (isDefault && !admin(a))
      throw nerr('Conflict', 'SecurityGroupCannotRemoveDefault', 'Removing default security group not allowed.');
    await inTransaction(this.d.db, async (trx) => {
      const used = await trx
        .selectFrom('net_port_security_groups')
        .select('port_id')
        .where('security_group_id', '=', id)
        .executeTakeFirst();
      if (used) throw nerr('Conflict', 'SecurityGroupInUse', `Security Group ${id} in use.`);
      const remote = await trx
        .selectFrom('net_security_group_rules')
        .select('id')
        .where('remote_group_id', '=', id)
        .where('security_group_id', '!=', id)
        .executeTakeFirst();
      if (remote)
        throw nerr(
          'Conflict',
          'SecurityGroupInUse',
          `Security Group ${id} in use by rule ${remote.id} of another group.`,
        );
      await trx.deleteFrom('net_security_group_rules').where('security_group_id', '=', id).execute();
      await trx.deleteFrom('net_default_security_groups').where('security_group_id', '=', id).execute();
      await this.tags.removeAll(id, trx);
      await trx.deleteFrom('net_security_groups').where('id', '=', id).execute();
    });
    return g;
  }

  // --- rules

  async getRule(a: AuthContext, id: string): Promise<Rule> {
    const r = await this.d.db
      .selectFrom('net_security_group_rules')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!r || !owns(a, r.project_id)) {
      // Rules of one's own groups are visible even when an admin created them for the project.
      if (r) {
        const g = await this.d.db
          .selectFrom('net_security_groups')
          .select('project_id')
          .where('id', '=', r.security_group_id)
          .executeTakeFirst();
        if (g && owns(a, g.project_id)) return r;
      }
      throw ruleNotFound(id);
    }
    return r;
  }

  async listRules(a: AuthContext): Promise<Rule[]> {
    if (projectOf(a)) await this.ensureDefault(projectOf(a));
    let q = this.d.db.selectFrom('net_security_group_rules').selectAll('net_security_group_rules');
    if (!admin(a)) {
      q = q
        .innerJoin('net_security_groups', 'net_security_groups.id', 'net_security_group_rules.security_group_id')
        .where((eb) =>
          eb.or([
            eb('net_security_group_rules.project_id', '=', projectOf(a)),
            eb('net_security_groups.project_id', '=', projectOf(a)),
          ]),
        );
    }
    return q.orderBy('net_security_group_rules.created_at').orderBy('net_security_group_rules.id').execute();
  }

  /** Parses one rule body into a row (no I/O but the group lookups). */
  private async parseRule(a: AuthContext, body: Obj, db: Db): Promise<Rule> {
    onlyKnown(body, RULE_KNOWN, 'security_group_rule');
    if (typeof body.security_group_id !== 'string') throw badInput("'security_group_id' is required.");
    const group = await this.get(a, body.security_group_id, db);
    const direction = body.direction;
    if (direction !== 'ingress' && direction !== 'egress')
      throw badInput(`'${String(direction)}' is not in ['ingress', 'egress'] for direction.`);
    const ethertype = body.ethertype ?? 'IPv4';
    if (ethertype !== 'IPv4' && ethertype !== 'IPv6') {
      throw nerr(
        'BadRequest',
        'SecurityGroupRuleInvalidEtherType',
        `Security group rule for ethertype '${String(ethertype)}' not supported. Allowed values are ['IPv4', 'IPv6'].`,
      );
    }
    let protocol: string | null = null;
    if (body.protocol !== undefined && body.protocol !== null && body.protocol !== 'any' && body.protocol !== '') {
      const p = String(body.protocol).toLowerCase();
      if (/^\d+$/.test(p)) {
        if (Number(p) > 255)
          throw nerr(
            'BadRequest',
            'SecurityGroupRuleInvalidProtocol',
            `Security group rule protocol ${p} not supported. Only protocol values ` +
              `${Object.keys(PROTOCOLS).join(', ')} and integer representations [0 to 255] are supported.`,
          );
        protocol = String(Number(p));
      } else if (p in PROTOCOLS) {
        protocol = p;
      } else {
        throw nerr(
          'BadRequest',
          'SecurityGroupRuleInvalidProtocol',
          `Security group rule protocol ${String(body.protocol)} not supported. Only protocol values ` +
            `${Object.keys(PROTOCOLS).join(', ')} and integer representations [0 to 255] are supported.`,
        );
      }
      if (ethertype === 'IPv4' && (protocol === 'icmpv6' || protocol === 'ipv6-icmp' || protocol === '58')) {
        throw nerr(
          'BadRequest',
          'SecurityGroupEthertypeConflictWithProtocol',
          `Ethertype IPv4 is not supported by protocol ${protocol}.`,
        );
      }
    }
    const portOf = (k: 'port_range_min' | 'port_range_max'): number | null => {
      const v = body[k];
      if (v === undefined || v === null) return null;
      const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535)
        throw nerr('BadRequest', 'SecurityGroupInvalidPortValue', `Invalid value for port ${String(v)}.`);
      return n;
    };
    const min = portOf('port_range_min');
    const max = portOf('port_range_max');
    if (min !== null || max !== null) {
      if (protocol === null)
        throw nerr(
          'BadRequest',
          'SecurityGroupProtocolRequiredWithPorts',
          'Must also specify protocol if port range is given.',
        );
      if (PORT_PROTOCOLS.includes(protocol)) {
        if (min === null || max === null) {
          if (min === null)
            throw nerr(
              'BadRequest',
              'SecurityGroupInvalidPortRange',
              'For TCP/UDP protocols, port_range_min must be <= port_range_max',
            );
        }
        if (min === 0 || max === 0)
          throw nerr('BadRequest', 'SecurityGroupInvalidPortValue', 'Invalid value for port 0.');
        if (min !== null && max !== null && min > max)
          throw nerr(
            'BadRequest',
            'SecurityGroupInvalidPortRange',
            'For TCP/UDP protocols, port_range_min must be <= port_range_max',
          );
      } else if (ICMP_PROTOCOLS.includes(protocol)) {
        if (min !== null && min > 255)
          throw nerr(
            'BadRequest',
            'SecurityGroupInvalidIcmpValue',
            `Invalid value for ICMP type (port-range-min) ${min}. It must be 0 to 255.`,
          );
        if (max !== null && max > 255)
          throw nerr(
            'BadRequest',
            'SecurityGroupInvalidIcmpValue',
            `Invalid value for ICMP code (port-range-max) ${max}. It must be 0 to 255.`,
          );
        if (min === null && max !== null)
          throw nerr(
            'BadRequest',
            'SecurityGroupMissingIcmpType',
            `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`,
          );
      } else {
        throw nerr(
          'BadRequest',
          'SecurityGroupInvalidProtocolForPort',
          `Invalid protocol ${protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP protocols.`,
        );
      }
    }
    let prefix: string | null = null;
    if (body.remote_ip_prefix !== undefined && body.remote_ip_prefix !== null) {
      const c = tryParseCidr(body.remote_ip_prefix);
      if (!c) throw badInput(`'${String(body.remote_ip_prefix)}' is not a valid IP subnet.`);
      if ((c.version === 4 ? 'IPv4' : 'IPv6') !== ethertype) {
        throw nerr(
          'BadRequest',
          'SecurityGroupRuleParameterConflict',
          `Conflicting value ethertype ${String(ethertype)} for CIDR ${String(body.remote_ip_prefix)}`,
        );
      }
      prefix = formatCidr(c);
    }
    let remoteGroup: string | null = null;
    if (body.remote_group_id !== undefined && body.remote_group_id !== null) {
      if (prefix !== null)
        throw nerr(
          'BadRequest',
          'SecurityGroupRemoteGroupAndRemoteIpPrefix',
          'Only remote_ip_prefix or remote_group_id may be provided.',
        );
      remoteGroup = (await this.get(a, String(body.remote_group_id), db)).id;
    }
    const t = now();
    return {
      id: uuid(),
      project_id: ownerFor(a, body) || group.project_id,
      security_group_id: group.id,
      direction,
      ethertype: ethertype as string,
      protocol,
      port_range_min: min,
      port_range_max: ICMP_PROTOCOLS.includes(protocol ?? '') ? max : (max ?? min),
      remote_ip_prefix: prefix,
      remote_group_id: remoteGroup,
      description: str(body, 'description') ?? '',
      created_at: t,
      updated_at: t,
      revision_number: 0,
    };
  }

  /** Same rule by Neutron's duplicate test (all matching attributes, ignoring description). */
  private same(x: Rule, y: Rule): boolean {
    const canon = (p: string | null) => (p === null ? null : String(PROTOCOLS[p] ?? p));
    const anyPrefix = (r: Rule) =>
      r.remote_ip_prefix === '0.0.0.0/0' || r.remote_ip_prefix === '::/0' ? null : r.remote_ip_prefix;
    return (
      x.security_group_id === y.security_group_id &&
      x.direction === y.direction &&
      x.ethertype === y.ethertype &&
      canon(x.protocol) === canon(y.protocol) &&
      x.port_range_min === y.port_range_min &&
      x.port_range_max === y.port_range_max &&
      anyPrefix(x) === anyPrefix(y) &&
      x.remote_group_id === y.remote_group_id
    );
  }

  async createRules(a: AuthContext, bodies: Obj[]): Promise<Rule[]> {
    return inTransaction(this.d.db, async (trx) => {
      const out: Rule[] = [];
      for (const body of bodies) {
        const rule = await this.parseRule(a, body, trx);
        await this.quotas.check(trx, rule.project_id, 'security_group_rule');
        const existing = await trx
          .selectFrom('net_security_group_rules')
          .selectAll()
          .where('security_group_id', '=', rule.security_group_id)
          .execute();
        const dup = [...existing, ...out].find((r) => this.same(r, rule));
        if (dup)
          throw nerr(
            'Conflict',
            'SecurityGroupRuleExists',
            `Security group rule already exists. Rule id is ${dup.id}.`,
          );
        await trx.insertInto('net_security_group_rules').values(rule).execute();
        await trx
          .updateTable('net_security_groups')
          .set({ updated_at: rule.created_at })
          .where('id', '=', rule.security_group_id)
          .execute();
        out.push(rule);
      }
      return out;
    });
  }

  async deleteRule(a: AuthContext, id: string): Promise<Rule> {
    const r = await this.getRule(a, id);
    await this.d.db.deleteFrom('net_security_group_rules').where('id', '=', id).execute();
    return r;
  }

  async updateRule(a: AuthContext, id: string, body: Obj): Promise<Rule> {
    const r = await this.getRule(a, id);
    onlyKnown(body, ['description'], 'security_group_rule');
    const desc = str(body, 'description');
    if (desc !== undefined)
      await this.d.db
        .updateTable('net_security_group_rules')
        .set({ description: desc, updated_at: now(), revision_number: r.revision_number + 1 })
        .where('id', '=', id)
        .execute();
    return this.getRule(a, id);
  }
}
