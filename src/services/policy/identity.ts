// Keystone's secure-RBAC defaults (keystone/common/policies/*.py), one rule per operation under Keystone's own names.
// Keystone's "admin_required" is the admin role in any scope (as isAdmin), its SYSTEM_READER is a reader with a
// system-scoped token. Not modelled: the domain-scoped reader and manager personas (DOMAIN_READER, the domain
// manager's user and project management); here a domain-scoped token reads its own domain only.
//
// Targets come from the route (src/api/identity/*): user_id, project_id, domain_id from the path, the owner of a loaded
// credential or limit, the two parties of a trust. Rules that need more than a target (a token's subject, the filter a
// list is narrowed to) are "anyone" here and the handler narrows or checks what it returns, as Keystone's does.
import type { AuthContext } from '../auth-context.js';
import { admin, anyOf, allOf, anyone, ownUser, reader, type PolicyTarget, type Rule } from './checks.js';

const systemReader: Rule = (c) => c.system && reader(c, {});
const adminOrSystemReader: Rule = anyOf(admin, systemReader);
const adminOrSystemReaderOrOwner: Rule = anyOf(admin, systemReader, ownUser);
/** A token scoped to the target's project (PROJECT_USER: any role on it). */
const tokenOfProject: Rule = (c, t) => !!c.projectId && c.projectId === (t.project_id ?? null);
/** A token scoped to the target domain, or to a project in it. */
const tokenOfDomain: Rule = (c, t) =>
  !!t.domain_id && (c.domainId === t.domain_id || c.projectDomainId === t.domain_id);
const trustor: Rule = (c, t) => !!t.trustor_user_id && c.userId === t.trustor_user_id;
const trustParty: Rule = (c, t) => trustor(c, t) || (!!t.trustee_user_id && c.userId === t.trustee_user_id);
/** Any scoped token (an unscoped one carries no catalog, as Keystone answers). */
const scoped: Rule = (c: AuthContext) => !!(c.projectId || c.domainId || c.system);

/** The five rules of one resource, named as Keystone names them (the names stay literal types for PolicyName). */
const crud = <N extends string, P extends string>(name: N, plural: P, read: Rule, write: Rule) =>
  ({
    [`identity:create_${name}`]: write,
    [`identity:list_${plural}`]: read,
    [`identity:get_${name}`]: read,
    [`identity:update_${name}`]: write,
    [`identity:delete_${name}`]: write,
  }) as Record<`identity:${'create' | 'get' | 'update' | 'delete'}_${N}` | `identity:list_${P}`, Rule>;

