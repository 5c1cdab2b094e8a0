// The volumes tab of an instance: its attachments with each volume's live status (attaching → in-use, detaching →
// available), attach another available volume, detach. The root volume of a volume-backed server cannot be detached.
import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { get } from '../api/client';
import { attachVolume, detachVolume, isBusy, useRefreshVolumes, useVolumes, volumeLabel } from '../api/volumes';
import { ErrorNote } from './ErrorNote';
import { useT } from '../i18n';

interface Attachment { id: string; volumeId: string; device: string | null; delete_on_termination?: boolean }

export function ServerVolumes({ serverId, writable, rootDevice }: { serverId: string; writable: boolean; rootDevice: string | null }) {
  const t = useT();
  const refresh = useRefreshVolumes();
  const volumes = useVolumes();
  const busy = (volumes.data ?? []).some((v) => isBusy(v.status));
  const attachments = useQuery({
    queryKey: ['server-volumes', serverId],
    queryFn: async () => (await get<{ volumeAttachments: Attachment[] }>('compute', `/servers/${serverId}/os-volume_attachments`)).volumeAttachments,
    refetchInterval: busy ? 1500 : 10_000,
  });
  const [pick, setPick] = useState('');
  const write = useMutation({ mutationFn: (f: () => Promise<unknown>) => f(), onSuccess: () => setPick(''), onSettled: refresh });
  const byId = new Map((volumes.data ?? []).map((v) => [v.id, v]));
  const mine = new Set((attachments.data ?? []).map((a) => a.volumeId));
  // A volume being attached to this server shows before Nova lists the attachment.
  const pending = (volumes.data ?? []).filter((v) => !mine.has(v.id) && v.attachments.some((a) => a.server_id === serverId));
  return (
    <div>
      <ErrorNote error={write.error ?? attachments.error} onRetry={() => void refresh()} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('volumes.volume')}</th><th>{t('volumes.device')}</th><th>{t('volumes.size')}</th><th>{t('instances.status')}</th><th>{t('volumes.deleteOnTermination')}</th><th></th></tr></thead>
        <tbody>
          {(attachments.data ?? []).map((a) => {
            const v = byId.get(a.volumeId);
            const root = !!rootDevice && a.device === rootDevice;
            return (
              <tr key={a.volumeId} data-name={v?.name ?? ''}>
                <td>{v ? volumeLabel(v) : a.volumeId.slice(0, 8)}</td><td className="mono">{a.device ?? ''}{root ? ` (${t('volumes.root')})` : ''}</td>
                <td>{v ? `${v.size} GiB` : ''}</td><td data-status={v?.status ?? ''}>{v?.status ?? ''}</td>
                <td>{a.delete_on_termination ? '✓' : ''}</td>
                <td>{writable && !root && v?.status === 'in-use' && <button type="button" onClick={() => write.mutate(() => detachVolume(serverId, a.volumeId))}>{t('volumes.detach')}</button>}</td>
              </tr>
            );
          })}
          {pending.map((v) => <tr key={v.id} data-name={v.name ?? ''}><td>{volumeLabel(v)}</td><td></td><td>{v.size} GiB</td><td data-status={v.status}>{v.status}</td><td></td><td></td></tr>)}
        </tbody>
      </table></div>
      {writable && (
        <form className="card inline" onSubmit={(e) => { e.preventDefault(); write.mutate(() => attachVolume(serverId, pick)); }}>
          <label>{t('volumes.attachVolume')}
            <select name="attach-volume" value={pick} onChange={(e) => setPick(e.target.value)}>
              <option value="">—</option>
              {(volumes.data ?? []).filter((v) => v.status === 'available').map((v) => <option key={v.id} value={v.id}>{volumeLabel(v)} ({v.size} GiB)</option>)}
            </select>
          </label>
          <button type="submit" disabled={!pick || write.isPending}>{t('volumes.attach')}</button>
        </form>
      )}
    </div>
  );
}
