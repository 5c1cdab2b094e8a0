/** Who is calling, as established from a validated token. Every service method that acts for a user takes one. */
export interface AuthContext {
  /** SHA-256 of the token, the token table's key. */
  tokenHash: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  /** Set for a project-scoped token. */
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  /** Set for a domain-scoped token. */
  domainId?: string;
  domainName?: string;
  /** True for a system-scoped token. */
  system: boolean;
  /** Effective roles in the token's scope, implied roles included. */
  roles: { id: string; name: string }[];
  roleNames: ReadonlySet<string>;
  methods: string[];
  auditIds: string[];
  issuedAt: string;
  expiresAt: string;
  trustId?: string;
  appCredId?: string;
  /** Set when an application credential with access rules made the token: only matching requests are allowed. */
  accessRules?: { service: string; method: string; path: string }[];
}

/** Per-request information every service call receives. */
export interface RequestContext {
  requestId: string;
  auth: AuthContext;
}

/** Cloud admin: the admin role in any scope (OpenStack's legacy `admin_required`, which Tempest's defaults expect). */
export function isAdmin(a: AuthContext): boolean {
  return a.roleNames.has('admin');
}
