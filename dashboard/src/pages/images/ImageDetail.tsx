// One image: its facts (with the golden-image factory's audit result when it carries one), the owner's edit form
// (sent as a JSON patch of what changed) and, for a shared image, its members.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from 'wouter';
import { AUDIT_PROPERTY, customProperties, editsOf, patchImage, patchOps, useImage, type ImageEdits, type ImageRecord } from '../../api/images';
import { canWrite, useSession } from '../../api/session';
import { ErrorNote } from '../../ui/ErrorNote';
import { bytes } from '../../ui/format';
import { useT } from '../../i18n';
import { AuditBadge } from './AuditBadge';
import { ImageMembers } from './ImageMembers';

const VISIBILITIES = ['private', 'shared', 'community', 'public'];

function EditImage({ image }: { image: ImageRecord }) {
  const t = useT();
  const client = useQueryClient();
  const [edits, setEdits] = useState<ImageEdits>(() => editsOf(image));
  const [tags, setTags] = useState(image.tags.join(', '));
  const [newKey, setNewKey] = useState('');
  const [newValue, setNewValue] = useState('');
  const set = (patch: Partial<ImageEdits>) => setEdits({ ...edits, ...patch });
  const save = useMutation({
    mutationFn: () => {
      const after = { ...edits, tags: tags.split(',').map((x) => x.trim()).filter((x) => x !== '') };
      return patchImage(image.id, patchOps(editsOf(image), after));
    },
    onSuccess: (img) => { setEdits(editsOf(img)); setTags(img.tags.join(', ')); },
    onSettled: () => Promise.all(['image', 'images'].map((k) => client.invalidateQueries({ queryKey: [k] }))),
  });
  const addProperty = () => {
    if (!newKey.trim()) return;
    set({ properties: { ...edits.properties, [newKey.trim()]: newValue } });
    setNewKey('');
    setNewValue('');
  };
  return (
    <form className="card" aria-label={t('images.edit')} onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <h2>{t('images.edit')}</h2>
      <div className="forms">
        <label>{t('common.name')}<input name="edit-name" value={edits.name} onChange={(e) => set({ name: e.target.value })} /></label>
        <label>{t('images.minDisk')} (GiB)<input name="edit-min-disk" type="number" min={0} value={edits.min_disk} onChange={(e) => set({ min_disk: Math.max(0, Number(e.target.value) || 0) })} /></label>
        <label>{t('images.minRam')} (MiB)<input name="edit-min-ram" type="number" min={0} value={edits.min_ram} onChange={(e) => set({ min_ram: Math.max(0, Number(e.target.value) || 0) })} /></label>
        <label>{t('images.visibility')}<select name="edit-visibility" value={edits.visibility} onChange={(e) => set({ visibility: e.target.value })}>{VISIBILITIES.map((v) => <option key={v}>{v}</option>)}</select></label>
        <label className="check"><input type="checkbox" name="edit-protected" checked={edits.protected} onChange={(e) => set({ protected: e.target.checked })} />{t('images.protected')}</label>
      </div>
      <label>{t('images.tags')}<input name="edit-tags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="web, debian" /></label>
      <h3>{t('images.properties')}</h3>
      <div className="table-wrap"><table>
        <thead><tr><th>{t('images.key')}</th><th>{t('images.value')}</th><th></th></tr></thead>
        <tbody>
          {Object.entries(edits.properties).map(([k, v]) => (
            <tr key={k} data-property={k}>
              <td className="mono">{k}</td>
              <td><input aria-label={k} value={v} onChange={(e) => set({ properties: { ...edits.properties, [k]: e.target.value } })} /></td>
              <td><button type="button" className="danger" aria-label={t('images.removeProperty', { key: k })} onClick={() => { const { [k]: _, ...rest } = edits.properties; set({ properties: rest }); }}>{t('images.remove')}</button></td>
            </tr>
          ))}
          <tr>
            <td><input name="new-property-key" aria-label={t('images.key')} value={newKey} onChange={(e) => setNewKey(e.target.value)} /></td>
            <td><input name="new-property-value" aria-label={t('images.value')} value={newValue} onChange={(e) => setNewValue(e.target.value)} /></td>
            <td><button type="button" disabled={!newKey.trim()} onClick={addProperty}>{t('images.addProperty')}</button></td>
          </tr>
        </tbody>
      </table></div>
      <div><button type="submit" className="primary" disabled={save.isPending}>{t('images.save')}</button>
        {save.isSuccess && <span className="ok" role="status"> {t('images.saved')}</span>}</div>
      <ErrorNote error={save.error} />
    </form>
  );
}

export function ImageDetail({ id }: { id: string }) {
  const s = useSession();
  const t = useT();
  const image = useImage(id);
  const img = image.data;
  if (image.error) return <section><ErrorNote error={image.error} onRetry={() => void image.refetch()} /><Link href="/images">{t('images.back')}</Link></section>;
  if (!img) return <p className="muted">{t('common.loading')}</p>;
  const mine = img.owner === s.project.id && canWrite(s);
  const props = customProperties(img);
  return (
    <section>
      <h1>{img.name ?? img.id} <span className="muted">{img.status}</span></h1>
      <dl className="facts">
        <dt>ID</dt><dd className="mono">{img.id}</dd>
        <dt>{t('images.visibility')}</dt><dd>{img.visibility}{img.protected ? ` · ${t('images.protected')}` : ''}</dd>
        <dt>{t('images.format')}</dt><dd>{img.disk_format} / {img.container_format}</dd>
        <dt>{t('images.size')}</dt><dd>{bytes(img.size)}</dd>
        <dt>{t('images.minDisk')}</dt><dd>{img.min_disk} GiB</dd>
        <dt>{t('images.minRam')}</dt><dd>{img.min_ram} MiB</dd>
        <dt>{t('images.owner')}</dt><dd className="mono">{img.owner}</dd>
        <dt>{t('images.tags')}</dt><dd>{img.tags.join(', ') || '-'}</dd>
        <dt>{t('images.audit')}</dt><dd><AuditBadge value={props[AUDIT_PROPERTY]} /></dd>
        {!mine && <><dt>{t('images.properties')}</dt><dd className="mono">{Object.entries(props).map(([k, v]) => `${k}=${v}`).join('  ') || '-'}</dd></>}
      </dl>
      {mine && <EditImage key={img.id} image={img} />}
      {mine && img.visibility === 'shared' && <ImageMembers imageId={img.id} />}
      {mine && img.visibility !== 'shared' && <p className="muted">{t('images.shareHint')}</p>}
      <p><Link href="/images">{t('images.back')}</Link></p>
    </section>
  );
}
