// The per-volume forms of the volumes page, one at a time above the table: attach to a server (picker), back up
// (full or incremental), transfer to another project (the key is shown once, here, and never again).
import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { send } from '../../api/client';
import { useServers } from '../../api/queries';
import { attachVolume, useBackups, useRefreshVolumes, volumeLabel, type NewTransfer, type Volume } from '../../api/volumes';
import { ErrorNote } from '../../ui/ErrorNote';
import { CopyField } from '../../ui/CopyField';
import { useT } from '../../i18n';

export type PanelKind = 'attach' | 'backup' | 'transfer';

/** Servers a volume can be hot-plugged into (Nova refuses others with 409). */
const ATTACHABLE = new Set(['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED', 'SHELVED', 'SHELVED_OFFLOADED']);

function AttachForm({ volume, onClose }: { volume: Volume; onClose: () => void }) {
  const t = useT();
  const refresh = useRefreshVolumes();
  const servers = useServers();
  const [serverId, setServerId] = useState('');
  const attach = useMutation({ mutationFn: () => attachVolume(serverId, volume.id), onSuccess: onClose, onSettled: refresh });
  const choices = (servers.data ?? []).filter((x) => ATTACHABLE.has(x.status));
  return (
    <>
      <label>{t('volumes.server')}
        <select name="attach-server" value={serverId} onChange={(e) => setServerId(e.target.value)}>
          <option value="">—</option>
          {choices.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
        </select>
      </label>
      <button type="submit" className="primary" disabled={!serverId || attach.isPending} onClick={() => attach.mutate()}>{t('volumes.attach')}</button>
      <ErrorNote error={attach.error} />
    </>
  );
}

function BackupForm({ volume, onClose }: { volume: Volume; onClose: () => void }) {
  const t = useT();
  const refresh = useRefreshVolumes();
  const backups = useBackups();
  const [name, setName] = useState(`${volumeLabel(volume)}-backup`);
  const [incremental, setIncremental] = useState(false);
  // An incremental backup needs a full one of the same volume to build on.
  const hasBase = (backups.data ?? []).some((b) => b.volume_id === volume.id && b.status === 'available');
  const create = useMutation({
    mutationFn: () => send('volume', 'POST', '/backups', {
      backup: { volume_id: volume.id, name, incremental, ...(volume.status === 'in-use' ? { force: true } : {}) },
    }),
    onSuccess: onClose,
    onSettled: refresh,
  });
  return (
    <>
      <label>{t('common.name')}<input name="backup-name" value={name} onChange={(e) => setName(e.target.value)} /></label>
      <label className="check"><input type="checkbox" name="backup-incremental" checked={incremental} disabled={!hasBase} onChange={(e) => setIncremental(e.target.checked)} />{t('backups.incremental')}</label>
      {volume.status === 'in-use' && <p className="muted">{t('backups.inUse')}</p>}
      <button type="button" className="primary" disabled={create.isPending} onClick={() => create.mutate()}>{t('backups.create')}</button>
      <ErrorNote error={create.error} />
    </>
  );
}

function TransferForm({ volume }: { volume: Volume }) {
  const t = useT();
  const refresh = useRefreshVolumes();
  const [name, setName] = useState(volumeLabel(volume));
  const create = useMutation({
    mutationFn: async () => (await send<{ transfer: NewTransfer }>('volume', 'POST', '/volume-transfers', { transfer: { volume_id: volume.id, name } })).transfer,
    onSettled: refresh,
  });
  if (create.data) {
    return (
      <div className="once" role="status">
        <p className="warn"><strong>{t('transfers.onceWarning')}</strong></p>
        <CopyField label={t('transfers.id')} name="transfer-id" value={create.data.id} />
        <CopyField label={t('transfers.authKey')} name="transfer-key" value={create.data.auth_key} />
      </div>
    );
  }
  return (
    <>
      <label>{t('common.name')}<input name="transfer-name" value={name} onChange={(e) => setName(e.target.value)} /></label>
      <button type="button" className="primary" disabled={create.isPending} onClick={() => create.mutate()}>{t('transfers.create')}</button>
      <ErrorNote error={create.error} />
    </>
  );
}

export function VolumePanel({ kind, volume, onClose }: { kind: PanelKind; volume: Volume; onClose: () => void }) {
  const t = useT();
  const title = { attach: 'volumes.attachTitle', backup: 'backups.createTitle', transfer: 'transfers.createTitle' } as const;
  return (
    <form className="card inline" aria-label={t(title[kind], { name: volumeLabel(volume) })} onSubmit={(e) => e.preventDefault()}>
      <h2>{t(title[kind], { name: volumeLabel(volume) })}</h2>
      {kind === 'attach' && <AttachForm volume={volume} onClose={onClose} />}
      {kind === 'backup' && <BackupForm volume={volume} onClose={onClose} />}
      {kind === 'transfer' && <TransferForm volume={volume} />}
      <button type="button" onClick={onClose}>{t('common.close')}</button>
    </form>
  );
}
