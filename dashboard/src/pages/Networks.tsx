// Networks with their subnets, routers (gateway and interfaces), floating IPs (allocate, associate) and ports.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { call, send } from '../api/client';
import { useFloatingIps, useNetworks, usePorts, useRouters, useServers, useSubnets } from '../api/queries';
import { canWrite, useSession } from '../api/session';
import { ErrorNote } from '../ui/ErrorNote';
import { useT } from '../i18n';

const NEUTRON_KEYS = ['networks', 'subnets', 'routers', 'ports', 'floatingips'];

function useNeutronWrite<A>(fn: (a: A) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: () => Promise.all(NEUTRON_KEYS.map((k) => client.invalidateQueries({ queryKey: [k] }))),
  });
}

function NetworkForm() {
  const t = useT();
  const [name, setName] = useState('');
  const [cidr, setCidr] = useState('192.168.10.0/24');
  const create = useNeutronWrite(async () => {
    const net = (await send<{ network: { id: string } }>('network', 'POST', '/v2.0/networks', { network: { name } })).network;
    if (cidr) await send('network', 'POST', '/v2.0/subnets', { subnet: { name: `${name}-subnet`, network_id: net.id, cidr, ip_version: 4 } });
  });
  return (
    <form className="card inline" onSubmit={(e) => { e.preventDefault(); create.mutate(undefined); }}>
      <h2>{t('networks.create')}</h2>
      <label>{t('common.name')}<input name="network-name" value={name} onChange={(e) => setName(e.target.value)} required /></label>
      <label>{t('networks.subnetCidr')}<input name="subnet-cidr" value={cidr} onChange={(e) => setCidr(e.target.value)} /></label>
      <button type="submit" disabled={!name || create.isPending}>{t('action.create')}</button>
      <ErrorNote error={create.error} />
    </form>
  );
}

function RouterForm() {
  const t = useT();
  const networks = useNetworks();
  const subnets = useSubnets();
  const s = useSession();
  const external = (networks.data ?? []).filter((n) => n['router:external']);
  const own = (subnets.data ?? []).filter((x) => x.project_id === s.project.id);
  const [name, setName] = useState('');
  const [gw, setGw] = useState('');
  const [subnet, setSubnet] = useState('');
  const create = useNeutronWrite(async () => {
    const gwNet = gw || external[0]?.id;
    const r = (await send<{ router: { id: string } }>('network', 'POST', '/v2.0/routers', {
      router: { name, ...(gwNet ? { external_gateway_info: { network_id: gwNet } } : {}) },
    })).router;
    if (subnet) await send('network', 'PUT', `/v2.0/routers/${r.id}/add_router_interface`, { subnet_id: subnet });
  });
  return (
    <form className="card inline" onSubmit={(e) => { e.preventDefault(); create.mutate(undefined); }}>
      <h2>{t('networks.createRouter')}</h2>
      <label>{t('common.name')}<input name="router-name" value={name} onChange={(e) => setName(e.target.value)} required /></label>
      <label>{t('networks.gateway')}<select value={gw} onChange={(e) => setGw(e.target.value)}>{external.map((n) => <option key={n.id} value={n.id}>{n.name}</option>)}</select></label>
      <label>{t('networks.interface')}<select name="router-subnet" value={subnet} onChange={(e) => setSubnet(e.target.value)}>
        <option value="">—</option>{own.map((x) => <option key={x.id} value={x.id}>{x.name || x.cidr} ({x.cidr})</option>)}</select></label>
      <button type="submit" disabled={!name || create.isPending}>{t('action.create')}</button>
      <ErrorNote error={create.error} />
    </form>
  );
}

function FloatingIpForm() {
  const t = useT();
  const networks = useNetworks();
  const ports = usePorts();
  const servers = useServers();
  const external = (networks.data ?? []).filter((n) => n['router:external']);
  const serverName = new Map((servers.data ?? []).map((v) => [v.id, v.name]));
  const vmPorts = (ports.data ?? []).filter((p) => p.device_owner.startsWith('compute:'));
  const [port, setPort] = useState('');
  const create = useNeutronWrite(async () => {
    const net = external[0];
    if (!net) throw new Error(t('networks.noExternal'));
    await send('network', 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: net.id, ...(port ? { port_id: port } : {}) } });
  });
  return (
    <form className="card inline" onSubmit={(e) => { e.preventDefault(); create.mutate(undefined); }}>
      <h2>{t('networks.allocateFip')}</h2>
      <label>{t('networks.associateWith')}<select name="fip-port" value={port} onChange={(e) => setPort(e.target.value)}>
        <option value="">—</option>
        {vmPorts.map((p) => <option key={p.id} value={p.id}>{serverName.get(p.device_id) ?? p.device_id.slice(0, 8)} {p.fixed_ips.map((f) => f.ip_address).join(',')}</option>)}
      </select></label>
      <button type="submit" disabled={create.isPending}>{t('networks.allocate')}</button>
      <ErrorNote error={create.error} />
    </form>
  );
}

