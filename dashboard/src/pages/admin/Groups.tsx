// Groups (admin): create and delete, members added and removed, and a group's role assignments on projects (every
// member then holds the role there, as `openstack role add --group`).
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { call, get, send } from '../../api/client';
import { ErrorNote } from '../../ui/ErrorNote';
import { useT } from '../../i18n';
import { useAllProjects } from './projects';

interface Group { id: string; name: string; description?: string; domain_id: string }
interface User { id: string; name: string }
interface Role { id: string; name: string }
interface GroupAssignment { role: { id: string; name: string }; scope: { project?: { id: string; name: string } } }

function GroupDetail({ group }: { group: Group }) {
  const t = useT();
  const client = useQueryClient();
  const projects = useAllProjects();
  const users = useQuery({ queryKey: ['users'], queryFn: async () => (await get<{ users: User[] }>('identity', '/users')).users });
  const roles = useQuery({ queryKey: ['roles'], queryFn: async () => (await get<{ roles: Role[] }>('identity', '/roles')).roles, staleTime: 60_000 });
  const members = useQuery({ queryKey: ['group-users', group.id], queryFn: async () => (await get<{ users: User[] }>('identity', `/groups/${group.id}/users`)).users });
  const assignments = useQuery({
    queryKey: ['group-roles', group.id],
    queryFn: async () => (await get<{ role_assignments: GroupAssignment[] }>('identity', `/role_assignments?group.id=${group.id}&include_names=true`)).role_assignments,
  });
  const [user, setUser] = useState('');
  const [project, setProject] = useState('');
  const [role, setRole] = useState('');
  const write = useMutation({
    mutationFn: (f: () => Promise<unknown>) => f(),
    onSettled: () => Promise.all(['group-users', 'group-roles', 'role-assignments'].map((k) => client.invalidateQueries({ queryKey: [k] }))),
  });
  const inGroup = new Set((members.data ?? []).map((u) => u.id));
  return (
    <div className="card" role="region" aria-label={t('groups.detailOf', { name: group.name })}>
      <h2>{t('groups.detailOf', { name: group.name })}</h2>
      <ErrorNote error={write.error ?? members.error ?? assignments.error} />
      <h3>{t('groups.members')}</h3>
      <ul className="plain">{(members.data ?? []).map((u) => (
        <li key={u.id} data-member={u.name}>{u.name}{' '}
          <button type="button" className="danger" onClick={() => write.mutate(() => call('identity', `/groups/${group.id}/users/${u.id}`, { method: 'DELETE' }))}>{t('images.remove')}</button></li>))}</ul>
      <div className="forms">
        <label>{t('groups.user')}<select name="group-user" value={user} onChange={(e) => setUser(e.target.value)}>
          <option value="">—</option>{(users.data ?? []).filter((u) => !inGroup.has(u.id)).map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
        </select></label>
        <button type="button" disabled={!user} onClick={() => { write.mutate(() => send('identity', 'PUT', `/groups/${group.id}/users/${user}`)); setUser(''); }}>{t('groups.addMember')}</button>
      </div>
      <h3>{t('admin.assignments')}</h3>
      <ul className="plain">{(assignments.data ?? []).filter((a) => a.scope.project).map((a) => (
        <li key={`${a.role.id}-${a.scope.project!.id}`} data-assignment={`${a.role.name}@${a.scope.project!.name}`}>{a.role.name} @ {a.scope.project!.name}{' '}
          <button type="button" className="danger" onClick={() => write.mutate(() => call('identity', `/projects/${a.scope.project!.id}/groups/${group.id}/roles/${a.role.id}`, { method: 'DELETE' }))}>{t('images.remove')}</button></li>))}</ul>
      <div className="forms">
        <label>{t('images.project')}<select name="group-project" value={project} onChange={(e) => setProject(e.target.value)}>
          <option value="">—</option>{(projects.data ?? []).map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select></label>
        <label>{t('admin.role')}<select name="group-role" value={role} onChange={(e) => setRole(e.target.value)}>
          <option value="">—</option>{(roles.data ?? []).map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
        </select></label>
        <button type="button" disabled={!project || !role} onClick={() => write.mutate(() => send('identity', 'PUT', `/projects/${project}/groups/${group.id}/roles/${role}`))}>{t('groups.assign')}</button>
      </div>
    </div>
  );
}

export function AdminGroups() {
  const t = useT();
  const client = useQueryClient();
  const groups = useQuery({ queryKey: ['groups'], queryFn: async () => (await get<{ groups: Group[] }>('identity', '/groups')).groups });
  const [name, setName] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const write = useMutation({
    mutationFn: (f: () => Promise<unknown>) => f(),
    onSettled: () => client.invalidateQueries({ queryKey: ['groups'] }),
  });
  const selected = (groups.data ?? []).find((g) => g.id === open);
  return (
    <section>
      <h1>{t('nav.groups')}</h1>
      <form className="card inline" onSubmit={(e) => { e.preventDefault(); write.mutate(() => send('identity', 'POST', '/groups', { group: { name, domain_id: 'default' } })); setName(''); }}>
        <label>{t('common.name')}<input name="group-name" value={name} onChange={(e) => setName(e.target.value)} required /></label>
        <button type="submit" disabled={!name}>{t('action.create')}</button>
      </form>
      <ErrorNote error={write.error ?? groups.error} onRetry={() => void groups.refetch()} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>ID</th><th></th></tr></thead>
        <tbody>{(groups.data ?? []).map((g) => (
          <tr key={g.id} data-name={g.name}><td>{g.name}</td><td className="mono">{g.id}</td>
            <td><span className="row-actions">
              <button type="button" aria-expanded={open === g.id} onClick={() => setOpen(open === g.id ? null : g.id)}>{t('groups.manage')}</button>
              <button type="button" className="danger" onClick={() => { if (window.confirm(t('common.confirmDelete', { name: g.name }))) write.mutate(() => call('identity', `/groups/${g.id}`, { method: 'DELETE' })); }}>{t('action.delete')}</button>
            </span></td></tr>))}</tbody>
      </table></div>
      {selected && <GroupDetail key={selected.id} group={selected} />}
    </section>
  );
}
