import type { IdentityDeps } from './common.js';
import type { DomainConfigRow } from '../../store/identity-extra-tables.js';
import { inTransaction } from '../../store/database.js';
import { CloudError, badRequest, notFound } from '../../errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One domain's configuration: group → option → value. */
export type DomainConfig = Record<string, Record<string, unknown>>;

/** The options a domain may override and Keystone's defaults for them ([identity] and [ldap]). */
export const DOMAIN_CONFIG_DEFAULTS: DomainConfig = {
  identity: { driver: 'sql', list_limit: null },
  ldap: {
    url: 'ldap://localhost',
    user: null,
    suffix: 'cn=example,dc=com',
    query_scope: 'one',
    page_size: 0,
    alias_dereferencing: 'default',
    debug_level: null,
    chase_referrals: null,
    user_tree_dn: null,
    user_filter: null,
    user_objectclass: 'inetOrgPerson',
    user_id_attribute: 'cn',
    user_name_attribute: 'sn',
    user_mail_attribute: 'mail',
    user_description_attribute: 'description',
    user_pass_attribute: 'userPassword',
    user_enabled_attribute: 'enabled',
    user_enabled_invert: false,
    user_enabled_mask: 0,
    user_enabled_default: 'True',
    user_attribute_ignore: ['default_project_id'],
    user_default_project_id_attribute: null,
    user_enabled_emulation: false,
    user_enabled_emulation_dn: null,
    user_enabled_emulation_use_group_config: false,
    user_additional_attribute_mapping: [],
    group_tree_dn: null,
    group_filter: null,
    group_objectclass: 'groupOfNames',
    group_id_attribute: 'cn',
    group_name_attribute: 'ou',
    group_members_are_ids: false,
    group_member_attribute: 'member',
    group_desc_attribute: 'description',
    group_attribute_ignore: [],
    group_additional_attribute_mapping: [],
    tls_cacertdir: null,
    tls_cacertfile: null,
    use_tls: false,
    tls_req_cert: 'demand',
    use_pool: true,
    pool_size: 10,
    pool_retry_max: 3,
    pool_retry_delay: 0.1,
    pool_connection_timeout: -1,
    pool_connection_lifetime: 600,
    use_auth_pool: true,
    auth_pool_size: 100,
    auth_pool_connection_lifetime: 60,
  },
};
/** Options that are stored but never shown. */
const SENSITIVE: Record<string, string[]> = { identity: [], ldap: ['password'] };

/** Keystone answers an invalid domain configuration with 403. */
const invalid = (why: string) => new CloudError('Forbidden', `Invalid domain specific configuration: ${why}.`);

const isKnownGroup = (g: string) => g in DOMAIN_CONFIG_DEFAULTS;
const isKnownOption = (g: string, o: string) =>
  isKnownGroup(g) && (o in DOMAIN_CONFIG_DEFAULTS[g]! || SENSITIVE[g]!.includes(o));

/**
 * Domain-specific configuration (/v3/domains/{id}/config): stored and served as Keystone does. Gureum has only
 * its SQL identity backend, so an `ldap` driver set here is recorded, not used.
 */
export class DomainConfigs {
  constructor(private readonly d: IdentityDeps) {}

  private async requireDomain(domainId: string): Promise<void> {
    if (!(await this.d.db.selectFrom('domains').select('id').where('id', '=', domainId).executeTakeFirst()))
      throw notFound(`Could not find domain: ${domainId}.`);
  }

  /** Validates a whole or partial config body into rows. */
  private rows(domainId: string, config: unknown): DomainConfigRow[] {
    if (!isObj(config) || Object.keys(config).length === 0) throw invalid('the config is empty');
    const out: DomainConfigRow[] = [];
    for (const [group, opts] of Object.entries(config)) {
      if (!isKnownGroup(group)) throw invalid(`group ${group} is not supported`);
      if (!isObj(opts) || Object.keys(opts).length === 0) throw invalid(`group ${group} must be a non-empty object`);
      for (const [option, value] of Object.entries(opts)) {
        if (!isKnownOption(group, option)) throw invalid(`option ${option} in group ${group} is not supported`);
        out.push({
          domain_id: domainId,
          group_name: group,
          option_name: option,
          value: JSON.stringify(value ?? null),
          sensitive: SENSITIVE[group]!.includes(option) ? 1 : 0,
        });
      }
    }
    return out;
  }

  private async load(domainId: string): Promise<DomainConfigRow[]> {
    return this.d.db
      .selectFrom('domain_configs')
      .selectAll()
      .where('domain_id', '=', domainId)
      .orderBy('group_name')
      .orderBy('option_name')
      .execute();
  }

  private shape(rows: DomainConfigRow[]): DomainConfig {
    const out: DomainConfig = {};
    for (const r of rows) {
      if (r.sensitive) continue;
      (out[r.group_name] ??= {})[r.option_name] = JSON.parse(r.value) as unknown;
    }
    return out;
  }

