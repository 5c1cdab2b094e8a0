import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Link, useLocation } from 'wouter';
import { get, send } from '../api/client';
import { allows } from '../api/actions';
import { canWrite, useSession } from '../api/session';
import type { Server } from '../api/types';
import { ErrorNote } from '../ui/ErrorNote';
import { ServerActions } from '../ui/ServerActions';
import { ServerVolumes } from '../ui/ServerVolumes';
import { ServerGraphs } from '../ui/ServerGraphs';
import { addressesOf, StatusBadge } from './Instances';
import { useT } from '../i18n';

interface InstanceAction { action: string; request_id: string; start_time: string; message: string | null }
interface Interface { port_id: string; net_id: string; mac_addr: string; port_state: string; fixed_ips: { ip_address: string }[] }

/** The console log, following the guest as it writes. */
function ConsoleLog({ id }: { id: string }) {
  const t = useT();
  const pre = useRef<HTMLPreElement>(null);
  const log = useQuery({
    queryKey: ['console-log', id],
    queryFn: async () => (await send<{ output: string }>('compute', 'POST', `/servers/${id}/action`, { 'os-getConsoleOutput': { length: 200 } })).output,
    refetchInterval: 3000,
  });
  useEffect(() => { if (pre.current) pre.current.scrollTop = pre.current.scrollHeight; }, [log.data]);
  return (
    <div>
      <ErrorNote error={log.error} />
      <pre className="console-log" ref={pre} tabIndex={0} aria-label={t('detail.consoleLog')}>{log.data ?? ''}</pre>
    </div>
  );
}

/** The guest's screen through Gureum's noVNC (/console/), embedded with a short-lived console token. */
function VncConsole({ id }: { id: string }) {
  const t = useT();
  const open = useMutation({
    mutationFn: async () => {
      const r = await send<{ remote_console: { url: string } }>('compute', 'POST', `/servers/${id}/remote-consoles`, { remote_console: { protocol: 'vnc', type: 'novnc' } });
      // Only the path is used: the page is same-origin whatever public URL the catalog advertises.
      const u = new URL(r.remote_console.url, window.location.href);
      return `${u.pathname}${u.search}`;
    },
  });
  useEffect(() => { open.mutate(); }, [id]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div>
      <ErrorNote error={open.error} onRetry={() => open.mutate()} />
      {open.data && (
        <>
          <iframe className="vnc" title={t('detail.console')} src={open.data} />
          <p><a href={open.data} target="_blank" rel="noopener noreferrer">{t('detail.consoleNewTab')}</a></p>
        </>
      )}
    </div>
  );
}

