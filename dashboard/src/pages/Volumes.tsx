// Volumes (Cinder v3): create (blank, from an image or from a snapshot), extend, snapshot, attach/detach to a server
// (through Nova, as `openstack server add volume` does), back up, transfer, delete. Backups and transfers have their
// own sections (volumes/Backups.tsx, volumes/Transfers.tsx); the per-volume forms open in one panel above the table.
import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { call, send } from '../api/client';
import { useImages, useServers } from '../api/queries';
import { canWrite, useSession } from '../api/session';
import {
  detachVolume, isBusy, useRefreshVolumes, useSnapshots, useVolumes, useVolumeTypes, volumeLabel, type Snapshot, type Volume,
} from '../api/volumes';
import { ErrorNote } from '../ui/ErrorNote';
import { useT } from '../i18n';
import { Backups } from './volumes/Backups';
import { Transfers } from './volumes/Transfers';
import { VolumePanel, type PanelKind } from './volumes/VolumePanel';

/** The create form's source: nothing, an image (the volume becomes bootable) or a volume snapshot. */
function CreateVolume({ from, onFrom }: { from: string; onFrom: (v: string) => void }) {
  const t = useT();
  const refresh = useRefreshVolumes();
  const types = useVolumeTypes();
  const snapshots = useSnapshots();
  const images = useImages();
  const [name, setName] = useState('');
  const [size, setSize] = useState(1);
  const [type, setType] = useState('');
  const create = useMutation({
    mutationFn: () => {
      const [kind, id] = from.split(':');
      const source = kind === 'snapshot' ? { snapshot_id: id } : kind === 'image' ? { imageRef: id } : {};
      return send('volume', 'POST', '/volumes', { volume: { name, size, ...(type ? { volume_type: type } : {}), ...source } });
    },
    onSuccess: () => { setName(''); onFrom(''); },
    onSettled: refresh,
  });
  const pickSource = (value: string) => {
    onFrom(value);
    const snap = (snapshots.data ?? []).find((x) => `snapshot:${x.id}` === value);
    if (snap && size < snap.size) setSize(snap.size);
  };
  return (
    <form id="new-volume" className="card inline" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
      <h2>{t('volumes.create')}</h2>
      <label>{t('common.name')}<input name="volume-name" value={name} onChange={(e) => setName(e.target.value)} required /></label>
      <label>{t('volumes.size')}<input name="volume-size" type="number" min={1} value={size} onChange={(e) => setSize(Math.max(1, Number(e.target.value) || 1))} /></label>
      <label>{t('volumes.type')}<select value={type} onChange={(e) => setType(e.target.value)}><option value="">{t('common.any')}</option>{(types.data ?? []).map((x) => <option key={x.id} value={x.name}>{x.name}</option>)}</select></label>
      <label>{t('volumes.source')}
        <select name="volume-source" value={from} onChange={(e) => pickSource(e.target.value)}>
          <option value="">{t('volumes.sourceBlank')}</option>
          <optgroup label={t('nav.images')}>{(images.data ?? []).filter((i) => i.status === 'active').map((i) => <option key={i.id} value={`image:${i.id}`}>{i.name ?? i.id}</option>)}</optgroup>
          <optgroup label={t('volumes.snapshots')}>{(snapshots.data ?? []).filter((x) => x.status === 'available').map((x) => <option key={x.id} value={`snapshot:${x.id}`}>{volumeLabel(x)} ({x.size} GiB)</option>)}</optgroup>
        </select>
      </label>
      <button type="submit" disabled={!name || create.isPending}>{t('action.create')}</button>
      <ErrorNote error={create.error} />
    </form>
  );
}

