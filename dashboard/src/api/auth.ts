// Signing in and out against Keystone v3, as any OpenStack client does: password (or application credential) →
// token, re-scoped to a project; logout revokes every token this page holds; a quiet page signs itself out.
import { call } from './client';
import { sessionStore, type CatalogEntry, type Session } from './session';

interface TokenBody {
  token: {
    expires_at: string;
    user: { id: string; name: string; domain: { name: string } };
    project?: { id: string; name: string };
    roles?: { name: string }[];
    catalog?: CatalogEntry[];
  };
}

export interface ProjectRef { id: string; name: string; domain_id?: string }

/** Minutes without a key press or pointer event after which the dashboard signs out and revokes its tokens. */
export const IDLE_MINUTES = 15;

async function issue(auth: unknown): Promise<{ id: string; body: TokenBody }> {
  const r = await call<TokenBody>('identity', '/auth/tokens', { method: 'POST', body: { auth }, token: null, anonymous: true });
  const id = r.headers.get('x-subject-token');
  if (!id) throw new Error('Keystone returned no token');
  return { id, body: r.data };
}

function toSession(id: string, body: TokenBody, baseToken: string | null, method: Session['authMethod']): Session {
  const t = body.token;
  if (!t.project) throw new Error('token is not scoped to a project');
  return {
    token: id, baseToken, authMethod: method,
    user: { id: t.user.id, name: t.user.name, domainName: t.user.domain.name },
    project: { id: t.project.id, name: t.project.name },
    roles: (t.roles ?? []).map((r) => r.name),
    catalog: t.catalog ?? [],
    expiresAt: Date.parse(t.expires_at),
  };
}

/** Projects a token may be scoped to. */
export async function projectsOf(token: string): Promise<ProjectRef[]> {
  const r = await call<{ projects: ProjectRef[] }>('identity', '/auth/projects', { token, anonymous: true });
  return r.data.projects.sort((a, b) => a.name.localeCompare(b.name));
}

async function scopeTo(baseToken: string, projectId: string): Promise<Session> {
  const { id, body } = await issue({
    identity: { methods: ['token'], token: { id: baseToken } },
    scope: { project: { id: projectId } },
  });
  return toSession(id, body, baseToken, 'password');
}

/** Password sign-in: the user's token, then a token for their first (or their default) project. */
export async function signInWithPassword(domain: string, user: string, password: string): Promise<void> {
  const { id, body } = await issue({
    identity: { methods: ['password'], password: { user: { name: user, domain: { name: domain }, password } } },
  });
  let projectId = body.token.project?.id;
  if (!projectId) {
    const projects = await projectsOf(id);
    if (projects.length === 0) {
      await revoke(id);
      throw new Error('no-project');
    }
    projectId = projects[0]!.id;
  }
  sessionStore.signIn(await scopeTo(id, projectId));
}

/** Application-credential sign-in: the credential fixes the project, so there is no switcher. */
export async function signInWithAppCredential(credentialId: string, secret: string): Promise<void> {
  const { id, body } = await issue({
    identity: { methods: ['application_credential'], application_credential: { id: credentialId, secret } },
  });
  sessionStore.signIn(toSession(id, body, null, 'application_credential'));
}

/** Switches project: a new token for it, the old project token revoked. */
export async function switchProject(projectId: string): Promise<void> {
  const s = sessionStore.get().session;
  if (!s?.baseToken) return;
  const next = await scopeTo(s.baseToken, projectId);
  const old = s.token;
  sessionStore.signIn(next);
  await revoke(old).catch(() => {});
}

async function revoke(token: string): Promise<void> {
  await call('identity', '/auth/tokens', { method: 'DELETE', token, headers: { 'X-Subject-Token': token }, anonymous: true });
}

/** Signs out: every token this page holds is revoked on the server, then forgotten. */
export async function signOut(reason: 'logout' | 'idle' = 'logout'): Promise<void> {
  const s = sessionStore.get().session;
  sessionStore.end(reason);
  // The next person to sign in at this screen starts on the overview, not on the last user's page.
  if (window.location.hash) history.replaceState(null, '', window.location.pathname);
  if (!s) return;
  await Promise.allSettled([revoke(s.token), ...(s.baseToken && s.baseToken !== s.token ? [revoke(s.baseToken)] : [])]);
}

/** Watches for activity; after IDLE_MINUTES without any, or when the token expires, ends the session. */
export function startIdleWatch(): () => void {
  let last = Date.now();
  const touch = (): void => { last = Date.now(); };
  const events = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;
  for (const e of events) window.addEventListener(e, touch, { passive: true });
  const timer = window.setInterval(() => {
    const s = sessionStore.get().session;
    if (!s) return;
    if (Date.now() - last > IDLE_MINUTES * 60_000) void signOut('idle');
    else if (Date.now() > s.expiresAt) sessionStore.end('expired');
  }, 15_000);
  return () => {
    window.clearInterval(timer);
    for (const e of events) window.removeEventListener(e, touch);
  };
}