export function InstanceDetail({ id }: { id: string }) {
  const s = useSession();
  const t = useT();
  const [, navigate] = useLocation();
  const [tab, setTab] = useState<'overview' | 'log' | 'console' | 'actions' | 'interfaces' | 'volumes' | 'graphs'>('overview');
  const [actionError, setActionError] = useState<unknown>(null);
  const server = useQuery({
    queryKey: ['server', id],
    queryFn: async () => (await get<{ server: Server }>('compute', `/servers/${id}`)).server,
    refetchInterval: (q) => (q.state.data?.['OS-EXT-STS:task_state'] || q.state.data?.status === 'BUILD' ? 2000 : 8000),
  });
  const actions = useQuery({
    queryKey: ['server-actions', id],
    queryFn: async () => (await get<{ instanceActions: InstanceAction[] }>('compute', `/servers/${id}/os-instance-actions`)).instanceActions,
    enabled: tab === 'actions',
  });
  const ifaces = useQuery({
    queryKey: ['server-ifaces', id],
    queryFn: async () => (await get<{ interfaceAttachments: Interface[] }>('compute', `/servers/${id}/os-interface`)).interfaceAttachments,
    enabled: tab === 'interfaces',
  });
  const snapshot = useMutation({
    mutationFn: async (name: string) => (await send<{ image_id: string }>('compute', 'POST', `/servers/${id}/action`, { createImage: { name } })).image_id,
    onSettled: () => void server.refetch(),
  });
  const v = server.data;
  if (server.error) return <section><ErrorNote error={server.error} onRetry={() => void server.refetch()} /><Link href="/instances">{t('detail.back')}</Link></section>;
  if (!v) return <p className="muted">{t('common.loading')}</p>;
  const tabs = [['overview', t('detail.overview')], ['log', t('detail.consoleLog')], ['console', t('detail.console')], ['actions', t('detail.actionLog')], ['interfaces', t('detail.interfaces')], ['volumes', t('nav.volumes')], ['graphs', t('graphs.tab')]] as const;
  return (
    <section>
      <div className="page-head">
        <h1>{v.name} <StatusBadge server={v} t={t} /></h1>
        <span className="row-actions">
        {canWrite(s) && allows(v, 'createImage') && (
          <button type="button" disabled={snapshot.isPending} onClick={() => {
            const name = window.prompt(t('detail.snapshotName'), `${v.name}-snapshot`);
            if (name) snapshot.mutate(name);
          }}>{t('detail.createSnapshot')}</button>
        )}
        {canWrite(s) && <ServerActions server={v} onError={setActionError} onDone={(a) => { if (a.key === 'delete') navigate('/instances'); else void server.refetch(); }} />}
        </span>
      </div>
      <ErrorNote error={actionError ?? snapshot.error} />
      {snapshot.data && <p className="notice" role="status">{t('detail.snapshotMade')} <Link href={`/images/${snapshot.data}`}>{t('detail.snapshotOpen')}</Link></p>}
      <div className="tabs" role="tablist">
        {tabs.map(([k, label]) => <button key={k} type="button" role="tab" aria-selected={tab === k} onClick={() => setTab(k)}>{label}</button>)}
      </div>
      {tab === 'overview' && (
        <dl className="facts">
          <dt>ID</dt><dd className="mono">{v.id}</dd>
          <dt>{t('instances.status')}</dt><dd>{v.status} / {v['OS-EXT-STS:vm_state']} / {v['OS-EXT-STS:task_state'] ?? '-'}</dd>
          <dt>{t('instances.addresses')}</dt><dd>{addressesOf(v)}</dd>
          <dt>{t('instances.flavor')}</dt><dd>{v.flavor.original_name} ({v.flavor.vcpus} vCPU, {v.flavor.ram} MiB, {v.flavor.disk} GiB)</dd>
          <dt>{t('instances.keypair')}</dt><dd>{v.key_name ?? '-'}</dd>
          <dt>{t('instances.securityGroups')}</dt><dd>{(v.security_groups ?? []).map((g) => g.name).join(', ')}</dd>
          <dt>{t('detail.metadata')}</dt><dd className="mono">{Object.entries(v.metadata).map(([k, x]) => `${k}=${x}`).join('  ') || '-'}</dd>
          <dt>{t('detail.created')}</dt><dd>{v.created}</dd>
          {v.fault && <><dt>{t('detail.fault')}</dt><dd className="error">{v.fault.message}</dd></>}
        </dl>
      )}
      {tab === 'log' && <ConsoleLog id={id} />}
      {tab === 'console' && <VncConsole id={id} />}
      {tab === 'actions' && (
        <table><thead><tr><th>{t('detail.action')}</th><th>{t('detail.requestId')}</th><th>{t('detail.started')}</th><th>{t('detail.message')}</th></tr></thead>
          <tbody>{(actions.data ?? []).map((a) => <tr key={a.request_id + a.action}><td>{a.action}</td><td className="mono">{a.request_id}</td><td>{a.start_time}</td><td>{a.message ?? ''}</td></tr>)}</tbody></table>
      )}
      {tab === 'interfaces' && (
        <table><thead><tr><th>{t('detail.port')}</th><th>{t('detail.network')}</th><th>MAC</th><th>IP</th><th>{t('instances.status')}</th></tr></thead>
          <tbody>{(ifaces.data ?? []).map((i) => <tr key={i.port_id}><td className="mono">{i.port_id.slice(0, 8)}</td><td className="mono">{i.net_id.slice(0, 8)}</td><td className="mono">{i.mac_addr}</td><td>{i.fixed_ips.map((f) => f.ip_address).join(', ')}</td><td>{i.port_state}</td></tr>)}</tbody></table>
      )}
      {tab === 'graphs' && <ServerGraphs serverId={id} />}
      {tab === 'volumes' && <ServerVolumes serverId={id} writable={canWrite(s)} rootDevice={v.image === '' ? '/dev/vda' : null} />}
      <p><Link href="/instances">{t('detail.back')}</Link></p>
    </section>
  );
}
