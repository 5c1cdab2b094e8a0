// Neutron's metering extension: labels (per project, or shared) and their rules. A label applies to every router of
// its project (every router, when shared), as Neutron's iptables metering driver does; the data plane counts the
// traffic crossing each router's gateway that the rules select (excluded rules first) and this module reads the
// counters back. Every operation is admin-only (Neutron's policy); the route checks that before we get here.
import type { AuthContext } from '../auth-context.js';
import type { NetMeteringLabelRow, NetMeteringLabelRuleRow } from '../../store/metering-tables.js';
import { uuid } from '../../util/ids.js';
import { formatCidr, tryParseCidr } from '../../util/ipaddr.js';
import type { MeteringCounter } from '../../net/index.js';
import { badInput, boolOf, nerr, now, onlyKnown, ownerFor, str, type NetworkDeps, type Obj } from './common.js';

export type MeteringLabel = NetMeteringLabelRow;
export type MeteringLabelRule = NetMeteringLabelRuleRow;

const LABEL_KNOWN = ['name', 'description', 'shared', 'tenant_id', 'project_id'] as const;
const RULE_KNOWN = [
  'metering_label_id',
  'direction',
  'remote_ip_prefix',
  'source_ip_prefix',
  'destination_ip_prefix',
  'excluded',
  'tenant_id',
  'project_id',
] as const;

/** A label as a router's data plane receives it: its id and rules. */
export interface RouterMeteringLabel {
  id: string;
  rules: { direction: string; source: string | null; destination: string | null; excluded: boolean }[];
}

/** One label's traffic, summed over the routers it applies to. */
export interface LabelTraffic {
  labelId: string;
  name: string;
  projectId: string;
  bytes: number;
  packets: number;
}

const labelNotFound = (id: string) => nerr('NotFound', 'MeteringLabelNotFound', `Metering label ${id} does not exist.`);
const ruleNotFound = (id: string) =>
  nerr('NotFound', 'MeteringLabelRuleNotFound', `Metering label rule ${id} does not exist.`);

/** A CIDR from the body (normalised), or null when absent; a 400 naming the field otherwise. */
function prefixOf(body: Obj, key: string): string | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  const c = typeof v === 'string' ? tryParseCidr(v) : null;
  if (!c) throw badInput(`'${String(v)}' is not a valid IP subnet for ${key}.`);
  return formatCidr(c);
}

/** True when two CIDRs of the same family share an address. */
function overlaps(a: string, b: string): boolean {
  const x = tryParseCidr(a);
  const y = tryParseCidr(b);
  if (!x || !y || x.version !== y.version) return false;
  const bits = x.version === 4 ? 32n : 128n;
  const len = BigInt(Math.min(x.prefixlen, y.prefixlen));
  const shift = bits - len;
  return x.network >> shift === y.network >> shift;
}

export class Metering {
  constructor(private readonly d: NetworkDeps) {}

  async listLabels(_a: AuthContext, ids?: string[]): Promise<MeteringLabel[]> {
    let q = this.d.db.selectFrom('net_metering_labels').selectAll().orderBy('created_at').orderBy('id');
    if (ids) q = q.where('id', 'in', ids.length ? ids : ['']);
    return q.execute();
  }

  async getLabel(_a: AuthContext, id: string): Promise<MeteringLabel> {
    const row = await this.d.db.selectFrom('net_metering_labels').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw labelNotFound(id);
    return row;
  }

  async createLabel(a: AuthContext, body: Obj): Promise<MeteringLabel> {
    onlyKnown(body, LABEL_KNOWN, 'metering_label');
    const row: MeteringLabel = {
      id: uuid(),
      project_id: ownerFor(a, body),
      name: str(body, 'name') ?? '',
      description: str(body, 'description', 1024) ?? '',
      shared: boolOf(body, 'shared') ? 1 : 0,
      created_at: now(),
    };
    await this.d.db.insertInto('net_metering_labels').values(row).execute();
    return row;
  }

  /** Deletes a label and its rules; returns it (the routers it applied to are re-planned by the caller). */
  async deleteLabel(a: AuthContext, id: string): Promise<MeteringLabel> {
    const row = await this.getLabel(a, id);
    await this.d.db.deleteFrom('net_metering_label_rules').where('label_id', '=', id).execute();
    await this.d.db.deleteFrom('net_metering_labels').where('id', '=', id).execute();
    return row;
  }

  labelView(r: MeteringLabel): Obj {
    return {
      id: r.id,
      name: r.name,
      description: r.description,
      shared: r.shared === 1,
      tenant_id: r.project_id,
      project_id: r.project_id,
    };
  }

  async listRules(_a: AuthContext, ids?: string[]): Promise<MeteringLabelRule[]> {
    let q = this.d.db.selectFrom('net_metering_label_rules').selectAll().orderBy('created_at').orderBy('id');
    if (ids) q = q.where('id', 'in', ids.length ? ids : ['']);
    return q.execute();
  }

  async getRule(_a: AuthContext, id: string): Promise<MeteringLabelRule> {
    const row = await this.d.db
      .selectFrom('net_metering_label_rules')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw ruleNotFound(id);
    return row;
  }

