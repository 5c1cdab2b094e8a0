// The project's network topology drawn in SVG as Horizon does: networks as vertical bars, routers and instances as
// boxes, one line per connection (port, or a router's external gateway), floating IPs on their instance.
import { Link } from 'wouter';
import { useFloatingIps, useNetworks, usePorts, useRouters, useServers, useSubnets } from '../api/queries';
import { ErrorNote } from '../ui/ErrorNote';
import { useT } from '../i18n';

const BAR_GAP = 110;
const ROW = 64;
const BOX_W = 200;
const BOX_H = 44;

interface Device { id: string; kind: 'router' | 'server'; name: string; status: string; nets: { id: string; ip: string }[]; fips: string[] }

export function Topology() {
  const t = useT();
  const networks = useNetworks();
  const subnets = useSubnets();
  const routers = useRouters();
  const servers = useServers();
  const ports = usePorts();
  const fips = useFloatingIps();
  const error = networks.error ?? routers.error ?? servers.error ?? ports.error;
  const nets = [...(networks.data ?? [])].sort((a, b) => Number(b['router:external']) - Number(a['router:external']) || a.name.localeCompare(b.name));
  const col = new Map(nets.map((n, i) => [n.id, i]));
  const portList = ports.data ?? [];
  const fipsByPort = new Map<string, string[]>();
  for (const f of fips.data ?? []) if (f.port_id) fipsByPort.set(f.port_id, [...(fipsByPort.get(f.port_id) ?? []), f.floating_ip_address]);
  const devices: Device[] = [
    ...(routers.data ?? []).map((r): Device => ({
      id: r.id, kind: 'router', name: r.name || r.id.slice(0, 8), status: r.status, fips: [],
      nets: [
        ...(r.external_gateway_info ? [{ id: r.external_gateway_info.network_id, ip: (r.external_gateway_info.external_fixed_ips ?? []).map((f) => f.ip_address).join(',') }] : []),
        ...portList.filter((p) => p.device_id === r.id && p.device_owner !== 'network:router_gateway').map((p) => ({ id: p.network_id, ip: p.fixed_ips.map((f) => f.ip_address).join(',') })),
      ],
    })),
    ...(servers.data ?? []).map((v): Device => {
      const own = portList.filter((p) => p.device_id === v.id);
      return {
        id: v.id, kind: 'server', name: v.name, status: v.status,
        nets: own.map((p) => ({ id: p.network_id, ip: p.fixed_ips.map((f) => f.ip_address).join(',') })),
        fips: own.flatMap((p) => fipsByPort.get(p.id) ?? []),
      };
    }),
  ];
  const boxX = 30 + nets.length * BAR_GAP + 20;
  const width = boxX + BOX_W + 20;
  // Network names run down their bar below the last device row, where no connection line crosses them.
  const labelY = 60 + devices.length * ROW + 4;
  const height = labelY + 190;
  const cidrs = (id: string) => (subnets.data ?? []).filter((x) => x.network_id === id).map((x) => x.cidr).join(' ');
  return (
    <section>
      <h1>{t('topology.title')}</h1>
      <ErrorNote error={error} />
      <div className="topology-wrap">
        <svg className="topology" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={t('topology.title')}>
          {nets.map((n, i) => {
            const x = 30 + i * BAR_GAP;
            return (
              <g key={n.id} className={`net${n['router:external'] ? ' external' : ''}`} data-network={n.name}>
                <rect x={x} y={10} width={22} height={height - 20} rx={6} />
                <text x={x + 11} y={labelY} transform={`rotate(90 ${x + 11} ${labelY})`} className="net-label">{n.name} {cidrs(n.id)}</text>
              </g>
            );
          })}
          {devices.map((d, j) => {
            const y = 60 + j * ROW;
            return (
              <g key={d.id} className={`device ${d.kind}`} data-device={d.name}>
                {d.nets.filter((c) => col.has(c.id)).map((c) => {
                  const x = 30 + col.get(c.id)! * BAR_GAP + 11;
                  return (
                    <g key={c.id + c.ip}>
                      <line x1={x} y1={y + BOX_H / 2} x2={boxX} y2={y + BOX_H / 2} />
                      <circle cx={x} cy={y + BOX_H / 2} r={4} />
                      <text x={x + 14} y={y + BOX_H / 2 - 4} className="ip">{c.ip}</text>
                    </g>
                  );
                })}
                <rect x={boxX} y={y} width={BOX_W} height={BOX_H} rx={6} className="box" />
                <text x={boxX + 10} y={y + 18} className="dev-name">{d.kind === 'router' ? '⇄ ' : '▣ '}{d.name}</text>
                <text x={boxX + 10} y={y + 35} className="dev-sub">{d.status}{d.fips.length ? ` · FIP ${d.fips.join(', ')}` : ''}</text>
              </g>
            );
          })}
        </svg>
      </div>
      <ul className="legend">
        {devices.filter((d) => d.kind === 'server').map((d) => <li key={d.id}><Link href={`/instances/${d.id}`}>{d.name}</Link></li>)}
      </ul>
    </section>
  );
}
