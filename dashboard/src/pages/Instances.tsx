import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import { useFlavors, useImages, useServers } from '../api/queries';
import { canWrite, useSession } from '../api/session';
import type { Server } from '../api/types';
import { ErrorNote } from '../ui/ErrorNote';
import { ServerActions } from '../ui/ServerActions';
import { age } from '../ui/format';
import { useT, type MessageKey, type T } from '../i18n';

export function addressesOf(s: Server): string {
  return Object.entries(s.addresses ?? {}).map(([net, as]) => `${net}: ${as.map((a) => a.addr).join(', ')}`).join('; ');
}

/** The API status in the user's language, with the task in flight. */
export function StatusBadge({ server, t }: { server: Server; t: T }) {
  const task = server['OS-EXT-STS:task_state'];
  const key = `status.${server.status}` as MessageKey;
  const label = t(key) === key ? server.status : t(key);
  return (
    <span className={`status status-${server.status.toLowerCase()}`} data-status={server.status}>
      {label}{task ? ` (${task})` : ''}
    </span>
  );
}

/** Rows per page: a thousand servers stay one quick render (filters still search them all). */
export const PAGE_SIZE = 100;

/** Project instances: live table with filters, paging and per-state actions. */
export function Instances({ all = false }: { all?: boolean }) {
  const s = useSession();
  const t = useT();
  const servers = useServers({ all });
  const images = useImages();
  const flavors = useFlavors();
  const [filter, setFilter] = useState('');
  const [status, setStatus] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [pageNo, setPageNo] = useState(0);
  const imageName = useMemo(() => new Map((images.data ?? []).map((i) => [i.id, i.name ?? i.id])), [images.data]);
  const flavorName = useMemo(() => new Map((flavors.data ?? []).map((f) => [f.id, f.name])), [flavors.data]);
  const rows = (servers.data ?? []).filter((v) =>
    (!filter || v.name.toLowerCase().includes(filter.toLowerCase()) || addressesOf(v).includes(filter)) && (!status || v.status === status));
  const statuses = [...new Set((servers.data ?? []).map((v) => v.status))].sort();
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const shown = Math.min(pageNo, pages - 1);
  const pageRows = rows.slice(shown * PAGE_SIZE, (shown + 1) * PAGE_SIZE);
  const now = Date.now();
  return (
    <section>
      <div className="page-head">
        <h1>{all ? t('nav.allInstances') : t('instances.title')}</h1>
        {!all && canWrite(s) && <Link className="button primary" href="/launch">{t('instances.launch')}</Link>}
      </div>
      <div className="filters">
        <label>{t('common.filter')}<input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} /></label>
        <label>{t('instances.status')}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t('common.any')}</option>
            {statuses.map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        </label>
      </div>
      <ErrorNote error={actionError} />
      <ErrorNote error={servers.error} onRetry={() => void servers.refetch()} />
      <div className="table-wrap">
        <table className="instances">
          <thead>
            <tr>
              <th>{t('common.name')}</th><th>{t('instances.status')}</th><th>{t('instances.addresses')}</th>
              <th>{t('instances.flavor')}</th><th>{t('instances.image')}</th>
              {all && <><th>{t('instances.project')}</th><th>{t('instances.host')}</th></>}
              <th>{t('instances.age')}</th><th><span className="sr-only">{t('instances.actions')}</span></th>
            </tr>
          </thead>
          <tbody>
            {pageRows.map((v) => (
              <tr key={v.id} data-name={v.name}>
                <td><Link href={`/instances/${v.id}`}>{v.name}</Link>{v.locked ? ' 🔒' : ''}</td>
                <td><StatusBadge server={v} t={t} /></td>
                <td className="addr">{addressesOf(v)}</td>
                <td>{v.flavor.original_name ?? flavorName.get(v.flavor.id ?? '') ?? ''}</td>
                <td>{v.image ? imageName.get(v.image.id) ?? v.image.id.slice(0, 8) : '—'}</td>
                {all && <><td className="mono">{v.tenant_id.slice(0, 8)}</td><td>{v['OS-EXT-SRV-ATTR:host'] ?? ''}</td></>}
                <td>{age(v.created, now)}</td>
                <td>{canWrite(s) && <ServerActions server={v} onError={setActionError} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {servers.isPending && <p className="muted">{t('common.loading')}</p>}
        {servers.data && rows.length === 0 && <p className="muted">{t('instances.none')}</p>}
      </div>
      {rows.length > PAGE_SIZE && (
        <nav className="pager" aria-label={t('common.pages')}>
          <button type="button" disabled={shown === 0} onClick={() => setPageNo(shown - 1)}>{t('common.previous')}</button>
          <span>{t('common.range', { from: shown * PAGE_SIZE + 1, to: shown * PAGE_SIZE + pageRows.length, total: rows.length })}</span>
          <button type="button" disabled={shown >= pages - 1} onClick={() => setPageNo(shown + 1)}>{t('common.next')}</button>
        </nav>
      )}
    </section>
  );
}