export const identityRules = {
  // kept for object-level checks inside handlers
  'identity:admin': admin,

  // tokens and what a token may see (auth.py, token.py): the subject check is the handler's (the target is a token)
  'identity:validate_token': anyone,
  'identity:check_token': anyone,
  'identity:revoke_token': anyone,
  'identity:get_auth_catalog': scoped,
  'identity:get_auth_projects': anyone,
  'identity:get_auth_domains': anyone,
  'identity:get_auth_system': anyone,
  'identity:list_projects_for_federation': anyone,

  // domains (domain.py): listing is narrowed by the handler for non-admins
  ...crud('domain', 'domains', adminOrSystemReader, admin),
  'identity:list_domains': anyone,
  'identity:get_domain': anyOf(adminOrSystemReader, tokenOfDomain),

  // projects and their tags (project.py, project_tags.py)
  ...crud('project', 'projects', adminOrSystemReader, admin),
  'identity:get_project': anyOf(adminOrSystemReader, tokenOfProject),
  'identity:list_user_projects': adminOrSystemReaderOrOwner,
  'identity:list_project_tags': anyOf(adminOrSystemReader, tokenOfProject),
  'identity:get_project_tag': anyOf(adminOrSystemReader, tokenOfProject),
  'identity:update_project_tags': admin,
  'identity:create_project_tag': admin,
  'identity:delete_project_tags': admin,
  'identity:delete_project_tag': admin,

  // users and groups (user.py, group.py)
  ...crud('user', 'users', adminOrSystemReader, admin),
  'identity:get_user': adminOrSystemReaderOrOwner,
  'identity:change_password': anyOf(admin, ownUser),
  'identity:list_groups_for_user': adminOrSystemReaderOrOwner,
  ...crud('group', 'groups', adminOrSystemReader, admin),
  'identity:list_users_in_group': adminOrSystemReader,
  'identity:check_user_in_group': adminOrSystemReader,
  'identity:add_user_to_group': admin,
  'identity:remove_user_from_group': admin,

  // roles, implied roles, grants, assignments (role.py, implied_role.py, grant.py, role_assignment.py)
  ...crud('role', 'roles', adminOrSystemReader, admin),
  'identity:create_implied_role': admin,
  'identity:get_implied_role': adminOrSystemReader,
  'identity:check_implied_role': adminOrSystemReader,
  'identity:delete_implied_role': admin,
  'identity:list_implied_roles': adminOrSystemReader,
  'identity:list_role_inference_rules': adminOrSystemReader,
  'identity:create_grant': admin,
  'identity:check_grant': adminOrSystemReader,
  'identity:revoke_grant': admin,
  /** A user may list their own grants (Keystone's ADMIN_OR_SYSTEM_READER, plus the user itself as Tempest expects). */
  'identity:list_grants': anyOf(adminOrSystemReader, allOf(reader, ownUser)),
  'identity:list_role_assignments': anyOf(adminOrSystemReader, ownUser),

  // catalog (region.py, service.py, endpoint.py): any token reads regions
  ...crud('region', 'regions', anyone, admin),
  ...crud('service', 'services', adminOrSystemReader, admin),
  ...crud('endpoint', 'endpoints', adminOrSystemReader, admin),

  // application credentials and access rules (application_credential.py, access_rule.py): the user's own
  ...crud('application_credential', 'application_credentials', adminOrSystemReaderOrOwner, anyOf(admin, ownUser)),
  'identity:get_access_rule': adminOrSystemReaderOrOwner,
  'identity:list_access_rules': adminOrSystemReaderOrOwner,
  'identity:delete_access_rule': anyOf(admin, ownUser),

  // trusts (trust.py): the target is the trust (its two parties) or the list's filter
  'identity:create_trust': trustor,
  'identity:list_trusts': anyOf(admin, trustParty),
  'identity:get_trust': anyOf(admin, trustParty),
  'identity:delete_trust': anyOf(admin, trustor),
  'identity:list_roles_for_trust': anyOf(admin, trustParty),
  'identity:get_role_for_trust': anyOf(admin, trustParty),

  // credentials (credential.py, ec2_credential.py): the owner of the credential; the list is narrowed by the handler
  ...crud('credential', 'credentials', adminOrSystemReaderOrOwner, anyOf(admin, ownUser)),
  'identity:list_credentials': anyone,
  'identity:ec2_create_credential': anyOf(admin, ownUser),
  'identity:ec2_list_credentials': adminOrSystemReaderOrOwner,
  'identity:ec2_get_credential': adminOrSystemReaderOrOwner,
  'identity:ec2_delete_credential': anyOf(admin, ownUser),

  // unified limits (registered_limit.py, limit.py): any token reads registered limits; limits are narrowed by scope
  'identity:create_registered_limits': admin,
  'identity:list_registered_limits': anyone,
  'identity:get_registered_limit': anyone,
  'identity:update_registered_limit': admin,
  'identity:delete_registered_limit': admin,
  'identity:get_limit_model': anyone,
  'identity:create_limits': admin,
  'identity:list_limits': anyone,
  'identity:get_limit': anyOf(
    adminOrSystemReader,
    tokenOfProject,
    (c, t: PolicyTarget) => !!c.domainId && c.domainId === t.domain_id,
  ),
  'identity:update_limit': admin,
  'identity:delete_limit': admin,

  // the legacy policy store, domain configs, endpoint filter, OAuth1 consumers: administrators'
  ...crud('policy', 'policies', adminOrSystemReader, admin),
  'identity:create_domain_config': admin,
  'identity:get_domain_config': adminOrSystemReader,
  'identity:get_domain_config_default': adminOrSystemReader,
  'identity:update_domain_config': admin,
  'identity:delete_domain_config': admin,
  ...crud('endpoint_group', 'endpoint_groups', adminOrSystemReader, admin),
  'identity:add_endpoint_group_to_project': admin,
  'identity:get_endpoint_group_in_project': adminOrSystemReader,
  'identity:remove_endpoint_group_from_project': admin,
  'identity:list_projects_associated_with_endpoint_group': adminOrSystemReader,
  'identity:list_endpoints_associated_with_endpoint_group': adminOrSystemReader,
  'identity:list_endpoint_groups_for_project': adminOrSystemReader,
  'identity:add_endpoint_to_project': admin,
  'identity:check_endpoint_in_project': adminOrSystemReader,
  'identity:remove_endpoint_from_project': admin,
  'identity:list_projects_for_endpoint': adminOrSystemReader,
  'identity:list_endpoints_for_project': adminOrSystemReader,
  ...crud('consumer', 'consumers', adminOrSystemReader, admin),
} satisfies Record<string, Rule>;
