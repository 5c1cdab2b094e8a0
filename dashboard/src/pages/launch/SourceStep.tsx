import { useImages } from '../../api/queries';
import { useSnapshots, useVolumes, volumeLabel } from '../../api/volumes';
import { bytes } from '../../ui/format';
import { useT, type MessageKey } from '../../i18n';
import { bootableVolume, imageGiB, SOURCE_KINDS, type Source } from './source';

/** Step 2 of the launch wizard: what the instance boots from. The state lives in the wizard (kept across re-login). */
export function SourceStep({ src, onChange }: { src: Source; onChange: (next: Source) => void }) {
  const t = useT();
  const images = useImages();
  const volumes = useVolumes();
  const snapshots = useSnapshots();
  const set = (patch: Partial<Source>) => onChange({ ...src, ...patch });
  const newVolume = src.kind === 'image-volume' || src.kind === 'snapshot';
  return (
    <>
      <fieldset className="source-kinds"><legend>{t('launch.bootSource')}</legend>
        {SOURCE_KINDS.map((k) => (
          <label key={k} className="check"><input type="radio" name="source-kind" checked={src.kind === k} onChange={() => set({ kind: k })} />{t(`launch.source.${k}` as MessageKey)}</label>
        ))}
      </fieldset>
      {(src.kind === 'image' || src.kind === 'image-volume') && (
        <table className="pick"><thead><tr><th></th><th>{t('common.name')}</th><th>{t('images.size')}</th><th>{t('images.format')}</th><th>{t('images.minDisk')}</th><th>{t('images.minRam')}</th></tr></thead>
          <tbody>{(images.data ?? []).filter((i) => i.status === 'active').map((i) => (
            <tr key={i.id}><td><input type="radio" name="image" aria-label={i.name ?? i.id} checked={src.imageId === i.id} onChange={() => set({ imageId: i.id, volumeSize: Math.max(src.volumeSize, imageGiB(i)) })} /></td>
              <td>{i.name}</td><td>{bytes(i.size)}</td><td>{i.disk_format}</td><td>{i.min_disk} GiB</td><td>{i.min_ram} MiB</td></tr>))}</tbody></table>
      )}
      {src.kind === 'volume' && (
        <table className="pick"><thead><tr><th></th><th>{t('common.name')}</th><th>{t('volumes.size')}</th><th>{t('volumes.type')}</th></tr></thead>
          <tbody>{(volumes.data ?? []).filter(bootableVolume).map((v) => (
            <tr key={v.id}><td><input type="radio" name="volume" aria-label={volumeLabel(v)} checked={src.volumeId === v.id} onChange={() => set({ volumeId: v.id })} /></td>
              <td>{volumeLabel(v)}</td><td>{v.size} GiB</td><td>{v.volume_type ?? ''}</td></tr>))}</tbody></table>
      )}
      {src.kind === 'volume' && !(volumes.data ?? []).some(bootableVolume) && <p className="muted">{t('launch.noBootableVolume')}</p>}
      {src.kind === 'snapshot' && (
        <table className="pick"><thead><tr><th></th><th>{t('common.name')}</th><th>{t('volumes.size')}</th></tr></thead>
          <tbody>{(snapshots.data ?? []).filter((x) => x.status === 'available').map((x) => (
            <tr key={x.id}><td><input type="radio" name="snapshot" aria-label={volumeLabel(x)} checked={src.snapshotId === x.id} onChange={() => set({ snapshotId: x.id, volumeSize: Math.max(src.volumeSize, x.size) })} /></td>
              <td>{volumeLabel(x)}</td><td>{x.size} GiB</td></tr>))}</tbody></table>
      )}
      {newVolume && <label>{t('launch.volumeSize')}<input name="volume-size" type="number" min={1} value={src.volumeSize} onChange={(e) => set({ volumeSize: Math.max(1, Number(e.target.value) || 1) })} /></label>}
      {src.kind !== 'image' && (
        <label className="check"><input type="checkbox" name="delete-on-termination" checked={src.deleteOnTermination} onChange={(e) => set({ deleteOnTermination: e.target.checked })} />{t('launch.deleteOnTermination')}</label>
      )}
    </>
  );
}