  async createRule(a: AuthContext, body: Obj): Promise<MeteringLabelRule> {
    onlyKnown(body, RULE_KNOWN, 'metering_label_rule');
    const labelId = body.metering_label_id;
    if (typeof labelId !== 'string' || labelId === '') throw badInput("'metering_label_id' is required.");
    const direction = body.direction ?? 'ingress';
    if (direction !== 'ingress' && direction !== 'egress')
      throw badInput(`'${String(direction)}' is not in ['ingress', 'egress'] for direction.`);
    const remote = prefixOf(body, 'remote_ip_prefix');
    const source = prefixOf(body, 'source_ip_prefix');
    const destination = prefixOf(body, 'destination_ip_prefix');
    if (remote && (source || destination))
      throw badInput(
        "Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or 'destination-ip-prefix'.",
      );
    if (!remote && !source && !destination)
      throw badInput(
        'You must define at least one of the following parameters ' +
          "'remote_ip_prefix', or 'source_ip_prefix' or 'destination_ip_prefix'.",
      );
    const excluded = boolOf(body, 'excluded') ?? false;
    const label = await this.getLabel(a, labelId);
    if (remote) {
      const siblings = await this.d.db
        .selectFrom('net_metering_label_rules')
        .selectAll()
        .where('label_id', '=', label.id)
        .where('direction', '=', direction)
        .where('excluded', '=', excluded ? 1 : 0)
        .execute();
      if (siblings.some((r) => r.remote_ip_prefix && overlaps(r.remote_ip_prefix, remote)))
        throw nerr(
          'Conflict',
          'MeteringLabelRuleOverlaps',
          `Metering label rule with remote_ip_prefix ${remote} overlaps another.`,
        );
    }
    const row: MeteringLabelRule = {
      id: uuid(),
      label_id: label.id,
      direction,
      remote_ip_prefix: remote,
      source_ip_prefix: source,
      destination_ip_prefix: destination,
      excluded: excluded ? 1 : 0,
      created_at: now(),
    };
    await this.d.db.insertInto('net_metering_label_rules').values(row).execute();
    return row;
  }

  async deleteRule(a: AuthContext, id: string): Promise<MeteringLabelRule> {
    const row = await this.getRule(a, id);
    await this.d.db.deleteFrom('net_metering_label_rules').where('id', '=', id).execute();
    return row;
  }

  async ruleViews(rows: MeteringLabelRule[]): Promise<Obj[]> {
    const owners = new Map(
      (await this.d.db.selectFrom('net_metering_labels').select(['id', 'project_id']).execute()).map((l) => [
        l.id,
        l.project_id,
      ]),
    );
    return rows.map((r) => ({
      id: r.id,
      metering_label_id: r.label_id,
      direction: r.direction,
      remote_ip_prefix: r.remote_ip_prefix,
      source_ip_prefix: r.source_ip_prefix,
      destination_ip_prefix: r.destination_ip_prefix,
      excluded: r.excluded === 1,
      tenant_id: owners.get(r.label_id) ?? null,
      project_id: owners.get(r.label_id) ?? null,
    }));
  }

  /** The ids of the routers a label applies to: its project's, or every router when shared. */
  async routersOf(label: MeteringLabel): Promise<string[]> {
    let q = this.d.db.selectFrom('net_routers').select('id');
    if (label.shared !== 1) q = q.where('project_id', '=', label.project_id);
    return (await q.execute()).map((r) => r.id);
  }

  /** The labels (with rules) the data plane applies to a router of this project. */
  async forRouterProject(projectId: string): Promise<RouterMeteringLabel[]> {
    const labels = await this.d.db
      .selectFrom('net_metering_labels')
      .selectAll()
      .where((eb) => eb.or([eb('project_id', '=', projectId), eb('shared', '=', 1)]))
      .orderBy('created_at')
      .execute();
    if (labels.length === 0) return [];
    const rules = await this.d.db
      .selectFrom('net_metering_label_rules')
      .selectAll()
      .where(
        'label_id',
        'in',
        labels.map((l) => l.id),
      )
      .orderBy('created_at')
      .execute();
    return labels.map((l) => ({
      id: l.id,
      rules: rules
        .filter((r) => r.label_id === l.id)
        .map((r) => ({
          direction: r.direction,
          // remote_ip_prefix is the far end: the source of ingress traffic, the destination of egress traffic.
          source: r.source_ip_prefix ?? (r.direction === 'ingress' ? r.remote_ip_prefix : null),
          destination: r.destination_ip_prefix ?? (r.direction === 'egress' ? r.remote_ip_prefix : null),
          excluded: r.excluded === 1,
        })),
    }));
  }

  /** Bytes and packets per label, summed over routers, from the data plane's counters (zeros where none). */
  async traffic(read: (() => Promise<MeteringCounter[]>) | undefined): Promise<LabelTraffic[]> {
    const labels = await this.d.db.selectFrom('net_metering_labels').selectAll().orderBy('created_at').execute();
    const counters = read ? await read() : [];
    return labels.map((l) => {
      const mine = counters.filter((c) => c.labelId === l.id);
      return {
        labelId: l.id,
        name: l.name,
        projectId: l.project_id,
        bytes: mine.reduce((s, c) => s + c.bytes, 0),
        packets: mine.reduce((s, c) => s + c.packets, 0),
      };
    });
  }
}
