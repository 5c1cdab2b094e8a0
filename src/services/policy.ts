import type { AuthContext } from './auth-context.js';
import { isAdmin } from './auth-context.js';
import { forbidden } from '../errors.js';

/** What a rule may look at about the object acted on. */
export interface PolicyTarget {
  project_id?: string | null;
  domain_id?: string | null;
  user_id?: string | null;
  /** For trusts: the two parties. */
  trustor_user_id?: string | null;
  trustee_user_id?: string | null;
}

type Rule = (c: AuthContext, t: PolicyTarget) => boolean;

// Building blocks, in the spirit of OpenStack's secure-RBAC defaults: admin > member > reader.
const admin: Rule = (c) => isAdmin(c);
const reader: Rule = (c) => c.roleNames.has('reader') || c.roleNames.has('member') || isAdmin(c);
const member: Rule = (c) => c.roleNames.has('member') || isAdmin(c);
const ownProject: Rule = (c, t) => !!c.projectId && t.project_id === c.projectId;
const ownUser: Rule = (c, t) => !!t.user_id && t.user_id === c.userId;
const anyOf = (...rules: Rule[]): Rule => (c, t) => rules.some((r) => r(c, t));
const allOf = (...rules: Rule[]): Rule => (c, t) => rules.every((r) => r(c, t));
const anyone: Rule = () => true;

/** Project-scoped access for readers (GET) and members (writes), admin everywhere. */
export const projectReader: Rule = anyOf(admin, allOf(reader, ownProject));
export const projectMember: Rule = anyOf(admin, allOf(member, ownProject));

/**
 * The one table of default rules. Services call `enforce(ctx, 'service:action', target)`.
 * Rules not listed here are refused (fail closed), so a new route cannot forget its check silently.
 */
export const rules: Record<string, Rule> = {
  // identity
  'identity:admin': admin,
  'identity:get_project': anyOf(admin, (c, t) => c.projectId === (t.project_id ?? null)),
  'identity:list_user_projects': anyOf(admin, ownUser),
  'identity:get_user': anyOf(admin, ownUser),
  'identity:change_password': anyOf(admin, ownUser),
  'identity:get_domain': anyOf(admin, (c, t) => c.domainId === t.domain_id || c.projectDomainId === t.domain_id),
  'identity:application_credential': anyOf(admin, ownUser),
  'identity:access_rule': anyOf(admin, ownUser),
  'identity:credential': anyOf(admin, ownUser),
  'identity:trust_read': anyOf(admin, (c, t) => c.userId === t.trustor_user_id || c.userId === t.trustee_user_id),
  'identity:trust_create': (c, t) => c.userId === t.trustor_user_id,
  'identity:trust_delete': anyOf(admin, (c, t) => c.userId === t.trustor_user_id),
  'identity:list_trusts_any': admin,
  'identity:get_catalog': anyone,
  'identity:reader': reader,
  'identity:read_limit': anyOf(admin, ownProject, (c, t) => !!c.domainId && c.domainId === t.domain_id),
  // image (Glance defaults: ownership and visibility are checked in services/image)
  'image:write': member,
  'image:publicize': admin,
  'image:copy_image': admin,
  'image:metadef_admin': admin,
  // shared shapes the other services use
  'project:read': projectReader,
  'project:write': projectMember,
  'cloud:admin': admin,
  // network: writes need member (admin anywhere); ownership of each object is checked by services/network
  'network:write': projectMember,
  'anyone': anyone,
  // compute (Nova's defaults: project reader/member on servers, admin for hosts, flavors, quotas, migrations)
  'compute:read': projectReader,
  'compute:write': projectMember,
  'compute:admin': admin,
};

/** True when the rule allows it. Unknown rules allow nothing. */
export function allowed(ctx: AuthContext, rule: string, target: PolicyTarget = {}): boolean {
  const r = rules[rule];
  return r ? r(ctx, target) : false;
}

/** Throws Forbidden unless the rule allows the action. */
export function enforce(ctx: AuthContext, rule: string, target: PolicyTarget = {}): void {
  if (!allowed(ctx, rule, target)) {
    throw forbidden(`You are not authorized to perform the requested action: ${rule}.`);
  }
}