  async get(domainId: string, group?: string, option?: string): Promise<DomainConfig | Record<string, unknown>> {
    await this.requireDomain(domainId);
    const all = this.shape(await this.load(domainId));
    if (!Object.keys(all).length) throw notFound(`Could not find domain config for domain ${domainId}.`);
    if (group === undefined) return all;
    if (!isKnownGroup(group)) throw invalid(`group ${group} is not supported`);
    const g = all[group];
    if (!g) throw notFound(`Could not find group ${group} in the config of domain ${domainId}.`);
    if (option === undefined) return { [group]: g };
    if (!isKnownOption(group, option)) throw invalid(`option ${option} in group ${group} is not supported`);
    if (!(option in g)) throw notFound(`Could not find option ${option} in group ${group} of domain ${domainId}.`);
    return { [option]: g[option] };
  }

  /** PUT: replaces the whole config; `created` tells 201 from 200. */
  async replace(domainId: string, config: unknown): Promise<{ config: DomainConfig; created: boolean }> {
    await this.requireDomain(domainId);
    const rows = this.rows(domainId, config);
    const created = await inTransaction(this.d.db, async (trx) => {
      const had = await trx
        .selectFrom('domain_configs')
        .select('domain_id')
        .where('domain_id', '=', domainId)
        .executeTakeFirst();
      await trx.deleteFrom('domain_configs').where('domain_id', '=', domainId).execute();
      await trx.insertInto('domain_configs').values(rows).execute();
      return !had;
    });
    return { config: this.shape(await this.load(domainId)), created };
  }

  /** PATCH at the config, group or option level: merges the given options into the existing config. */
  async update(domainId: string, config: unknown, group?: string, option?: string): Promise<DomainConfig> {
    await this.requireDomain(domainId);
    let body = config;
    if (group !== undefined) {
      if (!isKnownGroup(group)) throw invalid(`group ${group} is not supported`);
      if (option !== undefined) {
        if (!isKnownOption(group, option)) throw invalid(`option ${option} in group ${group} is not supported`);
        if (!isObj(config) || Object.keys(config).length !== 1 || !(option in config)) {
          throw badRequest(
            `Trying to update option ${option} in group ${group}: the config must name that option only.`,
          );
        }
        body = { [group]: config };
      } else if (!isObj(config) || Object.keys(config).length !== 1 || !(group in config)) {
        throw badRequest(`Trying to update group ${group}: the config must name that group only.`);
      }
    }
    const rows = this.rows(domainId, body);
    await inTransaction(this.d.db, async (trx) => {
      const existing = await trx
        .selectFrom('domain_configs')
        .select(['group_name', 'option_name'])
        .where('domain_id', '=', domainId)
        .execute();
      if (!existing.length) throw notFound(`Could not find domain config for domain ${domainId}.`);
      if (group !== undefined && !existing.some((e) => e.group_name === group))
        throw notFound(`Could not find group ${group} in the config of domain ${domainId}.`);
      if (option !== undefined && !existing.some((e) => e.group_name === group && e.option_name === option)) {
        throw notFound(`Could not find option ${option} in group ${group} of domain ${domainId}.`);
      }
      for (const r of rows) {
        await trx
          .deleteFrom('domain_configs')
          .where('domain_id', '=', domainId)
          .where('group_name', '=', r.group_name)
          .where('option_name', '=', r.option_name)
          .execute();
        await trx.insertInto('domain_configs').values(r).execute();
      }
    });
    return this.shape(await this.load(domainId));
  }

  /** DELETE at the config, group or option level; 404 when there is nothing there. */
  async delete(domainId: string, group?: string, option?: string): Promise<void> {
    await this.requireDomain(domainId);
    if (group !== undefined && !isKnownGroup(group)) throw invalid(`group ${group} is not supported`);
    if (group !== undefined && option !== undefined && !isKnownOption(group, option))
      throw invalid(`option ${option} in group ${group} is not supported`);
    let q = this.d.db.deleteFrom('domain_configs').where('domain_id', '=', domainId);
    if (group !== undefined) q = q.where('group_name', '=', group);
    if (option !== undefined) q = q.where('option_name', '=', option);
    const r = await q.executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) {
      throw notFound(
        group === undefined
          ? `Could not find domain config for domain ${domainId}.`
          : `Could not find ${option ?? group} in the config of domain ${domainId}.`,
      );
    }
  }

  /** Keystone's defaults for the overridable options: all, one group's, or one option's. */
  defaults(group?: string, option?: string): DomainConfig | Record<string, unknown> {
    if (group === undefined) return DOMAIN_CONFIG_DEFAULTS;
    if (!isKnownGroup(group)) throw invalid(`group ${group} is not supported`);
    if (option === undefined) return { [group]: DOMAIN_CONFIG_DEFAULTS[group] };
    if (!(option in DOMAIN_CONFIG_DEFAULTS[group]!))
      throw invalid(`option ${option} in group ${group} has no default to show`);
    return { [option]: DOMAIN_CONFIG_DEFAULTS[group]![option] };
  }
}
