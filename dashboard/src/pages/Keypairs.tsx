import { useMutation, useQueryClient } from '@tanstack/react-query';
import { call } from '../api/client';
import { useKeypairs } from '../api/queries';
import { canWrite, useSession } from '../api/session';
import { ErrorNote } from '../ui/ErrorNote';
import { KeypairForm } from '../ui/KeypairForm';
import { useT } from '../i18n';

export function Keypairs() {
  const s = useSession();
  const t = useT();
  const client = useQueryClient();
  const keys = useKeypairs();
  const del = useMutation({
    mutationFn: (name: string) => call('compute', `/os-keypairs/${encodeURIComponent(name)}`, { method: 'DELETE' }),
    onSettled: () => client.invalidateQueries({ queryKey: ['keypairs'] }),
  });
  return (
    <section>
      <h1>{t('nav.keypairs')}</h1>
      {canWrite(s) && <KeypairForm />}
      <ErrorNote error={keys.error ?? del.error} onRetry={() => void keys.refetch()} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('keypairs.type')}</th><th>{t('keypairs.fingerprint')}</th><th></th></tr></thead>
        <tbody>{(keys.data ?? []).map((k) => (
          <tr key={k.name}><td>{k.name}</td><td>{k.type ?? 'ssh'}</td><td className="mono">{k.fingerprint}</td>
            <td>{canWrite(s) && <button type="button" className="danger" onClick={() => { if (window.confirm(t('common.confirmDelete', { name: k.name }))) del.mutate(k.name); }}>{t('action.delete')}</button>}</td></tr>))}</tbody>
      </table></div>
    </section>
  );
}
