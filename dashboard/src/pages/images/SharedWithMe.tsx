// Images other projects shared with this one: accept (it joins the image list and the launch wizard) or reject.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { send } from '../../api/client';
import { useSharedWithMe } from '../../api/images';
import { canWrite, useSession } from '../../api/session';
import { ErrorNote } from '../../ui/ErrorNote';
import { useT, type MessageKey } from '../../i18n';

export function SharedWithMe() {
  const s = useSession();
  const t = useT();
  const client = useQueryClient();
  const shared = useSharedWithMe();
  const answer = useMutation({
    mutationFn: ({ id, status }: { id: string; status: 'accepted' | 'rejected' }) =>
      send('image', 'PUT', `/v2/images/${id}/members/${s.project.id}`, { status }),
    onSettled: () => Promise.all(['images', 'images-shared'].map((k) => client.invalidateQueries({ queryKey: [k] }))),
  });
  if ((shared.data ?? []).length === 0 && !shared.error) return null;
  return (
    <>
      <h2>{t('images.sharedWithMe')}</h2>
      <ErrorNote error={answer.error ?? shared.error} onRetry={() => void shared.refetch()} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('images.owner')}</th><th>{t('images.yourAnswer')}</th><th></th></tr></thead>
        <tbody>{(shared.data ?? []).map(({ image, status }) => (
          <tr key={image.id} data-shared={image.name ?? ''}>
            <td>{image.name}</td><td className="mono">{image.owner}</td><td data-status={status}>{t(`images.member.${status}` as MessageKey)}</td>
            <td>{canWrite(s) && (
              <span className="row-actions">
                {status !== 'accepted' && <button type="button" onClick={() => answer.mutate({ id: image.id, status: 'accepted' })}>{t('images.accept')}</button>}
                {status !== 'rejected' && <button type="button" className="danger" onClick={() => answer.mutate({ id: image.id, status: 'rejected' })}>{t('images.reject')}</button>}
              </span>)}</td>
          </tr>))}</tbody>
      </table></div>
    </>
  );
}
