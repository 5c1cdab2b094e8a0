// The signed-in user's application credentials (Keystone v3): create one for the current project (its secret is
// shown once, with a copy button: Keystone keeps only a hash), list, delete. Sign in with one on the login form.
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { call, get, send } from '../api/client';
import { useSession } from '../api/session';
import { CopyField } from '../ui/CopyField';
import { ErrorNote } from '../ui/ErrorNote';
import { useT } from '../i18n';

interface AppCredential { id: string; name: string; description: string | null; project_id: string; expires_at: string | null; unrestricted: boolean }

export function AppCredentials() {
  const s = useSession();
  const t = useT();
  const client = useQueryClient();
  const base = `/users/${s.user.id}/application_credentials`;
  const list = useQuery({ queryKey: ['app-credentials', s.user.id], queryFn: async () => (await get<{ application_credentials: AppCredential[] }>('identity', base)).application_credentials });
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const create = useMutation({
    mutationFn: async () => (await send<{ application_credential: AppCredential & { secret: string } }>('identity', 'POST', base, {
      application_credential: { name, ...(expires ? { expires_at: new Date(expires).toISOString() } : {}) },
    })).application_credential,
    onSuccess: () => setName(''),
    onSettled: () => client.invalidateQueries({ queryKey: ['app-credentials'] }),
  });
  const del = useMutation({
    mutationFn: (id: string) => call('identity', `${base}/${id}`, { method: 'DELETE' }),
    onSettled: () => client.invalidateQueries({ queryKey: ['app-credentials'] }),
  });
  // Keystone refuses to manage application credentials with a token that came from one.
  const viaAppCred = s.authMethod === 'application_credential';
  return (
    <section>
      <h1>{t('nav.appCredentials')}</h1>
      {viaAppCred ? <p className="muted">{t('appcred.viaAppCred')}</p> : (
        <form className="card inline" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
          <h2>{t('appcred.new', { project: s.project.name })}</h2>
          <label>{t('common.name')}<input name="appcred-name" value={name} onChange={(e) => setName(e.target.value)} required /></label>
          <label>{t('appcred.expires')}<input name="appcred-expires" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} /></label>
          <button type="submit" disabled={!name || create.isPending}>{t('action.create')}</button>
          <ErrorNote error={create.error} />
        </form>
      )}
      {create.data && (
        <div className="card once" role="status">
          <p className="warn"><strong>{t('appcred.onceWarning')}</strong></p>
          <CopyField label={t('login.credId')} name="appcred-id" value={create.data.id} />
          <CopyField label={t('login.credSecret')} name="appcred-secret" value={create.data.secret} />
        </div>
      )}
      <ErrorNote error={del.error ?? list.error} onRetry={() => void list.refetch()} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>ID</th><th>{t('images.project')}</th><th>{t('appcred.expires')}</th><th></th></tr></thead>
        <tbody>{(list.data ?? []).map((c) => (
          <tr key={c.id} data-name={c.name}><td>{c.name}</td><td className="mono">{c.id}</td><td className="mono">{c.project_id === s.project.id ? s.project.name : c.project_id}</td><td>{c.expires_at ?? t('appcred.never')}</td>
            <td>{!viaAppCred && <button type="button" className="danger" onClick={() => { if (window.confirm(t('common.confirmDelete', { name: c.name }))) del.mutate(c.id); }}>{t('action.delete')}</button>}</td></tr>))}</tbody>
      </table></div>
    </section>
  );
}
