// The one table of policy rules, merged from one section per service (src/services/policy/*.ts). Every route names
// its rule in its declaration (src/api/http/route-policy.ts); handlers and services may check further rules against
// the object they load (owner checks). Rules not in the table are refused (fail closed).
import type { AuthContext } from './auth-context.js';
import { forbidden } from '../errors.js';
import { admin, anyone, projectMember, projectReader, type PolicyTarget, type Rule } from './policy/checks.js';
import { identityRules } from './policy/identity.js';
import { computeRules } from './policy/compute.js';
import { imageRules } from './policy/image.js';
import { volumeRules } from './policy/volume.js';
import { networkRules } from './policy/network.js';
import { monitoringRules } from './policy/monitoring.js';
import { auditRules } from './policy/audit.js';

export type { PolicyTarget, Rule } from './policy/checks.js';
export { projectMember, projectReader } from './policy/checks.js';
export { networkRule, networkTagRule, type NetworkResource } from './policy/network.js';

const sharedRules = {
  'project:read': projectReader,
  'project:write': projectMember,
  'cloud:admin': admin,
  anyone: anyone,
} satisfies Record<string, Rule>;

/** The one table of default rules. Services call `enforce(ctx, 'service:action', target)`. */
export const rules = {
  ...identityRules,
  ...imageRules,
  ...networkRules,
  ...computeRules,
  ...volumeRules,
  ...monitoringRules,
  ...auditRules,
  ...sharedRules,
} satisfies Record<string, Rule>;

/** A rule's name: routes and services can only name rules that exist (checked by the compiler). */
export type PolicyName = keyof typeof rules;

/** True when the name is a rule of the table (route declarations are checked with it at start-up). */
export function isPolicyName(name: unknown): name is PolicyName {
  return typeof name === 'string' && Object.hasOwn(rules, name);
}

/** True when the rule allows it. Unknown rules allow nothing. */
export function allowed(ctx: AuthContext, rule: PolicyName, target: PolicyTarget = {}): boolean {
  const r = isPolicyName(rule) ? (rules[rule] as Rule) : undefined;
  return r ? r(ctx, target) : false;
}

/** Throws Forbidden unless the rule allows the action. */
export function enforce(ctx: AuthContext, rule: PolicyName, target: PolicyTarget = {}): void {
  if (!allowed(ctx, rule, target)) {
    throw forbidden(`You are not authorized to perform the requested action: ${rule}.`);
  }
}
