// Flavors (admin): create (public or private), and which projects may use a private one (os-flavor-access, as
// `openstack flavor set --project`), added and removed here.
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, send } from '../../api/client';
import type { Flavor } from '../../api/types';
import { ErrorNote } from '../../ui/ErrorNote';
import { useT } from '../../i18n';
import { useAllProjects } from './projects';

function FlavorAccess({ flavor, onClose }: { flavor: Flavor; onClose: () => void }) {
  const t = useT();
  const client = useQueryClient();
  const projects = useAllProjects();
  const [pick, setPick] = useState('');
  const access = useQuery({
    queryKey: ['flavor-access', flavor.id],
    queryFn: async () => (await get<{ flavor_access: { tenant_id: string }[] }>('compute', `/flavors/${flavor.id}/os-flavor-access`)).flavor_access,
  });
  const change = useMutation({
    mutationFn: (body: unknown) => send('compute', 'POST', `/flavors/${flavor.id}/action`, body),
    onSuccess: () => setPick(''),
    onSettled: () => client.invalidateQueries({ queryKey: ['flavor-access', flavor.id] }),
  });
  const nameOf = (id: string) => (projects.data ?? []).find((p) => p.id === id)?.name ?? id;
  const granted = new Set((access.data ?? []).map((a) => a.tenant_id));
  return (
    <div className="card" role="region" aria-label={t('flavors.accessOf', { name: flavor.name })}>
      <h2>{t('flavors.accessOf', { name: flavor.name })}</h2>
      <ErrorNote error={change.error ?? access.error} />
      {(access.data ?? []).length === 0 && <p className="muted">{t('flavors.noAccess')}</p>}
      <ul className="plain">{(access.data ?? []).map((a) => (
        <li key={a.tenant_id} data-project={nameOf(a.tenant_id)}>{nameOf(a.tenant_id)}{' '}
          <button type="button" className="danger" onClick={() => change.mutate({ removeTenantAccess: { tenant: a.tenant_id } })}>{t('images.remove')}</button></li>))}</ul>
      <div className="forms">
        <label>{t('images.project')}<select name="access-project" value={pick} onChange={(e) => setPick(e.target.value)}>
          <option value="">—</option>{(projects.data ?? []).filter((p) => !granted.has(p.id)).map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select></label>
        <button type="button" disabled={!pick || change.isPending} onClick={() => change.mutate({ addTenantAccess: { tenant: pick } })}>{t('flavors.grant')}</button>
        <button type="button" onClick={onClose}>{t('common.close')}</button>
      </div>
    </div>
  );
}

export function AdminFlavors() {
  const t = useT();
  const client = useQueryClient();
  // is_public=None: the admin sees private flavors too.
  const flavors = useQuery({ queryKey: ['flavors', 'all'], queryFn: async () => (await get<{ flavors: Flavor[] }>('compute', '/flavors/detail?is_public=None')).flavors });
  const [f, setF] = useState({ name: '', vcpus: 1, ram: 512, disk: 1, isPublic: true });
  const [open, setOpen] = useState<Flavor | null>(null);
  const create = useMutation({
    mutationFn: () => send('compute', 'POST', '/flavors', { flavor: { name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, id: 'auto', 'os-flavor-access:is_public': f.isPublic } }),
    onSettled: () => client.invalidateQueries({ queryKey: ['flavors'] }),
  });
  return (
    <section>
      <h1>{t('nav.flavors')}</h1>
      <form className="card inline" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <label>{t('common.name')}<input name="flavor-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} required /></label>
        <label>vCPU<input type="number" min={1} value={f.vcpus} onChange={(e) => setF({ ...f, vcpus: Number(e.target.value) })} /></label>
        <label>RAM (MiB)<input type="number" min={1} value={f.ram} onChange={(e) => setF({ ...f, ram: Number(e.target.value) })} /></label>
        <label>{t('launch.disk')} (GiB)<input type="number" min={0} value={f.disk} onChange={(e) => setF({ ...f, disk: Number(e.target.value) })} /></label>
        <label className="check"><input type="checkbox" name="flavor-public" checked={f.isPublic} onChange={(e) => setF({ ...f, isPublic: e.target.checked })} />{t('admin.public')}</label>
        <button type="submit" disabled={!f.name}>{t('action.create')}</button>
        <ErrorNote error={create.error} />
      </form>
      {open && <FlavorAccess key={open.id} flavor={open} onClose={() => setOpen(null)} />}
      <ErrorNote error={flavors.error} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>vCPU</th><th>RAM</th><th>{t('launch.disk')}</th><th>{t('admin.public')}</th><th></th></tr></thead>
        <tbody>{(flavors.data ?? []).map((x) => {
          const isPublic = x['os-flavor-access:is_public'] !== false;
          return (
            <tr key={x.id} data-name={x.name}><td>{x.name}</td><td>{x.vcpus}</td><td>{x.ram} MiB</td><td>{x.disk} GiB</td><td>{isPublic ? '✓' : ''}</td>
              <td>{!isPublic && <button type="button" onClick={() => setOpen(x)}>{t('flavors.access')}</button>}</td></tr>);
        })}</tbody>
      </table></div>
    </section>
  );
}
