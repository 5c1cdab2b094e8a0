// Volume transfers: the project's open transfers (delete one to get the volume back), and accepting a transfer made
// by another project with its id and key (the giver passes them on out of band, as with `openstack volume transfer`).
import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { call, send } from '../../api/client';
import { canWrite, useSession } from '../../api/session';
import { useRefreshVolumes, useTransfers, useVolumes } from '../../api/volumes';
import { ErrorNote } from '../../ui/ErrorNote';
import { useT } from '../../i18n';

function AcceptForm() {
  const t = useT();
  const refresh = useRefreshVolumes();
  const [id, setId] = useState('');
  const [key, setKey] = useState('');
  const accept = useMutation({
    mutationFn: () => send('volume', 'POST', `/volume-transfers/${encodeURIComponent(id.trim())}/accept`, { accept: { auth_key: key.trim() } }),
    onSuccess: () => { setId(''); setKey(''); },
    onSettled: refresh,
  });
  return (
    <form className="card inline" onSubmit={(e) => { e.preventDefault(); accept.mutate(); }}>
      <h2>{t('transfers.accept')}</h2>
      <label>{t('transfers.id')}<input name="accept-id" className="mono" value={id} onChange={(e) => setId(e.target.value)} required /></label>
      <label>{t('transfers.authKey')}<input name="accept-key" className="mono" value={key} onChange={(e) => setKey(e.target.value)} required autoComplete="off" /></label>
      <button type="submit" disabled={!id || !key || accept.isPending}>{t('transfers.acceptButton')}</button>
      {accept.isSuccess && <p className="notice" role="status">{t('transfers.accepted')}</p>}
      <ErrorNote error={accept.error} />
    </form>
  );
}

export function Transfers() {
  const s = useSession();
  const t = useT();
  const refresh = useRefreshVolumes();
  const transfers = useTransfers();
  const volumes = useVolumes();
  const del = useMutation({ mutationFn: (id: string) => call('volume', `/volume-transfers/${id}`, { method: 'DELETE' }), onSettled: refresh });
  const writable = canWrite(s);
  return (
    <>
      <h2>{t('transfers.title')}</h2>
      <ErrorNote error={del.error ?? transfers.error} onRetry={() => void refresh()} />
      {(transfers.data ?? []).length === 0 ? <p className="muted">{t('transfers.none')}</p> : (
        <div className="table-wrap"><table>
          <thead><tr><th>{t('common.name')}</th><th>ID</th><th>{t('volumes.volume')}</th><th>{t('detail.created')}</th><th></th></tr></thead>
          <tbody>{(transfers.data ?? []).map((x) => (
            <tr key={x.id} data-name={x.name ?? ''}>
              <td>{x.name ?? ''}</td><td className="mono">{x.id}</td>
              <td>{(volumes.data ?? []).find((v) => v.id === x.volume_id)?.name ?? x.volume_id.slice(0, 8)}</td><td>{x.created_at ?? ''}</td>
              <td>{writable && <button type="button" className="danger" onClick={() => { if (window.confirm(t('common.confirmDelete', { name: x.name ?? x.id }))) del.mutate(x.id); }}>{t('action.delete')}</button>}</td>
            </tr>))}</tbody>
        </table></div>
      )}
      {writable && <AcceptForm />}
    </>
  );
}
