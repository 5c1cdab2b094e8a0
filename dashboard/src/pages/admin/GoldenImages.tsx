// The golden-image factory's published images (admin): every image carrying the factory's audit property, with
// the result, the OS it found and where a captured image came from. There is no separate audit API: publish and
// `gureum image audit --image` write the result into the image's properties, which is what is shown here.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { get } from '../../api/client';
import { AUDIT_PROPERTY, type ImageRecord } from '../../api/images';
import { ErrorNote } from '../../ui/ErrorNote';
import { bytes } from '../../ui/format';
import { useT } from '../../i18n';
import { AuditBadge } from '../images/AuditBadge';

export function AdminGoldenImages() {
  const t = useT();
  const images = useQuery({
    queryKey: ['images-golden'],
    queryFn: async () => (await get<{ images: ImageRecord[] }>('image', '/v2/images?limit=1000')).images.filter((i) => typeof i[AUDIT_PROPERTY] === 'string'),
    refetchInterval: 30_000,
  });
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return (
    <section>
      <h1>{t('nav.goldenImages')}</h1>
      <p className="muted">{t('golden.explain')}</p>
      <ErrorNote error={images.error} onRetry={() => void images.refetch()} />
      {images.data && images.data.length === 0 && <p className="muted">{t('golden.none')}</p>}
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('images.audit')}</th><th>OS</th><th>{t('images.visibility')}</th><th>{t('images.size')}</th><th>{t('images.minDisk')}</th><th>{t('golden.capturedFrom')}</th><th>{t('admin.updated')}</th></tr></thead>
        <tbody>{(images.data ?? []).map((i) => (
          <tr key={i.id} data-name={i.name ?? ''}>
            <td><Link href={`/images/${i.id}`}>{i.name ?? i.id}</Link></td><td><AuditBadge value={str(i[AUDIT_PROPERTY])} /></td>
            <td>{[str(i.os_distro), str(i.os_version)].filter(Boolean).join(' ')}</td><td>{i.visibility}</td><td>{bytes(i.size)}</td>
            <td>{i.min_disk} GiB</td><td className="mono">{str(i.gureum_captured_from)}</td><td>{str(i.updated_at)}</td>
          </tr>))}</tbody>
      </table></div>
    </section>
  );
}
