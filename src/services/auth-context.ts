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

/**
 * A service acting on its own behalf, as OpenStack services use their service users: admin, system scope, or
 * scoped to `project` when what it creates must belong to one (the bootstrap's images, the default topology).
 */
export function serviceContext(name: string, project?: { id: string; name: string }): AuthContext {
  return {
    tokenHash: '',
    userId: name,
    userName: name,
    userDomainId: 'default',
    userDomainName: 'Default',
    ...(project
      ? { projectId: project.id, projectName: project.name, projectDomainId: 'default', projectDomainName: 'Default' }
      : {}),
    system: !project,
    roles: [{ id: 'admin', name: 'admin' }],
    roleNames: new Set(['admin', 'member', 'reader']),
    methods: [],
    auditIds: [],
    issuedAt: '',
    expiresAt: '',
  };
}

/** Acting for a project as one of its members (the agent creating an instance's ports for its owner). */
export function projectMemberContext(projectId: string, userId: string): AuthContext {
  return {
    tokenHash: '',
    userId,
    userName: userId,
    userDomainId: 'default',
    userDomainName: 'Default',
    projectId,
    projectName: projectId,
    projectDomainId: 'default',
    projectDomainName: 'Default',
    system: false,
    roles: [{ id: 'member', name: 'member' }],
    roleNames: new Set(['member', 'reader']),
    methods: [],
    auditIds: [],
    issuedAt: '',
    expiresAt: '',
  };
}
