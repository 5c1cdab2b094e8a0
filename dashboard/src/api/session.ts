// The signed-in session, kept only in this page's memory: no token is ever written to localStorage, sessionStorage
// or a cookie, so another tab, an extension reading storage, or a forged cross-site request has nothing to use.
// A reload signs out (the token is revoked by idle expiry or when it expires on the server).
import { useSyncExternalStore } from 'react';

export interface CatalogEntry {
  type: string;
  endpoints: { interface: string; url: string; region?: string }[];
}

export interface Session {
  /** The project-scoped token every API call carries. */
  token: string;
  /** The token the user signed in with; re-scoped to switch projects (none for application credentials). */
  baseToken: string | null;
  user: { id: string; name: string; domainName: string };
  project: { id: string; name: string };
  roles: string[];
  catalog: CatalogEntry[];
  expiresAt: number;
  authMethod: 'password' | 'application_credential';
}

/** Why the user is looking at the login form. */
export type SignedOutReason = 'none' | 'expired' | 'idle' | 'logout';

interface State {
  session: Session | null;
  /** Set when the session ended under the user's feet: the app stays mounted (an open wizard keeps its input). */
  reason: SignedOutReason;
  /** The last session's user, to know whether a re-login may keep the page state. */
  lastUserId: string | null;
  /** The session that just expired: the pages behind the login dialog still render with it (its token is dead). */
  lastSession: Session | null;
}

let state: State = { session: null, reason: 'none', lastUserId: null, lastSession: null };
const listeners = new Set<() => void>();

function set(next: Partial<State>): void {
  state = { ...state, ...next };
  for (const l of listeners) l();
}

export const sessionStore = {
  get: (): State => state,
  subscribe(l: () => void): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  signIn(session: Session): void {
    set({ session, reason: 'none', lastUserId: session.user.id, lastSession: null });
  },
  /** Ends the session locally; the caller revokes the tokens. */
  end(reason: SignedOutReason): void {
    if (!state.session && reason !== 'logout') return;
    set({ session: null, reason, lastSession: reason === 'expired' ? state.session : null });
  },
};

export function useSessionState(): State {
  return useSyncExternalStore(sessionStore.subscribe, sessionStore.get);
}

/** The current session; components below the signed-in shell may rely on it. */
export function useSession(): Session {
  const st = useSessionState();
  const s = st.session ?? st.lastSession;
  if (!s) throw new Error('no session');
  return s;
}

export const isAdmin = (s: Session): boolean => s.roles.includes('admin');
export const canWrite = (s: Session): boolean => s.roles.includes('member') || s.roles.includes('admin');
