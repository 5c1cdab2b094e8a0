import type { Domain } from '../../services/identity/domains.js';
import type { Project } from '../../services/identity/projects.js';
import type { User, Group } from '../../services/identity/users.js';
import type { Role } from '../../services/identity/roles.js';
import type { TokenInfo } from '../../services/identity/tokens.js';
import type { CatalogEntry } from '../../services/identity/catalog.js';
import type {
  Region as RegionRow,
  CatalogService as ServiceRow,
  Endpoint as EndpointRow,
} from '../../services/identity/catalog.js';
import { fromJson } from '../../util/json.js';

/** Keystone's JSON shapes. `base` is the public URL of /identity/v3. */
export class Views {
  constructor(readonly base: string) {}

  self(path: string) {
    return { self: `${this.base}${path}` };
  }
  collection(path: string, query = '') {
    return { self: `${this.base}${path}${query ? `?${query}` : ''}`, previous: null, next: null };
  }

  domain(d: Domain) {
    return {
      ...d.extra,
      id: d.id,
      name: d.name,
      description: d.description,
      enabled: d.enabled,
      tags: [],
      options: {},
      links: this.self(`/domains/${d.id}`),
    };
  }
  project(p: Project) {
    return {
      ...p.extra,
      id: p.id,
      name: p.name,
      domain_id: p.domain_id,
      description: p.description,
      enabled: p.enabled,
      parent_id: p.parent_id ?? p.domain_id,
      is_domain: false,
      tags: p.tags,
      options: {},
      links: this.self(`/projects/${p.id}`),
    };
  }
  /** A domain seen through the projects API (Keystone models domains as projects with is_domain). */
  domainAsProject(d: Domain) {
    return {
      ...d.extra,
      id: d.id,
      name: d.name,
      domain_id: null,
      description: d.description,
      enabled: d.enabled,
      parent_id: null,
      is_domain: true,
      tags: [],
      options: {},
      links: this.self(`/projects/${d.id}`),
    };
  }
  user(u: User) {
    const out: Record<string, unknown> = {
      ...u.extra,
      id: u.id,
      name: u.name,
      domain_id: u.domain_id,
      enabled: u.enabled,
      password_expires_at: u.password_expires_at,
      options: u.options,
      links: this.self(`/users/${u.id}`),
    };
    if (u.default_project_id) out.default_project_id = u.default_project_id;
    return out;
  }
  group(g: Group) {
    return {
      ...g.extra,
      id: g.id,
      name: g.name,
      domain_id: g.domain_id,
      description: g.description,
      links: this.self(`/groups/${g.id}`),
    };
  }
  role(r: Role) {
    return {
      ...r.extra,
      id: r.id,
      name: r.name,
      domain_id: r.domain_id,
      description: r.description,
      options: r.options,
      links: this.self(`/roles/${r.id}`),
    };
  }
  roleRef(r: Role) {
    const out: Record<string, unknown> = { id: r.id, name: r.name, links: this.self(`/roles/${r.id}`) };
    if (r.domain_id) out.domain_id = r.domain_id;
    return out;
  }
  inference(prior: Role, implied: Role[]) {
    return { prior_role: this.roleRef(prior), implies: implied.map((r) => this.roleRef(r)) };
  }
  region(r: RegionRow) {
    return {
      ...fromJson(r.extra, {}),
      id: r.id,
      description: r.description,
      parent_region_id: r.parent_region_id,
      links: this.self(`/regions/${r.id}`),
    };
  }
  service(s: ServiceRow) {
    const extra = fromJson<Record<string, unknown>>(s.extra, {});
    delete extra.gureum_managed;
    return {
      ...extra,
      id: s.id,
      type: s.type,
      name: s.name,
      description: s.description,
      enabled: !!s.enabled,
      links: this.self(`/services/${s.id}`),
    };
  }
  endpoint(e: EndpointRow) {
    return {
      ...fromJson(e.extra, {}),
      id: e.id,
      service_id: e.service_id,
      interface: e.interface,
      url: e.url,
      region_id: e.region_id,
      region: e.region_id,
      enabled: !!e.enabled,
      links: this.self(`/endpoints/${e.id}`),
    };
  }

  /** The token body of POST/GET /v3/auth/tokens. */
  token(t: TokenInfo, catalog: CatalogEntry[] | undefined) {
    const body: Record<string, unknown> = {
      methods: t.methods,
      user: {
        id: t.user.id,
        name: t.user.name,
        domain: { id: t.userDomain.id, name: t.userDomain.name },
        password_expires_at: t.user.password_expires_at,
      },
      audit_ids: t.auditIds,
      expires_at: microIso(t.expiresAt),
      issued_at: microIso(t.issuedAt),
    };
    if (t.project) {
      body.project = {
        id: t.project.id,
        name: t.project.name,
        domain: { id: t.projectDomain!.id, name: t.projectDomain!.name },
      };
      body.is_domain = false;
    }
    if (t.domain) body.domain = { id: t.domain.id, name: t.domain.name };
    if (t.system) body.system = { all: true };
    if (t.project || t.domain || t.system) body.roles = t.roles.map((r) => ({ id: r.id, name: r.name }));
    if (catalog && (t.project || t.domain || t.system)) body.catalog = catalog;
    if (t.trust) {
      body['OS-TRUST:trust'] = {
        id: t.trust.id,
        impersonation: !!t.trust.impersonation,
        trustor_user: { id: t.trust.trustor_user_id },
        trustee_user: { id: t.trust.trustee_user_id },
        links: this.self(`/OS-TRUST/trusts/${t.trust.id}`),
      };
    }
    if (t.appCred) {
      body.application_credential = { id: t.appCred.id, name: t.appCred.name, restricted: !t.appCred.unrestricted };
    }
    return { token: body };
  }
}

/** "2026-11-22T02:26:49.123000Z": Keystone prints microseconds. */
export function microIso(iso: string): string {
  return iso.replace(/\.(\d{3})Z$/, '.$1000Z');
}