export function Networks() {
  const s = useSession();
  const t = useT();
  const networks = useNetworks();
  const subnets = useSubnets();
  const routers = useRouters();
  const fips = useFloatingIps();
  const ports = usePorts();
  const del = useNeutronWrite(async ({ kind, id }: { kind: string; id: string }) => call('network', `/v2.0/${kind}/${id}`, { method: 'DELETE' }));
  const netName = new Map((networks.data ?? []).map((n) => [n.id, n.name]));
  const subnetsOf = (id: string) => (subnets.data ?? []).filter((x) => x.network_id === id);
  const mine = (p: string) => canWrite(s) && p === s.project.id;
  const delBtn = (kind: string, id: string, label: string) => (
    <button type="button" className="danger" onClick={() => { if (window.confirm(t('common.confirmDelete', { name: label }))) del.mutate({ kind, id }); }}>{t('action.delete')}</button>
  );
  return (
    <section>
      <h1>{t('networks.title')}</h1>
      {canWrite(s) && <div className="forms"><NetworkForm /><RouterForm /><FloatingIpForm /></div>}
      <ErrorNote error={networks.error ?? del.error} onRetry={() => void networks.refetch()} />
      <h2>{t('nav.networks')}</h2>
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('networks.subnets')}</th><th>{t('networks.shared')}</th><th>{t('networks.external')}</th><th>{t('instances.status')}</th><th></th></tr></thead>
        <tbody>{(networks.data ?? []).map((n) => (
          <tr key={n.id} data-name={n.name}><td>{n.name}</td><td>{subnetsOf(n.id).map((x) => `${x.name} ${x.cidr}`).join(', ')}</td><td>{n.shared ? '✓' : ''}</td><td>{n['router:external'] ? '✓' : ''}</td><td>{n.status}</td>
            <td>{mine(n.project_id) && delBtn('networks', n.id, n.name)}</td></tr>))}</tbody>
      </table></div>
      <h2>{t('networks.routers')}</h2>
      <div className="table-wrap"><table>
        <thead><tr><th>{t('common.name')}</th><th>{t('networks.gateway')}</th><th>{t('networks.interfaces')}</th><th>{t('instances.status')}</th><th></th></tr></thead>
        <tbody>{(routers.data ?? []).map((r) => (
          <tr key={r.id} data-name={r.name}><td>{r.name}</td>
            <td>{r.external_gateway_info ? `${netName.get(r.external_gateway_info.network_id) ?? ''} ${(r.external_gateway_info.external_fixed_ips ?? []).map((f) => f.ip_address).join(',')}` : '—'}</td>
            <td>{(ports.data ?? []).filter((p) => p.device_id === r.id && p.device_owner === 'network:router_interface').map((p) => p.fixed_ips.map((f) => f.ip_address).join(',')).join('; ')}</td>
            <td>{r.status}</td><td></td></tr>))}</tbody>
      </table></div>
      <h2>{t('networks.floatingIps')}</h2>
      <div className="table-wrap"><table>
        <thead><tr><th>{t('networks.address')}</th><th>{t('networks.fixedIp')}</th><th>{t('instances.status')}</th><th></th></tr></thead>
        <tbody>{(fips.data ?? []).map((f) => (
          <tr key={f.id}><td>{f.floating_ip_address}</td><td>{f.fixed_ip_address ?? '—'}</td><td>{f.status}</td><td>{mine(f.project_id) && delBtn('floatingips', f.id, f.floating_ip_address)}</td></tr>))}</tbody>
      </table></div>
      <h2>{t('networks.ports')}</h2>
      <div className="table-wrap"><table>
        <thead><tr><th>ID</th><th>{t('detail.network')}</th><th>IP</th><th>MAC</th><th>{t('networks.owner')}</th><th>{t('instances.status')}</th></tr></thead>
        <tbody>{(ports.data ?? []).map((p) => (
          <tr key={p.id}><td className="mono">{p.id.slice(0, 8)}</td><td>{netName.get(p.network_id) ?? ''}</td><td>{p.fixed_ips.map((f) => f.ip_address).join(', ')}</td><td className="mono">{p.mac_address}</td><td>{p.device_owner}</td><td>{p.status}</td></tr>))}</tbody>
      </table></div>
    </section>
  );
}
