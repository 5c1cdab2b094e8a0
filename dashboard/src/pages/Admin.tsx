// Admin views (shown to the admin role; the APIs enforce it anyway): hypervisors, all instances with their host,
// projects/users/role assignments, services (flavors, quotas, groups and golden images have their own files in admin/).
import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client';
import type { Hypervisor } from '../api/types';
import { ErrorNote } from '../ui/ErrorNote';
import { Meter } from '../ui/Meter';
import { Instances } from './Instances';
import { useT } from '../i18n';

export function AdminHypervisors() {
  const t = useT();
  const hv = useQuery({
    queryKey: ['hypervisors'],
    queryFn: async () => (await get<{ hypervisors: Hypervisor[] }>('compute', '/os-hypervisors/detail')).hypervisors,
    refetchInterval: 10_000,
  });
  return (
    <section>
      <h1>{t('nav.hypervisors')}</h1>
      <ErrorNote error={hv.error} onRetry={() => void hv.refetch()} />
      {(hv.data ?? []).map((h) => (
        <div className="card" key={h.id} data-hypervisor={h.hypervisor_hostname}>
          <h2>{h.hypervisor_hostname} <span className="muted">{h.hypervisor_type} · {h.state}/{h.status} · {t('admin.runningVms', { n: h.running_vms })}</span></h2>
          <div className="meters">
            <Meter label="vCPU" used={h.vcpus_used} limit={h.vcpus} />
            <Meter label="RAM" used={h.memory_mb_used} limit={h.memory_mb} unit=" MiB" />
            <Meter label={t('launch.disk')} used={h.local_gb_used} limit={h.local_gb} unit=" GiB" />
          </div>
        </div>
      ))}
    </section>
  );
}

export function AdminInstances() {
  return <Instances all />;
}

interface Assignment { role: { name: string }; user?: { name: string; domain?: { name: string } }; group?: { name: string }; scope: { project?: { name: string }; domain?: { name: string }; system?: unknown } }

export function AdminIdentity() {
  const t = useT();
  const projects = useQuery({ queryKey: ['projects'], queryFn: async () => (await get<{ projects: { id: string; name: string; enabled: boolean; description: string }[] }>('identity', '/projects')).projects });
  const users = useQuery({ queryKey: ['users'], queryFn: async () => (await get<{ users: { id: string; name: string; enabled: boolean; email?: string }[] }>('identity', '/users')).users });
  const ras = useQuery({ queryKey: ['role-assignments'], queryFn: async () => (await get<{ role_assignments: Assignment[] }>('identity', '/role_assignments?include_names=true')).role_assignments });
  return (
    <section>
      <h1>{t('nav.identity')}</h1>
      <ErrorNote error={projects.error ?? users.error ?? ras.error} />
      <h2>{t('admin.projects')}</h2>
      <div className="table-wrap"><table><thead><tr><th>{t('common.name')}</th><th>ID</th><th>{t('admin.enabled')}</th></tr></thead>
        <tbody>{(projects.data ?? []).map((p) => <tr key={p.id}><td>{p.name}</td><td className="mono">{p.id}</td><td>{p.enabled ? '✓' : ''}</td></tr>)}</tbody></table></div>
      <h2>{t('admin.users')}</h2>
      <div className="table-wrap"><table><thead><tr><th>{t('common.name')}</th><th>ID</th><th>{t('admin.enabled')}</th></tr></thead>
        <tbody>{(users.data ?? []).map((u) => <tr key={u.id}><td>{u.name}</td><td className="mono">{u.id}</td><td>{u.enabled ? '✓' : ''}</td></tr>)}</tbody></table></div>
      <h2>{t('admin.assignments')}</h2>
      <div className="table-wrap"><table><thead><tr><th>{t('admin.actor')}</th><th>{t('admin.role')}</th><th>{t('admin.scope')}</th></tr></thead>
        <tbody>{(ras.data ?? []).map((a, i) => <tr key={i}><td>{a.user?.name ?? `group ${a.group?.name ?? ''}`}</td><td>{a.role.name}</td><td>{a.scope.project ? `project ${a.scope.project.name}` : a.scope.domain ? `domain ${a.scope.domain.name}` : 'system'}</td></tr>)}</tbody></table></div>
    </section>
  );
}

interface ComputeService { id: string | number; binary: string; host: string; status: string; state: string; updated_at: string | null; zone: string }

export function AdminServices() {
  const t = useT();
  const svc = useQuery({ queryKey: ['os-services'], queryFn: async () => (await get<{ services: ComputeService[] }>('compute', '/os-services')).services, refetchInterval: 15_000 });
  const cat = useQuery({ queryKey: ['catalog-services'], queryFn: async () => (await get<{ services: { id: string; type: string; name: string; enabled: boolean }[] }>('identity', '/services')).services });
  return (
    <section>
      <h1>{t('nav.services')}</h1>
      <ErrorNote error={svc.error ?? cat.error} />
      <h2>{t('admin.catalog')}</h2>
      <div className="table-wrap"><table><thead><tr><th>{t('common.name')}</th><th>{t('admin.type')}</th><th>{t('admin.enabled')}</th></tr></thead>
        <tbody>{(cat.data ?? []).map((c) => <tr key={c.id}><td>{c.name}</td><td>{c.type}</td><td>{c.enabled ? '✓' : ''}</td></tr>)}</tbody></table></div>
      <h2>{t('admin.computeServices')}</h2>
      <div className="table-wrap"><table><thead><tr><th>{t('admin.binary')}</th><th>{t('instances.host')}</th><th>{t('admin.zone')}</th><th>{t('instances.status')}</th><th>{t('admin.state')}</th><th>{t('admin.updated')}</th></tr></thead>
        <tbody>{(svc.data ?? []).map((c) => <tr key={String(c.id)}><td>{c.binary}</td><td>{c.host}</td><td>{c.zone}</td><td>{c.status}</td><td className={c.state === 'up' ? 'ok' : 'warn'}>{c.state}</td><td>{c.updated_at ?? ''}</td></tr>)}</tbody></table></div>
    </section>
  );
}
