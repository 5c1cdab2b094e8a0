// Volume backups: status live (creating → available), restore to a new volume or onto an existing available one
// (at least the backup's size), delete (Cinder refuses a backup an incremental depends on; the button says so).
import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { call, send } from '../../api/client';
import { canWrite, useSession } from '../../api/session';
import { isBusy, useBackups, useRefreshVolumes, useVolumes, volumeLabel, type Backup } from '../../api/volumes';
import { ErrorNote } from '../../ui/ErrorNote';
import { useT } from '../../i18n';

function RestoreControls({ backup, onRestore }: { backup: Backup; onRestore: (volumeId: string | null) => void }) {
  const t = useT();
  const volumes = useVolumes();
  const [target, setTarget] = useState('');
  const fits = (volumes.data ?? []).filter((v) => v.status === 'available' && v.size >= backup.size);
  return (
    <span className="row-actions">
      <select name="restore-target" aria-label={t('backups.restoreTarget', { name: volumeLabel(backup) })} value={target} onChange={(e) => setTarget(e.target.value)}>
        <option value="">{t('backups.newVolume')}</option>
        {fits.map((v) => <option key={v.id} value={v.id}>{volumeLabel(v)} ({v.size} GiB)</option>)}
      </select>
      <button type="button" onClick={() => {
        const onto = fits.find((v) => v.id === target);
        if (onto && !window.confirm(t('backups.confirmOverwrite', { name: volumeLabel(onto) }))) return;
        onRestore(target || null);
      }}>{t('backups.restore')}</button>
    </span>
  );
}

export function Backups() {
  const s = useSession();
  const t = useT();
  const refresh = useRefreshVolumes();
  const backups = useBackups();
  const volumes = useVolumes();
  const write = useMutation({ mutationFn: (f: () => Promise<unknown>) => f(), onSettled: refresh });
  const restore = (b: Backup, volumeId: string | null) =>
    write.mutate(() => send('volume', 'POST', `/backups/${b.id}/restore`, { restore: volumeId ? { volume_id: volumeId } : { name: `${volumeLabel(b)}-restored` } }));
  const remove = (b: Backup) => {
    if (window.confirm(t('common.confirmDelete', { name: volumeLabel(b) }))) write.mutate(() => call('volume', `/backups/${b.id}`, { method: 'DELETE' }));
  };
  const writable = canWrite(s);
  return (
    <>
      <h2>{t('backups.title')}</h2>
      <ErrorNote error={write.error ?? backups.error} onRetry={() => void refresh()} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('volumes.volume')}</th><th>{t('volumes.size')}</th><th>{t('instances.status')}</th><th>{t('backups.kind')}</th><th></th></tr></thead>
        <tbody>{(backups.data ?? []).map((b) => (
          <tr key={b.id} data-name={b.name ?? ''}>
            <td>{volumeLabel(b)}</td>
            <td>{(volumes.data ?? []).find((v) => v.id === b.volume_id)?.name ?? b.volume_id.slice(0, 8)}</td>
            <td>{b.size} GiB</td>
            <td data-status={b.status} className={isBusy(b.status) ? 'warn' : b.status === 'error' ? 'error-text' : undefined}>{b.status}{b.fail_reason ? `: ${b.fail_reason}` : ''}</td>
            <td data-kind={b.is_incremental ? 'incremental' : 'full'}>{b.is_incremental ? t('backups.incremental') : t('backups.full')}</td>
            <td>{writable && b.status === 'available' && (
              <span className="row-actions">
                <RestoreControls backup={b} onRestore={(id) => restore(b, id)} />
                <button type="button" className="danger" disabled={b.has_dependent_backups} title={b.has_dependent_backups ? t('backups.hasDependents') : undefined} onClick={() => remove(b)}>{t('action.delete')}</button>
              </span>)}</td>
          </tr>))}</tbody>
      </table></div>
    </>
  );
}
