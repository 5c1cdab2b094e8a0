// The shell: the login form until there is a session, then navigation + pages. When a session ends under the user
// (expired token, idle), the pages stay mounted behind the login dialog, so an unfinished wizard keeps its input;
// signing in as somebody else starts afresh.
import { useEffect, useRef } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Router } from 'wouter';
import { useHashLocation } from 'wouter/use-hash-location';
import { useSessionState } from './api/session';
import { startIdleWatch } from './api/auth';
import { Login } from './pages/Login';
import { Shell } from './ui/Shell';

export function App() {
  const { session, reason, lastSession } = useSessionState();
  const everSignedIn = useRef<string | null>(null);
  const client = useQueryClient();
  useEffect(() => startIdleWatch(), []);
  useEffect(() => {
    if (session && everSignedIn.current && everSignedIn.current !== session.user.id) client.clear();
    if (session) everSignedIn.current = session.user.id;
  }, [session, client]);
  // After an explicit logout nothing of the old session stays on screen or in the cache.
  useEffect(() => { if (reason === 'logout' || reason === 'idle') client.clear(); }, [reason, client]);
  const keepPages = !session && reason === 'expired' && lastSession !== null;
  return (
    <Router hook={useHashLocation}>
      {(session || keepPages) && <div inert={!session ? true : undefined}><Shell key={(session ?? lastSession)!.user.id} /></div>}
      {!session && <Login reason={reason} overlay={keepPages} />}
    </Router>
  );
}
