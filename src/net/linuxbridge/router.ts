// A router on this host: namespace `qrouter-<id>` with a `qr-` leg per attached subnet (holding the gateway IP), a
// `qg-` leg on the external network (its external IP and the floating IPs as /32), the default route via the external
// subnet's gateway, static routes, and NAT in one nftables table inside the namespace: SNAT of internal subnets when
// enable_snat, floating IPs as 1:1 DNAT/SNAT, port forwardings as DNAT by port. The table is replaced in one `nft -f`
// batch, so a disassociation cuts the path at once and nothing is ever half-applied.
import { spawn } from 'node:child_process';
import { inNetns, ip, ipQuiet, nftBatch } from './exec.js';
import { routerDeviceName, routerNamespace } from './names.js';
import { ensureNamespace, syncAddresses } from './dhcp.js';
import { prefixLen, type FloatingIpView, type RouterView, type SubnetView } from './model.js';
import { applyMetering } from './metering/index.js';

/** Everything a router's namespace is built from. */
export interface RouterPlan {
  router: RouterView;
  subnets: Map<string, SubnetView>;
  floatingIps: FloatingIpView[];
  /** Port of the metadata proxy inside the namespace; null: no metadata redirect. */
  metadataPort: number | null;
}

/** The host end of a router's gateway veth (on the external bridge). */
export const gatewayHostEnd = (routerId: string): string => `gw-${routerId.slice(0, 11)}`;

/** A stable locally administered MAC for a router's gateway leg, from its id. */
export function gatewayMac(routerId: string): string {
  const h = routerId.replace(/-/g, '');
  return `fa:16:3e:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

/** The NAT table of a router, as one nft batch that replaces the previous one atomically. */
export function natRuleset(p: RouterPlan): string {
  const r = p.router;
  const qg = routerDeviceName(r.id, true);
  const pre: string[] = [];
  const post: string[] = [];
  if (p.metadataPort) pre.push(`iifname "qr-*" ip daddr 169.254.169.254 tcp dport 80 redirect to :${p.metadataPort}`);
  for (const f of p.floatingIps) {
    for (const pf of f.forwardings) {
      pre.push(
        `ip daddr ${f.address} ${pf.protocol} dport ${pf.externalPort} dnat to ${pf.internalIp}:${pf.internalPort}`,
      );
    }
    if (f.fixedIp) {
      pre.push(`ip daddr ${f.address} dnat to ${f.fixedIp}`);
      post.push(`oifname "${qg}" ip saddr ${f.fixedIp} snat to ${f.address}`);
    }
  }
  const gwIp = r.gateway?.ips.find((i) => !i.ip.includes(':'))?.ip;
  if (r.gateway?.enableSnat && gwIp) {
    const internal = r.interfaces
      .flatMap((i) => i.fixedIps)
      .map((f) => p.subnets.get(f.subnetId))
      .filter((s): s is SubnetView => !!s && s.ipVersion === 4);
    for (const s of internal) post.push(`oifname "${qg}" ip saddr ${s.cidr} snat to ${gwIp}`);
  }
  return [
    'add table ip gureum_router',
    'delete table ip gureum_router',
    'table ip gureum_router {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...pre.map((l) => `    ${l}`),
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...p.floatingIps.filter((f) => f.fixedIp).map((f) => `    ip daddr ${f.address} dnat to ${f.fixedIp}`),
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...post.map((l) => `    ${l}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Builds or updates a router's namespace; `plug` wires one leg (veth host end on its network's bridge). */
export async function applyRouter(
  p: RouterPlan,
  alias: string,
  plug: (netns: string) => Promise<void>,
  log: (m: string) => void,
): Promise<void> {
  const r = p.router;
  const ns = routerNamespace(r.id);
  await ensureNamespace(ns, alias);
  await inNetns(ns, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  await plug(ns);
  const wanted = new Set<string>();
  for (const port of r.interfaces) {
    const dev = routerDeviceName(port.id, false);
    wanted.add(dev);
    await syncAddresses(
      ns,
      dev,
      port.fixedIps.flatMap((f) => {
        const s = p.subnets.get(f.subnetId);
        return s ? [`${f.ip}/${prefixLen(s.cidr)}`] : [];
      }),
    );
  }
  const qg = routerDeviceName(r.id, true);
  const fresh: string[] = [];
  if (r.gateway) {
    wanted.add(qg);
    const addrs = r.gateway.ips.flatMap((f) => {
      const s = p.subnets.get(f.subnetId);
      return s ? [`${f.ip}/${prefixLen(s.cidr)}`] : [];
    });
    const fips = p.floatingIps.map((f) => `${f.address}/32`);
    await syncAddresses(ns, qg, [...addrs, ...fips]);
    fresh.push(...[...addrs, ...fips].map((a) => a.split('/')[0]!));
    const extGw = r.gateway.ips.map((f) => p.subnets.get(f.subnetId)?.gatewayIp).find((g) => g && !g.includes(':'));
    if (extGw) await ip(['route', 'replace', 'default', 'via', extGw, 'dev', qg], ns);
  }
  // Legs that are no longer wanted (an interface removed, the gateway cleared) go with their host ends.
  const links = JSON.parse(await ip(['-j', 'link', 'show'], ns)) as { ifname: string }[];
  for (const l of links)
    if (/^q[rg]-/.test(l.ifname) && !wanted.has(l.ifname)) await ipQuiet(['link', 'del', l.ifname], ns);
  for (const route of r.routes) await ipQuiet(['route', 'replace', route.destination, 'via', route.nexthop], ns);
  await nftBatch(natRuleset(p), ns);
  await applyMetering(ns, qg, r.metering);
  // Gratuitous ARP so neighbours learn new (floating) addresses at once; best effort, not awaited.
  for (const a of fresh) announce(ns, qg, a, log);
}

function announce(ns: string, dev: string, addr: string, log: (m: string) => void): void {
  const child = spawn('ip', ['netns', 'exec', ns, 'arping', '-U', '-c', '1', '-I', dev, addr], { stdio: 'ignore' });
  child.on('error', (e) => log(`arping ${addr} in ${ns}: ${e.message}`));
}
