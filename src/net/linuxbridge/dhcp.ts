// DHCP per network: a dnsmasq in the network's own namespace (`qdhcp-<network>`) on the network:dhcp port, with static
// entries only (MAC → fixed IP and host name), the subnet's DNS servers and host routes as option 121. Port changes
// rewrite the host and option files and send SIGHUP, which re-reads them without dropping leases.
//
// IPv6: subnets with an ipv6_address_mode or ipv6_ra_mode are served by the same dnsmasq with --enable-ra: it sends
// router advertisements for their prefixes (slaac: `ra-only`, addresses by SLAAC; dhcpv6-stateless: `ra-stateless`,
// SLAAC plus DHCPv6 for DNS; dhcpv6-stateful: the M flag and static DHCPv6 leases from the hosts file). Why here and
// not in the router namespace: this dnsmasq already runs per network, holds an address in every served subnet and
// answers DHCPv6, so one process covers the three modes, also on networks without a router. It advertises with
// router lifetime 0 (ra-param): it is not the network's router, so guests take addresses, not a default route, from
// it; a router's own IPv6 default route is not advertised yet.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ip, run } from './exec.js';
import { dhcpDeviceName, dhcpNamespace } from './names.js';
import { prefixLen, type PortView, type SubnetView } from './model.js';

/** The subnets this network's dnsmasq serves: IPv4 with DHCP, IPv6 with DHCP and an address or RA mode. */
export const servedByDhcp = (s: SubnetView): boolean =>
  s.enableDhcp && (s.ipVersion === 4 || s.ipv6AddressMode !== null || s.ipv6RaMode !== null);

/** dnsmasq's IPv6 dhcp-range mode for a subnet's address mode (the RA mode stands in when only it is set). */
export function v6RangeMode(s: SubnetView): 'ra-only' | 'ra-stateless' | 'static' {
  const mode = s.ipv6AddressMode ?? s.ipv6RaMode;
  if (mode === 'dhcpv6-stateful') return 'static';
  if (mode === 'dhcpv6-stateless') return 'ra-stateless';
  return 'ra-only';
}

export interface DhcpNetwork {
  networkId: string;
  /** The network:dhcp port (its MAC and fixed IPs); null: no DHCP here. */
  port: PortView;
  /** The subnets served (servedByDhcp): IPv4 with DHCP, IPv6 with a mode. */
  subnets: SubnetView[];
  /** Every port of the network with fixed IPs (guests, routers): the static entries. */
  hosts: PortView[];
  /** Subnets whose network has no router interface get the metadata route via the DHCP port. */
  metadataViaDhcp: boolean;
  mtu: number;
}

/** dnsmasq's lease time (Neutron's default: a day). */
export const LEASE_SECONDS = 86400;
const LEASE = `${LEASE_SECONDS}s`;

