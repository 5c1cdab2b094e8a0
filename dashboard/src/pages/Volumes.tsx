// Volumes and their snapshots (Cinder v3): create, extend, delete, snapshot. Attaching waits for the compute side.
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { call, get, send } from '../api/client';
import { canWrite, useSession } from '../api/session';
import { ErrorNote } from '../ui/ErrorNote';
import { useT } from '../i18n';

interface Volume { id: string; name: string | null; size: number; status: string; volume_type: string | null; bootable: string; attachments: { server_id: string }[] }
interface Snapshot { id: string; name: string | null; size: number; status: string; volume_id: string }
interface VolumeType { id: string; name: string }

const BUSY = ['creating', 'extending', 'deleting', 'attaching', 'detaching', 'downloading', 'backing-up', 'restoring-backup'];

export function Volumes() {
  const s = useSession();
  const t = useT();
  const client = useQueryClient();
  const volumes = useQuery({
    queryKey: ['volumes', s.project.id],
    queryFn: async () => (await get<{ volumes: Volume[] }>('volume', '/volumes/detail')).volumes,
    refetchInterval: (q) => ((q.state.data ?? []).some((v) => BUSY.includes(v.status)) ? 2000 : 15_000),
  });
  const snapshots = useQuery({
    queryKey: ['snapshots', s.project.id],
    queryFn: async () => (await get<{ snapshots: Snapshot[] }>('volume', '/snapshots/detail')).snapshots,
    refetchInterval: (q) => ((q.state.data ?? []).some((v) => BUSY.includes(v.status)) ? 2000 : 15_000),
  });
  const types = useQuery({ queryKey: ['volume-types', s.project.id], queryFn: async () => (await get<{ volume_types: VolumeType[] }>('volume', '/types')).volume_types, staleTime: 60_000 });
  const [name, setName] = useState('');
  const [size, setSize] = useState(1);
  const [type, setType] = useState('');
  const refresh = () => Promise.all(['volumes', 'snapshots', 'quota-volume'].map((k) => client.invalidateQueries({ queryKey: [k] })));
  const write = useMutation({ mutationFn: (f: () => Promise<unknown>) => f(), onSettled: refresh });
  const create = () => write.mutate(() => send('volume', 'POST', '/volumes', { volume: { name, size, ...(type ? { volume_type: type } : {}) } }));
  const extend = (v: Volume) => {
    const answer = window.prompt(t('volumes.newSize', { name: v.name ?? v.id }), String(v.size + 1));
    if (answer) write.mutate(() => send('volume', 'POST', `/volumes/${v.id}/action`, { 'os-extend': { new_size: Number(answer) } }));
  };
  const snapshot = (v: Volume) => write.mutate(() => send('volume', 'POST', '/snapshots', { snapshot: { volume_id: v.id, name: `${v.name ?? 'volume'}-snap` } }));
  const remove = (kind: 'volumes' | 'snapshots', id: string, label: string) => {
    if (window.confirm(t('common.confirmDelete', { name: label }))) write.mutate(() => call('volume', `/${kind}/${id}`, { method: 'DELETE' }));
  };
  const writable = canWrite(s);
  return (
    <section>
      <h1>{t('nav.volumes')}</h1>
      {writable && (
        <form className="card inline" onSubmit={(e) => { e.preventDefault(); create(); }}>
          <h2>{t('volumes.create')}</h2>
          <label>{t('common.name')}<input name="volume-name" value={name} onChange={(e) => setName(e.target.value)} required /></label>
          <label>{t('volumes.size')}<input name="volume-size" type="number" min={1} value={size} onChange={(e) => setSize(Math.max(1, Number(e.target.value) || 1))} /></label>
          <label>{t('volumes.type')}<select value={type} onChange={(e) => setType(e.target.value)}><option value="">{t('common.any')}</option>{(types.data ?? []).map((x) => <option key={x.id} value={x.name}>{x.name}</option>)}</select></label>
          <button type="submit" disabled={!name || write.isPending}>{t('action.create')}</button>
        </form>
      )}
      <ErrorNote error={write.error ?? volumes.error ?? snapshots.error} onRetry={() => void refresh()} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('volumes.size')}</th><th>{t('instances.status')}</th><th>{t('volumes.type')}</th><th>{t('volumes.bootable')}</th><th>{t('volumes.attachedTo')}</th><th></th></tr></thead>
        <tbody>{(volumes.data ?? []).map((v) => (
          <tr key={v.id} data-name={v.name ?? ''}>
            <td>{v.name ?? v.id.slice(0, 8)}</td><td>{v.size} GiB</td><td data-status={v.status}>{v.status}</td><td>{v.volume_type ?? ''}</td>
            <td>{v.bootable === 'true' ? '✓' : ''}</td><td className="mono">{v.attachments.map((a) => a.server_id.slice(0, 8)).join(', ')}</td>
            <td>{writable && v.status === 'available' && (
              <span className="row-actions">
                <button type="button" onClick={() => extend(v)}>{t('volumes.extend')}</button>
                <button type="button" onClick={() => snapshot(v)}>{t('volumes.snapshot')}</button>
                <button type="button" className="danger" onClick={() => remove('volumes', v.id, v.name ?? v.id)}>{t('action.delete')}</button>
              </span>)}</td>
          </tr>))}</tbody>
      </table></div>
      <h2>{t('volumes.snapshots')}</h2>
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('volumes.size')}</th><th>{t('instances.status')}</th><th>{t('volumes.volume')}</th><th></th></tr></thead>
        <tbody>{(snapshots.data ?? []).map((x) => (
          <tr key={x.id} data-name={x.name ?? ''}>
            <td>{x.name ?? x.id.slice(0, 8)}</td><td>{x.size} GiB</td><td data-status={x.status}>{x.status}</td>
            <td>{(volumes.data ?? []).find((v) => v.id === x.volume_id)?.name ?? x.volume_id.slice(0, 8)}</td>
            <td>{writable && x.status === 'available' && <button type="button" className="danger" onClick={() => remove('snapshots', x.id, x.name ?? x.id)}>{t('action.delete')}</button>}</td>
          </tr>))}</tbody>
      </table></div>
    </section>
  );
}
