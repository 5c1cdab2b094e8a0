/** Row types of migrations/2026112203-identity-extra.ts. */
export interface DomainConfigRow {
  domain_id: string;
  group_name: string;
  option_name: string;
  value: string;
  sensitive: number;
}

export interface IdentityExtraTables {
  domain_configs: DomainConfigRow;
}

/** Row types of migrations/2026112206-identity-filters.ts. */
export interface EndpointGroupRow {
  id: string;
  name: string;
  description: string;
  filters: string;
}
export interface ProjectEndpointGroupRow {
  endpoint_group_id: string;
  project_id: string;
}
export interface ProjectEndpointRow {
  endpoint_id: string;
  project_id: string;
}
export interface OAuthConsumerRow {
  id: string;
  description: string | null;
  secret_hash: string;
  extra: string;
}

export interface IdentityFilterTables {
  endpoint_groups: EndpointGroupRow;
  project_endpoint_groups: ProjectEndpointGroupRow;
  project_endpoints: ProjectEndpointRow;
  oauth_consumers: OAuthConsumerRow;
}
