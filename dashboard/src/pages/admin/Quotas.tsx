// Quotas of any project (admin): Nova's, Neutron's and Cinder's quota sets side by side, each limit editable with
// the project's current use beside it (-1 is unlimited). Each service's form saves only the limits that changed.
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, send, type Service } from '../../api/client';
import { useSession } from '../../api/session';
import { ErrorNote } from '../../ui/ErrorNote';
import { useT } from '../../i18n';
import { useAllProjects } from './projects';

interface Usage { limit: number; used: number }

/** How each service shows and sets a project's quota. */
const SERVICES: { key: 'compute' | 'network' | 'volume'; service: Service; read: (p: string) => string; write: (p: string) => string; wrap: string }[] = [
  { key: 'compute', service: 'compute', read: (p) => `/os-quota-sets/${p}/detail`, write: (p) => `/os-quota-sets/${p}`, wrap: 'quota_set' },
  { key: 'network', service: 'network', read: (p) => `/v2.0/quotas/${p}/details`, write: (p) => `/v2.0/quotas/${p}`, wrap: 'quota' },
  { key: 'volume', service: 'volume', read: (p) => `/os-quota-sets/${p}?usage=true`, write: (p) => `/os-quota-sets/${p}`, wrap: 'quota_set' },
];

function usageOf(body: Record<string, unknown>): Record<string, Usage> {
  const out: Record<string, Usage> = {};
  for (const [k, v] of Object.entries(body)) {
    if (v && typeof v === 'object' && 'limit' in v) {
      const u = v as { limit: number; in_use?: number; used?: number };
      out[k] = { limit: u.limit, used: u.in_use ?? u.used ?? 0 };
    }
  }
  return out;
}

function QuotaSet({ svc, project }: { svc: (typeof SERVICES)[number]; project: string }) {
  const t = useT();
  const client = useQueryClient();
  const q = useQuery({
    queryKey: ['admin-quota', svc.key, project],
    queryFn: async () => usageOf((await get<Record<string, Record<string, unknown>>>(svc.service, svc.read(project)))[svc.wrap]!),
  });
  const [draft, setDraft] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () => {
      const changed = Object.fromEntries(Object.entries(draft).filter(([k, v]) => v !== '' && Number(v) !== q.data?.[k]?.limit).map(([k, v]) => [k, Number(v)]));
      return send(svc.service, 'PUT', svc.write(project), { [svc.wrap]: changed });
    },
    onSuccess: () => setDraft({}),
    onSettled: () => Promise.all([`quota-${svc.key}`, 'admin-quota'].map((k) => client.invalidateQueries({ queryKey: [k] }))),
  });
  const rows = Object.entries(q.data ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <form className="card" aria-label={t(`quotas.${svc.key}`)} onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <h2>{t(`quotas.${svc.key}`)}</h2>
      <ErrorNote error={save.error ?? q.error} onRetry={() => void q.refetch()} />
      <div className="table-wrap"><table>
        <thead><tr><th>{t('quotas.resource')}</th><th>{t('quotas.inUse')}</th><th>{t('quotas.limit')}</th></tr></thead>
        <tbody>{rows.map(([k, u]) => (
          <tr key={k} data-resource={k}>
            <td className="mono">{k}</td><td data-used={u.used}>{u.used}</td>
            <td><input type="number" min={-1} aria-label={`${svc.key} ${k}`} value={draft[k] ?? String(u.limit)} onChange={(e) => setDraft({ ...draft, [k]: e.target.value })} /></td>
          </tr>))}</tbody>
      </table></div>
      <div><button type="submit" className="primary" disabled={save.isPending || Object.keys(draft).length === 0}>{t('images.save')}</button>
        {save.isSuccess && <span className="ok" role="status"> {t('images.saved')}</span>}</div>
    </form>
  );
}

export function AdminQuotas() {
  const s = useSession();
  const t = useT();
  const projects = useAllProjects();
  const [project, setProject] = useState(s.project.id);
  const hasVolume = s.catalog.some((e) => e.type === 'block-storage' || e.type === 'volumev3');
  return (
    <section>
      <h1>{t('nav.quotas')}</h1>
      <label className="inline-label">{t('images.project')}
        <select name="quota-project" value={project} onChange={(e) => setProject(e.target.value)}>
          {(projects.data ?? [{ id: s.project.id, name: s.project.name }]).map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
      </label>
      <p className="muted">{t('quotas.unlimited')}</p>
      <div className="quota-grid">
        {SERVICES.filter((x) => x.key !== 'volume' || hasVolume).map((x) => <QuotaSet key={`${x.key}-${project}`} svc={x} project={project} />)}
      </div>
    </section>
  );
}