export function Volumes() {
  const s = useSession();
  const t = useT();
  const refresh = useRefreshVolumes();
  const volumes = useVolumes();
  const snapshots = useSnapshots();
  const servers = useServers();
  const [from, setFrom] = useState('');
  const [panel, setPanel] = useState<{ kind: PanelKind; volume: Volume } | null>(null);
  const write = useMutation({ mutationFn: (f: () => Promise<unknown>) => f(), onSettled: refresh });
  const extend = (v: Volume) => {
    const answer = window.prompt(t('volumes.newSize', { name: volumeLabel(v) }), String(v.size + 1));
    if (answer) write.mutate(() => send('volume', 'POST', `/volumes/${v.id}/action`, { 'os-extend': { new_size: Number(answer) } }));
  };
  const snapshot = (v: Volume) => write.mutate(() => send('volume', 'POST', '/snapshots', { snapshot: { volume_id: v.id, name: `${v.name ?? 'volume'}-snap` } }));
  const remove = (kind: 'volumes' | 'snapshots', id: string, label: string) => {
    if (window.confirm(t('common.confirmDelete', { name: label }))) write.mutate(() => call('volume', `/${kind}/${id}`, { method: 'DELETE' }));
  };
  const volumeFromSnapshot = (x: Snapshot) => {
    setFrom(`snapshot:${x.id}`);
    document.querySelector<HTMLInputElement>('#new-volume input[name="volume-name"]')?.focus();
  };
  const serverName = (id: string) => (servers.data ?? []).find((x) => x.id === id)?.name ?? id.slice(0, 8);
  // The root disk of a volume-backed server cannot be detached (Nova answers 400): no button for it.
  const isRoot = (a: Volume['attachments'][number]) => a.device === '/dev/vda' && (servers.data ?? []).find((x) => x.id === a.server_id)?.image === '';
  const writable = canWrite(s);
  return (
    <section>
      <h1>{t('nav.volumes')}</h1>
      {writable && <CreateVolume from={from} onFrom={setFrom} />}
      {panel && <VolumePanel key={`${panel.kind}-${panel.volume.id}`} kind={panel.kind} volume={panel.volume} onClose={() => setPanel(null)} />}
      <ErrorNote error={write.error ?? volumes.error ?? snapshots.error} onRetry={() => void refresh()} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('volumes.size')}</th><th>{t('instances.status')}</th><th>{t('volumes.type')}</th><th>{t('volumes.bootable')}</th><th>{t('volumes.attachedTo')}</th><th></th></tr></thead>
        <tbody>{(volumes.data ?? []).map((v) => (
          <tr key={v.id} data-name={v.name ?? ''}>
            <td>{volumeLabel(v)}</td><td>{v.size} GiB</td>
            <td data-status={v.status} className={isBusy(v.status) ? 'warn' : undefined}>{v.status}</td><td>{v.volume_type ?? ''}</td>
            <td>{v.bootable === 'true' ? '✓' : ''}</td>
            <td>{v.attachments.map((a) => (
              <span key={a.server_id} className="attachment" data-server={serverName(a.server_id)}>
                {serverName(a.server_id)} {a.device ? <span className="mono muted">{a.device}</span> : null}
                {writable && v.status === 'in-use' && !isRoot(a) && (
                  <button type="button" onClick={() => write.mutate(() => detachVolume(a.server_id, v.id))}>{t('volumes.detach')}</button>)}
              </span>))}</td>
            <td>{writable && (v.status === 'available' || v.status === 'in-use') && (
              <span className="row-actions">
                {v.status === 'available' && <button type="button" onClick={() => setPanel({ kind: 'attach', volume: v })}>{t('volumes.attach')}</button>}
                {v.status === 'available' && <button type="button" onClick={() => extend(v)}>{t('volumes.extend')}</button>}
                {v.status === 'available' && <button type="button" onClick={() => snapshot(v)}>{t('volumes.snapshot')}</button>}
                <button type="button" onClick={() => setPanel({ kind: 'backup', volume: v })}>{t('volumes.backup')}</button>
                {v.status === 'available' && <button type="button" onClick={() => setPanel({ kind: 'transfer', volume: v })}>{t('volumes.transfer')}</button>}
                {v.status === 'available' && <button type="button" className="danger" onClick={() => remove('volumes', v.id, volumeLabel(v))}>{t('action.delete')}</button>}
              </span>)}</td>
          </tr>))}</tbody>
      </table></div>
      <h2>{t('volumes.snapshots')}</h2>
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('volumes.size')}</th><th>{t('instances.status')}</th><th>{t('volumes.volume')}</th><th></th></tr></thead>
        <tbody>{(snapshots.data ?? []).map((x) => (
          <tr key={x.id} data-name={x.name ?? ''}>
            <td>{volumeLabel(x)}</td><td>{x.size} GiB</td><td data-status={x.status}>{x.status}</td>
            <td>{(volumes.data ?? []).find((v) => v.id === x.volume_id)?.name ?? x.volume_id.slice(0, 8)}</td>
            <td>{writable && x.status === 'available' && (
              <span className="row-actions">
                <button type="button" onClick={() => volumeFromSnapshot(x)}>{t('volumes.fromSnapshot')}</button>
                <button type="button" className="danger" onClick={() => remove('snapshots', x.id, volumeLabel(x))}>{t('action.delete')}</button>
              </span>)}</td>
          </tr>))}</tbody>
      </table></div>
      <Backups />
      <Transfers />
    </section>
  );
}
