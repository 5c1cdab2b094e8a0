// Sharing an image (visibility "shared") with other projects, as `openstack image add project` does: add a
// project by id, see whether it accepted, remove it.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { call, send } from '../../api/client';
import { useImageMembers } from '../../api/images';
import { ErrorNote } from '../../ui/ErrorNote';
import { useT, type MessageKey } from '../../i18n';

export function ImageMembers({ imageId }: { imageId: string }) {
  const t = useT();
  const client = useQueryClient();
  const members = useImageMembers(imageId, true);
  const [project, setProject] = useState('');
  const write = useMutation({
    mutationFn: (f: () => Promise<unknown>) => f(),
    onSuccess: () => setProject(''),
    onSettled: () => client.invalidateQueries({ queryKey: ['image-members'] }),
  });
  return (
    <div className="card">
      <h2>{t('images.members')}</h2>
      <ErrorNote error={write.error ?? members.error} onRetry={() => void members.refetch()} />
      {(members.data ?? []).length === 0 ? <p className="muted">{t('images.noMembers')}</p> : (
        <div className="table-wrap"><table>
          <thead><tr><th>{t('images.project')}</th><th>{t('instances.status')}</th><th>{t('admin.updated')}</th><th></th></tr></thead>
          <tbody>{(members.data ?? []).map((m) => (
            <tr key={m.member_id} data-member={m.member_id}>
              <td className="mono">{m.member_id}</td><td data-status={m.status}>{t(`images.member.${m.status}` as MessageKey)}</td><td>{m.updated_at}</td>
              <td><button type="button" className="danger" onClick={() => write.mutate(() => call('image', `/v2/images/${imageId}/members/${m.member_id}`, { method: 'DELETE' }))}>{t('images.remove')}</button></td>
            </tr>))}</tbody>
        </table></div>
      )}
      <form className="forms" onSubmit={(e) => { e.preventDefault(); write.mutate(() => send('image', 'POST', `/v2/images/${imageId}/members`, { member: project.trim() })); }}>
        <label>{t('images.projectId')}<input name="member-project" className="mono" value={project} onChange={(e) => setProject(e.target.value)} required /></label>
        <button type="submit" disabled={!project.trim() || write.isPending}>{t('images.share')}</button>
      </form>
    </div>
  );
}
