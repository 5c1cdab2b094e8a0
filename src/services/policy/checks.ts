// The building blocks every rule is made of, in the spirit of OpenStack's secure-RBAC defaults
// (oslo.policy's "role:reader and project_id:%(project_id)s" and friends): admin > member > reader.
import type { AuthContext } from '../auth-context.js';
import { isAdmin } from '../auth-context.js';

/** What a rule may look at about the object acted on. */
export interface PolicyTarget {
  project_id?: string | null;
  domain_id?: string | null;
  user_id?: string | null;
  /** For trusts: the two parties. */
  trustor_user_id?: string | null;
  trustee_user_id?: string | null;
}

/** One check: may this caller act on this target? */
export type Rule = (c: AuthContext, t: PolicyTarget) => boolean;

export const admin: Rule = (c) => isAdmin(c);
export const reader: Rule = (c) => c.roleNames.has('reader') || c.roleNames.has('member') || isAdmin(c);
export const member: Rule = (c) => c.roleNames.has('member') || isAdmin(c);
export const ownProject: Rule = (c, t) => !!c.projectId && t.project_id === c.projectId;
export const ownUser: Rule = (c, t) => !!t.user_id && t.user_id === c.userId;
export const anyOf =
  (...rules: Rule[]): Rule =>
  (c, t) =>
    rules.some((r) => r(c, t));
export const allOf =
  (...rules: Rule[]): Rule =>
  (c, t) =>
    rules.every((r) => r(c, t));
/** Any caller with a valid token (the auth hook has already checked it). */
export const anyone: Rule = () => true;

/** PROJECT_READER_OR_ADMIN: a reader (or member) of the target's project, or an admin. */
export const projectReader: Rule = anyOf(admin, allOf(reader, ownProject));
/** PROJECT_MEMBER_OR_ADMIN: a member of the target's project, or an admin. */
export const projectMember: Rule = anyOf(admin, allOf(member, ownProject));
/** ADMIN_OR_OWNER (Nova's keypairs): the user the object belongs to, or an admin. */
export const adminOrOwner: Rule = anyOf(admin, ownUser);
