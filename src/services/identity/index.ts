import type { IdentityDeps } from './common.js';
import { Domains, DEFAULT_DOMAIN_ID } from './domains.js';
import { Projects } from './projects.js';
import { Users } from './users.js';
import { Roles } from './roles.js';
import { Assignments } from './assignments.js';
import { Tokens } from './tokens.js';
import { Authenticator } from './auth.js';
import { Catalog } from './catalog.js';
import { EndpointFilter } from './endpoint-filter.js';
import { OAuthConsumers } from './oauth-consumers.js';
import { AppCreds } from './app-creds.js';
import { Trusts } from './trusts.js';
import { Credentials } from './credentials.js';
import { Limits } from './limits.js';
import { Policies } from './policies.js';
import { DomainConfigs } from './domain-configs.js';

export { DEFAULT_DOMAIN_ID };
export type { TokenInfo } from './tokens.js';

/** The identity service (Keystone): one object per resource, wired so deletes and disables revoke and cascade. */
export class IdentityService {
  readonly domains: Domains;
  readonly projects: Projects;
  readonly users: Users;
  readonly roles: Roles;
  readonly assignments: Assignments;
  readonly tokens: Tokens;
  readonly auth: Authenticator;
  readonly catalog: Catalog;
  readonly appCreds: AppCreds;
  readonly trusts: Trusts;
  readonly credentials: Credentials;
  readonly limits: Limits;
  readonly policies: Policies;
  readonly domainConfigs: DomainConfigs;
  readonly endpointFilter: EndpointFilter;
  readonly oauthConsumers: OAuthConsumers;

  constructor(readonly deps: IdentityDeps) {
    // Late-bound so each module can ask tokens to revoke without a construction cycle.
    const revoke = {
      user: (id: string) => this.tokens.revokeUser(id),
      project: (id: string) => this.tokens.revokeProject(id),
      domain: (id: string) => this.tokens.revokeDomain(id),
    };
    this.domains = new Domains(deps, revoke.domain);
    this.projects = new Projects(deps, revoke.project);
    this.users = new Users(deps, revoke.user);
    this.roles = new Roles(deps, async () => {});
    this.assignments = new Assignments(deps, this.roles, this.projects, (users, target) =>
      this.tokens.revokeFor(users, target),
    );
    this.tokens = new Tokens(deps, this.assignments, this.roles);
    this.auth = new Authenticator(deps, this.tokens);
    this.endpointFilter = new EndpointFilter(deps);
    this.catalog = new Catalog(deps, (projectId) => this.endpointFilter.allowedEndpointIds(projectId));
    this.oauthConsumers = new OAuthConsumers(deps);
    this.appCreds = new AppCreds(deps, this.roles, this.assignments, (id) => this.tokens.revokeAppCred(id));
    this.trusts = new Trusts(deps, this.roles, this.assignments, this.appCreds, (id) => this.tokens.revokeTrust(id));
    this.credentials = new Credentials(deps);
    this.limits = new Limits(deps);
    this.policies = new Policies(deps);
    this.domainConfigs = new DomainConfigs(deps);
  }

  /**
   * Removes what hangs off these projects: grants, application credentials (and their rule links), trusts, limits,
   * tags, tokens.
   */
  private async purgeProjectDependents(trx: IdentityDeps['db'], ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.assignments.purge(trx, { targets: ids });
    const acs = (
      await trx.selectFrom('application_credentials').select('id').where('project_id', 'in', ids).execute()
    ).map((r) => r.id);
    if (acs.length) await trx.deleteFrom('app_cred_access_rules').where('app_cred_id', 'in', acs).execute();
    await trx.deleteFrom('application_credentials').where('project_id', 'in', ids).execute();
    await trx
      .updateTable('trusts')
      .set({ deleted_at: new Date().toISOString() })
      .where('project_id', 'in', ids)
      .where('deleted_at', 'is', null)
      .execute();
    await trx.deleteFrom('limits').where('project_id', 'in', ids).execute();
    await trx.deleteFrom('project_tags').where('project_id', 'in', ids).execute();
    await trx.deleteFrom('project_endpoints').where('project_id', 'in', ids).execute();
    await trx.deleteFrom('project_endpoint_groups').where('project_id', 'in', ids).execute();
    await trx.deleteFrom('tokens').where('project_id', 'in', ids).execute();
  }

  /**
   * Removes what belongs to these users: grants, memberships, credentials, application credentials, access rules,
   * trusts, tokens.
   */
  private async purgeUserDependents(trx: IdentityDeps['db'], ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.assignments.purge(trx, { actors: ids });
    const acs = (
      await trx.selectFrom('application_credentials').select('id').where('user_id', 'in', ids).execute()
    ).map((r) => r.id);
    if (acs.length) await trx.deleteFrom('app_cred_access_rules').where('app_cred_id', 'in', acs).execute();
    await trx.deleteFrom('application_credentials').where('user_id', 'in', ids).execute();
    await trx.deleteFrom('access_rules').where('user_id', 'in', ids).execute();
    await trx.deleteFrom('credentials').where('user_id', 'in', ids).execute();
    await trx.deleteFrom('group_members').where('user_id', 'in', ids).execute();
    await trx
      .updateTable('trusts')
      .set({ deleted_at: new Date().toISOString() })
      .where('deleted_at', 'is', null)
      .where((eb) => eb.or([eb('trustor_user_id', 'in', ids), eb('trustee_user_id', 'in', ids)]))
      .execute();
    await trx.deleteFrom('tokens').where('user_id', 'in', ids).execute();
  }

  /** Deletes a project and what hangs off it. */
  async deleteProject(id: string): Promise<void> {
    await this.projects.delete(id, (trx, ids) => this.purgeProjectDependents(trx, ids));
  }

  /** Deletes a user and what is theirs. */
  async deleteUser(id: string): Promise<void> {
    await this.users.delete(id, (trx) => this.purgeUserDependents(trx, [id]));
  }

  /** Deletes a disabled domain with its projects, users, groups, domain-specific roles and config. */
  async deleteDomain(id: string): Promise<void> {
    await this.domains.delete(id, async (trx, domainId) => {
      const ids = async (table: 'projects' | 'users' | 'identity_groups' | 'roles') =>
        (await trx.selectFrom(table).select('id').where('domain_id', '=', domainId).execute()).map((r) => r.id);
      const [projects, users, groups, roles] = [
        await ids('projects'),
        await ids('users'),
        await ids('identity_groups'),
        await ids('roles'),
      ];
      await this.purgeProjectDependents(trx, projects);
      await this.purgeUserDependents(trx, users);
      await this.assignments.purge(trx, { targets: [domainId], actors: groups });
      if (roles.length) {
        await trx.deleteFrom('assignments').where('role_id', 'in', roles).execute();
        await trx
          .deleteFrom('implied_roles')
          .where((eb) => eb.or([eb('prior_role_id', 'in', roles), eb('implied_role_id', 'in', roles)]))
          .execute();
        await trx.deleteFrom('roles').where('id', 'in', roles).execute();
      }
      if (projects.length) await trx.deleteFrom('projects').where('id', 'in', projects).execute();
      if (users.length) await trx.deleteFrom('users').where('id', 'in', users).execute();
      if (groups.length) {
        await trx.deleteFrom('group_members').where('group_id', 'in', groups).execute();
        await trx.deleteFrom('identity_groups').where('id', 'in', groups).execute();
      }
      await trx.deleteFrom('tokens').where('domain_id', '=', domainId).execute();
      await trx.deleteFrom('domain_configs').where('domain_id', '=', domainId).execute();
    });
    this.roles.invalidate();
  }
}
