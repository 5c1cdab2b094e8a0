/** Row types of Keystone's tables (see migrations/2026112201-identity.ts). Booleans are 0/1; JSON is text. */
export interface DomainRow {
  id: string;
  name: string;
  description: string;
  enabled: number;
  extra: string;
  created_at: string;
}
export interface ProjectRow {
  id: string;
  name: string;
  domain_id: string;
  parent_id: string | null;
  description: string;
  enabled: number;
  extra: string;
  created_at: string;
}
export interface ProjectTagRow {
  project_id: string;
  tag: string;
}
export interface UserRow {
  id: string;
  name: string;
  domain_id: string;
  enabled: number;
  password_hash: string | null;
  password_expires_at: string | null;
  default_project_id: string | null;
  options: string;
  extra: string;
  created_at: string;
  /** security_compliance lockout: consecutive failed password logins and when the last one happened. */
  failed_auth_count: number;
  failed_auth_at: string | null;
}
export interface PasswordHistoryRow {
  user_id: string;
  password_hash: string;
  created_at: string;
}
export interface GroupRow {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  extra: string;
}
export interface GroupMemberRow {
  group_id: string;
  user_id: string;
}
export interface RoleRow {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  options: string;
  extra: string;
}
export interface ImpliedRoleRow {
  prior_role_id: string;
  implied_role_id: string;
}
export type AssignmentType =
  | 'UserProject'
  | 'GroupProject'
  | 'UserDomain'
  | 'GroupDomain'
  | 'UserSystem'
  | 'GroupSystem';
export interface AssignmentRow {
  type: AssignmentType;
  actor_id: string;
  target_id: string;
  role_id: string;
  inherited: number;
}
export interface TokenRow {
  id_hash: string;
  user_id: string;
  project_id: string | null;
  domain_id: string | null;
  system: number;
  methods: string;
  issued_at: string;
  expires_at: string;
  audit_id: string;
  parent_audit_id: string | null;
  trust_id: string | null;
  app_cred_id: string | null;
}
export interface AppCredRow {
  id: string;
  name: string;
  user_id: string;
  project_id: string;
  secret_hash: string;
  description: string | null;
  expires_at: string | null;
  unrestricted: number;
  roles: string;
  created_at: string;
}
export interface AccessRuleRow {
  id: string;
  user_id: string;
  service: string;
  path: string;
  method: string;
}
export interface AppCredAccessRuleRow {
  app_cred_id: string;
  access_rule_id: string;
}
export interface TrustRow {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: number;
  expires_at: string | null;
  remaining_uses: number | null;
  redelegation_count: number;
  redelegated_trust_id: string | null;
  roles: string;
  deleted_at: string | null;
  extra: string;
}
export interface RegionRow {
  id: string;
  description: string;
  parent_region_id: string | null;
  extra: string;
}
export interface ServiceRow {
  id: string;
  type: string;
  name: string;
  description: string;
  enabled: number;
  extra: string;
}
export interface EndpointRow {
  id: string;
  service_id: string;
  interface: string;
  url: string;
  region_id: string | null;
  enabled: number;
  extra: string;
}
export interface CredentialRow {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  extra: string;
}
export interface RegisteredLimitRow {
  id: string;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  default_limit: number;
  description: string | null;
}
export interface LimitRow {
  id: string;
  project_id: string | null;
  domain_id: string | null;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  resource_limit: number;
  description: string | null;
}
export interface PolicyRow {
  id: string;
  type: string;
  blob: string;
  extra: string;
}

export interface IdentityTables {
  domains: DomainRow;
  projects: ProjectRow;
  project_tags: ProjectTagRow;
  users: UserRow;
  password_history: PasswordHistoryRow;
  identity_groups: GroupRow;
  group_members: GroupMemberRow;
  roles: RoleRow;
  implied_roles: ImpliedRoleRow;
  assignments: AssignmentRow;
  tokens: TokenRow;
  application_credentials: AppCredRow;
  access_rules: AccessRuleRow;
  app_cred_access_rules: AppCredAccessRuleRow;
  trusts: TrustRow;
  regions: RegionRow;
  services: ServiceRow;
  endpoints: EndpointRow;
  credentials: CredentialRow;
  registered_limits: RegisteredLimitRow;
  limits: LimitRow;
  policies: PolicyRow;
}
