// A rule create as Nova's os-security-group-rules takes it, checked and turned into Neutron's terms (cidr,
// protocol, port range) with Nova's messages; nothing here looks anything up.
import { badRequest } from '../../../errors.js';
import { UUID_RE } from '../common.js';

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

const isV4Cidr = (s: string) =>
  /^(\d{1,3})(\.\d{1,3}){3}\/(\d{1,2})$/.test(s) &&
  s
    .split('/')[0]!
    .split('.')
    .every((o) => Number(o) <= 255) &&
  Number(s.split('/')[1]) <= 32;
const isV6Cidr = (s: string) =>
  /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(s) && s.includes(':') && Number(s.split('/')[1]) <= 128;

/** Both group ids of a rule request are uuids (Nova's schema message otherwise). */
export function checkRuleIds(req: NovaRuleRequest): void {
  if (typeof req.parent_group_id !== 'string' || !UUID_RE.test(req.parent_group_id)) {
    throw badRequest(
      `Invalid input for field/attribute parent_group_id. Value: ${String(req.parent_group_id)}. ` +
        `'${String(req.parent_group_id)}' is not a 'uuid'`,
    );
  }
  if (
    req.group_id !== undefined &&
    req.group_id !== null &&
    (typeof req.group_id !== 'string' || !UUID_RE.test(req.group_id))
  ) {
    throw badRequest(
      `Invalid input for field/attribute group_id. Value: ${String(req.group_id)}. '${String(req.group_id)}' is not ` +
        `a 'uuid'`,
    );
  }
}

/** The rule's cidr (none when it names a remote group), protocol and port range, as Nova checks them. */
export function parseRuleSpec(
  req: NovaRuleRequest,
  hasSource: boolean,
): { cidr: string | null; protocol: string | null; fromN: number | null; toN: number | null } {
  let cidr: string | null = null;
  if (!hasSource) {
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
  if (hasSource && proto) {
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
  } else if (!hasSource) {
    throw badRequest('Not enough parameters to build a valid rule.');
  }
  const protocol =
    proto && fromN !== null ? proto.toLowerCase() : hasSource ? (proto ? proto.toLowerCase() : null) : null;
  return { cidr, protocol, fromN, toN };
}
