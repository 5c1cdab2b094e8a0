// The one table of policy rules, merged from one section per service (src/services/policy/*.ts). Every route names
// its rule in its declaration (src/api/http/route-policy.ts); handlers and services may check further rules against
// the object they load (owner checks). Rules not in the table are refused (fail closed).
import type { AuthContext } from './auth-context.js';
import { forbidden } from '../errors.js';
import { admin, anyOf, anyone, ownProject, ownUser, projectMember, projectReader, reader, type PolicyTarget, type Rule } from './policy/checks.js';
import { computeRules } from './policy/compute.js';
import { imageRules } from './policy/image.js';
import { volumeRules } from './policy/volume.js';
import { networkRules } from './policy/network.js';

export type { PolicyTarget, Rule } from './policy/checks.js';
export { projectMember, projectReader } from './policy/checks.js';
export { networkRule, networkTagRule, type NetworkResource } from './policy/network.js';

const identityRules = {
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
} satisfies Record<string, Rule>;

const sharedRules = {
  'project:read': projectReader,
  'project:write': projectMember,
  'cloud:admin': admin,
  'anyone': anyone,
} satisfies Record<string, Rule>;

/** The one table of default rules. Services call `enforce(ctx, 'service:action', target)`. */
export const rules = {
  ...identityRules,
  ...imageRules,
  ...networkRules,
  ...computeRules,
  ...volumeRules,
  ...sharedRules,
} satisfies Record<string, Rule>;

/** A rule's name: routes and services can only name rules that exist (checked by the compiler). */
export type PolicyName = keyof typeof rules;

/** True when the name is a rule of the table (route declarations are checked with it at start-up). */
export function isPolicyName(name: unknown): name is PolicyName {
  return typeof name === 'string' && Object.hasOwn(rules, name);
}

/** True when the rule allows it. Unknown rules allow nothing. */
export function allowed(ctx: AuthContext, rule: string, target: PolicyTarget = {}): boolean {
  const r = isPolicyName(rule) ? (rules[rule] as Rule) : undefined;
  return r ? r(ctx, target) : false;
}

/** Throws Forbidden unless the rule allows the action. */
export function enforce(ctx: AuthContext, rule: string, target: PolicyTarget = {}): void {
  if (!allowed(ctx, rule, target)) {
    throw forbidden(`You are not authorized to perform the requested action: ${rule}.`);
  }
}
