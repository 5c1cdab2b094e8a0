import { useState, type FormEvent } from 'react';
import { signInWithAppCredential, signInWithPassword } from '../api/auth';
import { ApiError } from '../api/errors';
import type { SignedOutReason } from '../api/session';
import { setLang, useLang, useT } from '../i18n';

/** The sign-in form; as a dialog over the pages when a session expired under the user. */
export function Login({ reason, overlay }: { reason: SignedOutReason; overlay: boolean }) {
  const t = useT();
  const lang = useLang();
  const [mode, setMode] = useState<'password' | 'appcred'>('password');
  const [domain, setDomain] = useState('Default');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [credId, setCredId] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'password') await signInWithPassword(domain, user, password);
      else await signInWithAppCredential(credId, secret);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError(t('login.wrong'));
      else if (err instanceof ApiError && err.status === 0) setError(t('err.network'));
      else if (err instanceof Error && err.message === 'no-project') setError(t('login.noProject'));
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
      setPassword('');
      setSecret('');
    }
  }

  const notice = reason === 'expired' ? t('login.expired') : reason === 'idle' ? t('login.idle') : null;
  return (
    <div className={overlay ? 'login-overlay' : 'login-page'}>
      <form className="login" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">☁ Gureum</h1>
        {notice && <p className="notice" role="status">{notice}</p>}
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'password'} onClick={() => setMode('password')}>{t('login.password')}</button>
          <button type="button" role="tab" aria-selected={mode === 'appcred'} onClick={() => setMode('appcred')}>{t('login.appCred')}</button>
        </div>
        {mode === 'password' ? (
          <>
            <label>{t('login.domain')}<input name="domain" value={domain} onChange={(e) => setDomain(e.target.value)} required autoComplete="organization" /></label>
            <label>{t('login.user')}<input name="username" value={user} onChange={(e) => setUser(e.target.value)} required autoComplete="username" autoFocus /></label>
            <label>{t('login.passwordField')}<input name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="current-password" /></label>
          </>
        ) : (
          <>
            <label>{t('login.credId')}<input name="credential-id" value={credId} onChange={(e) => setCredId(e.target.value)} required /></label>
            <label>{t('login.credSecret')}<input name="credential-secret" type="password" value={secret} onChange={(e) => setSecret(e.target.value)} required /></label>
          </>
        )}
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" disabled={busy}>{busy ? t('login.signingIn') : t('login.submit')}</button>
        <select aria-label={t('shell.language')} value={lang} onChange={(e) => setLang(e.target.value as 'en' | 'ko')}>
          <option value="en">English</option>
          <option value="ko">한국어</option>
        </select>
      </form>
    </div>
  );
}
