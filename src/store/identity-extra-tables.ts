/** Row types of migrations/2026112203-identity-extra.ts. */
export interface DomainConfigRow { domain_id: string; group_name: string; option_name: string; value: string; sensitive: number }

export interface IdentityExtraTables {
  domain_configs: DomainConfigRow;
}
