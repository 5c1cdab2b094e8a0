import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { call, send, upload } from '../api/client';
import { useImages } from '../api/queries';
import { canWrite, useSession } from '../api/session';
import type { Image } from '../api/types';
import { Link } from 'wouter';
import { AUDIT_PROPERTY } from '../api/images';
import { ErrorNote } from '../ui/ErrorNote';
import { AuditBadge } from './images/AuditBadge';
import { SharedWithMe } from './images/SharedWithMe';
import { bytes } from '../ui/format';
import { useT } from '../i18n';

const FORMATS = ['qcow2', 'raw', 'iso', 'vmdk', 'vdi', 'vhd', 'vhdx', 'ami', 'aki', 'ari'];

/** The disk format a file name suggests. */
function guessFormat(file: string): string {
  const ext = file.toLowerCase().split('.').pop() ?? '';
  return FORMATS.includes(ext) ? ext : ext === 'img' ? 'raw' : 'qcow2';
}

/** Upload from the browser: create the image, then PUT its data with a progress bar. */
function UploadForm() {
  const t = useT();
  const client = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [format, setFormat] = useState('qcow2');
  const [visibility, setVisibility] = useState('private');
  const [progress, setProgress] = useState<number | null>(null);
  const [phase, setPhase] = useState<'idle' | 'uploading' | 'checking' | 'done'>('idle');
  const go = useMutation({
    mutationFn: async () => {
      if (!file) return;
      setPhase('uploading');
      setProgress(0);
      const img = await send<Image>('image', 'POST', '/v2/images', { name: name || file.name, disk_format: format, container_format: 'bare', visibility });
      void client.invalidateQueries({ queryKey: ['images'] });
      try {
        await upload('image', `/v2/images/${img.id}/file`, file, (f) => { setProgress(f); if (f >= 1) setPhase('checking'); });
      } catch (e) {
        // Refused data (the format inspector, a quota): nothing half-made stays behind.
        await call('image', `/v2/images/${img.id}`, { method: 'DELETE' }).catch(() => {});
        throw e;
      }
      setPhase('done');
    },
    onError: () => { setPhase('idle'); setProgress(null); },
    onSettled: () => client.invalidateQueries({ queryKey: ['images'] }),
  });
  return (
    <form className="card" onSubmit={(e) => { e.preventDefault(); go.mutate(); }}>
      <h2>{t('images.upload')}</h2>
      <label>{t('images.file')}<input type="file" name="image-file" onChange={(e) => { const f = e.target.files?.[0] ?? null; setFile(f); if (f) { setFormat(guessFormat(f.name)); if (!name) setName(f.name.replace(/\.[^.]+$/, '')); } }} /></label>
      <label>{t('common.name')}<input name="image-name" value={name} onChange={(e) => setName(e.target.value)} /></label>
      <label>{t('images.format')}<select name="disk-format" value={format} onChange={(e) => setFormat(e.target.value)}>{FORMATS.map((f) => <option key={f}>{f}</option>)}</select></label>
      <label>{t('images.visibility')}<select value={visibility} onChange={(e) => setVisibility(e.target.value)}>{['private', 'shared', 'community'].map((v) => <option key={v}>{v}</option>)}</select></label>
      <button type="submit" className="primary" disabled={!file || go.isPending}>{t('images.uploadButton')}</button>
      {progress !== null && (
        <div className="progress" role="status">
          <progress max={1} value={progress} aria-label={t('images.progress')} />
          <span>{phase === 'checking' ? t('images.checking') : phase === 'done' ? t('images.done') : `${Math.round(progress * 100)}%`}</span>
        </div>
      )}
      {go.error != null && <p className="refused"><strong>{t('images.refused')}</strong></p>}
      <ErrorNote error={go.error} />
    </form>
  );
}

export function Images() {
  const s = useSession();
  const t = useT();
  const client = useQueryClient();
  const images = useImages();
  const del = useMutation({
    mutationFn: (id: string) => call('image', `/v2/images/${id}`, { method: 'DELETE' }),
    onSettled: () => client.invalidateQueries({ queryKey: ['images'] }),
  });
  return (
    <section>
      <h1>{t('images.title')}</h1>
      {canWrite(s) && <UploadForm />}
      <ErrorNote error={images.error ?? del.error} onRetry={() => void images.refetch()} />
      <div className="table-wrap">
        <table>
          <thead><tr><th>{t('common.name')}</th><th>{t('instances.status')}</th><th>{t('images.visibility')}</th><th>{t('images.format')}</th><th>{t('images.size')}</th><th>{t('images.minDisk')}</th><th>{t('images.audit')}</th><th></th></tr></thead>
          <tbody>
            {(images.data ?? []).map((i) => (
              <tr key={i.id} data-name={i.name ?? ''}>
                <td><Link href={`/images/${i.id}`}>{i.name ?? i.id}</Link></td><td data-status={i.status}>{i.status}</td><td>{i.visibility}</td><td>{i.disk_format}</td><td>{bytes(i.size)}</td><td>{i.min_disk} GiB</td><td><AuditBadge value={(i as unknown as Record<string, string | undefined>)[AUDIT_PROPERTY]} /></td>
                <td>{canWrite(s) && i.owner === s.project.id && !i.protected && (
                  <button type="button" className="danger" onClick={() => { if (window.confirm(t('images.confirmDelete', { name: i.name ?? i.id }))) del.mutate(i.id); }}>{t('action.delete')}</button>)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <SharedWithMe />
    </section>
  );
}