/** Netmask of a prefix length (dnsmasq wants it in dhcp-range). */
function netmask(len: number): string {
  const n = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

const hostLabel = (p: PortView, ipAddr: string): string => p.dnsName || `host-${ipAddr.replace(/[.:]/g, '-')}`;

/** The dhcp-hostsfile: one static entry per MAC and IPv4 address. */
export function hostsFile(d: DhcpNetwork): string {
  const subnetIds = new Set(d.subnets.map((s) => s.id));
  const stateful = new Set(d.subnets.filter((s) => s.ipVersion === 6 && v6RangeMode(s) === 'static').map((s) => s.id));
  const lines: string[] = [];
  for (const p of d.hosts) {
    for (const f of p.fixedIps) {
      if (!subnetIds.has(f.subnetId)) continue;
      if (!f.ip.includes(':')) lines.push(`${p.mac},${hostLabel(p, f.ip)},${f.ip}`);
      // Only stateful DHCPv6 leases addresses; SLAAC hosts make their own.
      else if (stateful.has(f.subnetId)) lines.push(`${p.mac},${hostLabel(p, f.ip)},[${f.ip}]`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The dhcp-optsfile: per subnet tag, router, DNS, MTU and classless static routes (121, which clients prefer to 3). */
export function optsFile(d: DhcpNetwork): string {
  const lines: string[] = [];
  for (const s of d.subnets) {
    const tag = `tag:subnet-${s.id.slice(0, 8)}`;
    const dhcpIp = d.port.fixedIps.find((f) => f.subnetId === s.id)?.ip;
    if (s.ipVersion === 6) {
      if (s.dnsNameservers.length)
        lines.push(`${tag},option6:dns-server,${s.dnsNameservers.map((a) => `[${a}]`).join(',')}`);
      continue;
    }
    if (s.dnsNameservers.length) lines.push(`${tag},option:dns-server,${s.dnsNameservers.join(',')}`);
    lines.push(`${tag},option:mtu,${d.mtu}`);
    const routes: string[] = [];
    for (const r of s.hostRoutes) routes.push(`${r.destination},${r.nexthop}`);
    if (d.metadataViaDhcp && dhcpIp) routes.push(`169.254.169.254/32,${dhcpIp}`);
    if (s.gatewayIp) {
      lines.push(`${tag},option:router,${s.gatewayIp}`);
      routes.push(`0.0.0.0/0,${s.gatewayIp}`);
    } else {
      lines.push(`${tag},option:router`);
    }
    if (routes.length) lines.push(`${tag},option:classless-static-route,${routes.join(',')}`);
  }
  return lines.join('\n') + '\n';
}

export class Dhcp {
  /** Per network, the namespace setup this process last applied in full (see apply). */
  private readonly setups = new Map<string, string>();

  constructor(
    private readonly stateDir: string,
    private readonly alias: string,
    private readonly log: (m: string) => void,
  ) {}

  private dir(networkId: string): string {
    return join(this.stateDir, 'dhcp', networkId);
  }

  /** Makes the namespace, addresses the DHCP port and (re)starts or reloads dnsmasq. */
  async apply(
    d: DhcpNetwork,
    plugPort: (netns: string) => Promise<void>,
    metadata?: (netns: string, on: boolean) => Promise<void>,
  ): Promise<void> {
    const ns = dhcpNamespace(d.networkId);
    const dev = dhcpDeviceName(d.port.id);
    const want = d.port.fixedIps.flatMap((f) => {
      const s = d.subnets.find((x) => x.id === f.subnetId);
      return s ? [`${f.ip}/${prefixLen(s.cidr)}`] : [];
    });
    // On a network without a router the DHCP namespace answers 169.254.169.254 itself (option 121 routes it here).
    const addresses = d.metadataViaDhcp && metadata ? [...want, '169.254.169.254/32'] : want;
    // The namespace, its port and addresses change rarely; guest ports come and go all the time and only need the
    // hosts file and a SIGHUP. So the setup is redone only when what it depends on changed (or its namespace or
    // dnsmasq is gone): a port's wiring then costs no `ip` processes here.
    const setup = JSON.stringify([d.port.id, d.port.mac, addresses, d.mtu]);
    if (
      this.setups.get(d.networkId) !== setup ||
      !existsSync(`/run/netns/${ns}`) ||
      !(await this.runningPid(d.networkId))
    ) {
      this.setups.delete(d.networkId);
      await ensureNamespace(ns, this.alias);
      await plugPort(ns);
      await syncAddresses(ns, dev, addresses);
    }
    if (metadata) await metadata(ns, d.metadataViaDhcp);
    const dir = this.dir(d.networkId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const ranges = d.subnets.map((s) => {
      const [base, len] = [s.cidr.split('/')[0], prefixLen(s.cidr)];
      const tag = `set:subnet-${s.id.slice(0, 8)}`;
      if (s.ipVersion === 4) return `--dhcp-range=${tag},${base},static,${netmask(len)},${LEASE}`;
      return `--dhcp-range=${tag},${base},${v6RangeMode(s)},${len},${LEASE}`;
    });
    // Router advertisements for the IPv6 subnets, every 30 s and on solicitation, as a non-router (lifetime 0).
    const ra = d.subnets.some((s) => s.ipVersion === 6) ? ['--enable-ra', `--ra-param=${dev},30,0`] : [];
    const args = [
      '--conf-file=/dev/null',
      '--no-hosts',
      '--no-resolv',
      '--port=0',
      '--bind-interfaces',
      `--interface=${dev}`,
      '--except-interface=lo',
      `--pid-file=${join(dir, 'pid')}`,
      `--dhcp-hostsfile=${join(dir, 'host')}`,
      `--dhcp-optsfile=${join(dir, 'opts')}`,
      '--leasefile-ro',
      '--dhcp-authoritative',
      '--domain=openstacklocal',
      '--user=root',
      '--group=root',
      ...ra,
      ...ranges,
    ];
    await writeFile(join(dir, 'host'), hostsFile(d), { mode: 0o600 });
    await writeFile(join(dir, 'opts'), optsFile(d), { mode: 0o600 });
    const argsFile = join(dir, 'args');
    const before = await readFile(argsFile, 'utf8').catch(() => '');
    const pid = await this.runningPid(d.networkId);
    if (pid && before === args.join('\n')) {
      process.kill(pid, 'SIGHUP');
      this.setups.set(d.networkId, setup);
      return;
    }
    if (pid) await this.kill(pid);
    await writeFile(argsFile, args.join('\n'), { mode: 0o600 });
    await startDnsmasq(ns, args);
    this.setups.set(d.networkId, setup);
    this.log(`dnsmasq for network ${d.networkId} started in ${ns}`);
  }

  /** Stops dnsmasq and removes the namespace and files of a network. */
  async remove(networkId: string): Promise<void> {
    this.setups.delete(networkId);
    const pid = await this.runningPid(networkId);
    if (pid) await this.kill(pid);
    await deleteNamespace(dhcpNamespace(networkId));
    await rm(this.dir(networkId), { recursive: true, force: true });
  }

  /** The pid of the network's dnsmasq when it is alive and really dnsmasq. */
  async runningPid(networkId: string): Promise<number | null> {
    const pid = Number((await readFile(join(this.dir(networkId), 'pid'), 'utf8').catch(() => '')).trim());
    if (!pid) return null;
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    return comm.trim() === 'dnsmasq' ? pid : null;
  }

  private async kill(pid: number): Promise<void> {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 50; i++) {
      if (!(await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => ''))) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** dnsmasq daemonizes itself once its sockets are bound; a bad option makes it exit non-zero with the reason. */
async function startDnsmasq(ns: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'dnsmasq', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`dnsmasq failed to start: ${err.trim() || `exit ${code}`}`)),
    );
  });
}

/** A namespace with lo up and this cloud's mark on lo (how a resync recognizes its own namespaces). */
export async function ensureNamespace(ns: string, alias: string): Promise<void> {
  const list = await run('ip', ['netns', 'list']);
  if (!list.split('\n').some((l) => l.split(' ')[0] === ns)) await run('ip', ['netns', 'add', ns]);
  await ip(['link', 'set', 'lo', 'alias', alias, 'up'], ns);
}

export async function deleteNamespace(ns: string): Promise<void> {
  await run('ip', ['netns', 'del', ns]).catch(() => {});
}

/** The mark on a namespace's lo, or '' (not ours, or gone). */
export async function namespaceAlias(ns: string): Promise<string> {
  try {
    const links = JSON.parse(await ip(['-j', 'link', 'show', 'lo'], ns)) as { ifalias?: string }[];
    return links[0]?.ifalias ?? '';
  } catch {
    return '';
  }
}

/** Sets exactly these IPv4/IPv6 global addresses on a device in a namespace. */
export async function syncAddresses(ns: string, dev: string, want: string[]): Promise<void> {
  const info = JSON.parse(await ip(['-j', 'addr', 'show', 'dev', dev], ns)) as {
    addr_info?: { local: string; prefixlen: number; scope: string }[];
  }[];
  const have = (info[0]?.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);
  for (const a of have) if (!want.includes(a)) await ip(['addr', 'del', a, 'dev', dev], ns);
  for (const a of want) if (!have.includes(a)) await ip(['addr', 'add', a, 'dev', dev], ns);
}
