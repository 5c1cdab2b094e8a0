// The Linux data plane (Neutron's Linux bridge + DHCP + L3 agents in one): it keeps the last state of every object it
// was told about and, per event, makes the host match it. Failures to wire a port are reported on the port
// (binding_failed with a reason) instead of thrown, so the API never answers 500 for the data plane. A little over
// 400 lines: it is the one place that keeps the objects' last state; the work itself is in l2, dhcp, router, firewall.
import { hostname } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentReport, MeteringCounter, NetDriver, NetEvent, NetState, PortStatusReport } from '../driver.js';
import { run } from './exec.js';
import { L2, BindingError, type PhysnetMapping } from './l2.js';
import { Dhcp, LEASE_SECONDS, deleteNamespace, namespaceAlias, servedByDhcp } from './dhcp.js';
import { agentReports } from './agents.js';
import { applyRouter, gatewayHostEnd, gatewayMac, type RouterPlan } from './router.js';
import { readMeteringCounters } from './metering/index.js';
import { bridgeName, dhcpDeviceName, dhcpNamespace, routerDeviceName, routerNamespace, tapName } from './names.js';
import {
  floatingIpView,
  networkView,
  portView,
  prefixLen,
  routerView,
  subnetView,
  type FloatingIpView,
  type NetworkView,
  type PortView,
  type RouterView,
  type SubnetView,
} from './model.js';
import { MetadataProxies } from './metadata-proxies.js';
import { noopFirewall, sgRulesOf } from './security-groups.js';
import type { Firewall, SgPort } from './firewall/index.js';

export interface LinuxBridgeOptions {
  /** Where dnsmasq files live (DATA_DIR/net). */
  stateDir: string;
  /** This host's name as port bindings name it. */
  host?: string;
  physnets?: Record<string, PhysnetMapping>;
  hostOnlyPhysnets?: boolean;
  /** Put a host-only flat network's subnet gateway on the host (devstack's br-ex), so the host reaches floating IPs. */
  hostGateway?: boolean;
  vxlanLocalIp?: string | null;
  /** Ownership mark on devices and namespaces; unique per cloud (data dir). */
  tag: string;
  firewall?: Firewall;
  /** Metadata on tenant networks: the host agent's unix socket and the port proxies listen on in router namespaces. */
  metadata?: { socket: string; port: number } | null;
  log?: (msg: string) => void;
}

const isGuestPort = (p: PortView): boolean => p.deviceOwner.startsWith('compute:');

export class LinuxBridgeDriver implements NetDriver {
  readonly name = 'linuxbridge';
  readonly reportsPortStatus = true;
  readonly wantsDhcpPorts = true;
  private readonly networks = new Map<string, NetworkView>();
  private readonly subnets = new Map<string, SubnetView>();
  private readonly ports = new Map<string, PortView>();
  private readonly routers = new Map<string, RouterView>();
  private readonly fips = new Map<string, FloatingIpView>();
  private readonly l2: L2;
  private readonly dhcp: Dhcp;
  private readonly fw: Firewall;
  private readonly proxies: MetadataProxies | null;
  private readonly host: string;
  private readonly log: (msg: string) => void;
  private report: (r: PortStatusReport) => Promise<void> = async () => {};

  constructor(private readonly o: LinuxBridgeOptions) {
    this.log = o.log ?? (() => {});
    this.host = o.host ?? hostname();
    this.l2 = new L2({
      physnets: o.physnets ?? {},
      hostOnlyPhysnets: o.hostOnlyPhysnets ?? true,
      vxlanLocalIp: o.vxlanLocalIp ?? null,
      tag: o.tag,
      log: this.log,
    });
    this.dhcp = new Dhcp(o.stateDir, this.l2.alias, this.log);
    this.fw = o.firewall ?? noopFirewall;
    this.proxies = o.metadata
      ? new MetadataProxies(join(o.stateDir, 'metadata'), o.metadata.socket, o.metadata.port)
      : null;
  }

  onPortStatus(report: (r: PortStatusReport) => Promise<void>): void {
    this.report = report;
  }

  async apply(ev: NetEvent): Promise<void> {
    const gone = ev.action === 'deleted';
    switch (ev.kind) {
      case 'network': {
        if (gone) {
          this.networks.delete(ev.id);
          await this.removeDhcp(ev.id);
          await this.l2.removeNetwork(ev.id);
        } else {
          this.networks.set(ev.id, networkView(ev.object));
        }
        return;
      }
      case 'subnet': {
        const s = gone ? this.subnets.get(ev.id) : subnetView(ev.object);
        if (gone) this.subnets.delete(ev.id);
        else if (s) this.subnets.set(ev.id, s);
        if (s) await this.refreshNetwork(s.networkId);
        return;
      }
      case 'port':
        return this.applyPort(ev);
      case 'router': {
        if (gone) {
          this.routers.delete(ev.id);
          await this.removeRouter(ev.id);
        } else {
          const r = routerView(ev.object);
          this.routers.set(ev.id, r);
          for (const p of r.interfaces) this.ports.set(p.id, p);
          await this.applyRouter(r);
        }
        return;
      }
      case 'floatingip': {
        const before = this.fips.get(ev.id);
        if (gone) this.fips.delete(ev.id);
        else this.fips.set(ev.id, floatingIpView(ev.object));
        const after = this.fips.get(ev.id);
        for (const rid of new Set([before?.routerId, after?.routerId])) {
          const r = rid ? this.routers.get(rid) : undefined;
          if (r) await this.applyRouter(r);
        }
        return;
      }
      case 'security_group': {
        await this.fw.setGroupRules(ev.id, gone ? [] : sgRulesOf(ev.object));
        return;
      }
    }
  }

  async resync(state: NetState): Promise<void> {
    for (const m of [this.networks, this.subnets, this.ports, this.routers, this.fips]) m.clear();
    for (const o of state.networks) this.networks.set(String(o.id), networkView(o));
    for (const o of state.subnets) this.subnets.set(String(o.id), subnetView(o));
    for (const o of state.ports) this.ports.set(String(o.id), portView(o));
    for (const o of state.routers) this.routers.set(String(o.id), routerView(o));
    for (const o of state.floatingips) this.fips.set(String(o.id), floatingIpView(o));
    await mkdir(this.o.stateDir, { recursive: true, mode: 0o700 });
    await this.removeLeftovers();
    const guestPorts = [...this.ports.values()].filter((p) => isGuestPort(p) && p.hostId === this.host);
    // Rules first, then taps: a tap never carries traffic before its filter is in place.
    await this.fw.sync(
      guestPorts.map((p) => this.sgPort(p)),
      state.security_groups.flatMap(sgRulesOf),
    );
    for (const p of guestPorts) await this.wireGuest(p);
    for (const id of this.networks.keys()) await this.refreshNetwork(id);
    for (const r of this.routers.values()) await this.applyRouter(r);
  }

  async close(): Promise<void> {}

  /** Neutron's four agents on this host, with what each runs now (see agents.ts). */
  agentReports(): Promise<AgentReport[]> {
    const proxies = this.proxies;
    return agentReports({
      host: this.host,
      physnets: this.o.physnets ?? {},
      hostOnlyPhysnets: this.o.hostOnlyPhysnets ?? true,
      vxlanLocalIp: this.o.vxlanLocalIp ?? null,
      leaseSeconds: LEASE_SECONDS,
      networks: this.networks,
      subnets: this.subnets,
      ports: this.ports,
      routers: this.routers,
      fips: this.fips,
      dnsmasqPid: (id) => this.dhcp.runningPid(id),
      proxyPid: proxies ? (ns) => proxies.pid(ns) : null,
      metadataSocket: this.o.metadata?.socket ?? null,
    });
  }

  // --- ports

  private async applyPort(ev: NetEvent): Promise<void> {
    const before = this.ports.get(ev.id);
    if (ev.action === 'deleted') {
      this.ports.delete(ev.id);
      const last = before ?? portView(ev.object);
      if (isGuestPort(last) || (!last.deviceOwner && before)) {
        await this.fw.removePort(ev.id);
        await this.l2.unplug(tapName(ev.id));
      }
      if (last.networkId) await this.refreshNetwork(last.networkId);
      return;
    }
    const p = portView(ev.object);
    this.ports.set(p.id, p);
    if (isGuestPort(p) && p.hostId === this.host) {
      await this.wireGuest(p);
    } else if (before && isGuestPort(before) && before.hostId === this.host) {
      // Unbound, moved away, or no longer a guest's: the tap goes.
      await this.fw.removePort(p.id);
      await this.l2.unplug(tapName(p.id));
    }
    await this.refreshNetwork(p.networkId);
  }

  /** Wires a guest's port: bridge, tap with the port's MAC, firewall; then reports ACTIVE (or why not). */
  private async wireGuest(p: PortView): Promise<void> {
    const net = this.networks.get(p.networkId);
    const tap = tapName(p.id);
    try {
      if (!net) throw new BindingError(`network ${p.networkId} is unknown to the data plane`);
      const br = await this.l2.ensureNetwork(net);
      // Rules first (they name the tap, which need not exist yet): a new tap never carries a frame unfiltered.
      await this.fw.upsertPort(this.sgPort(p));
      await this.l2.plugTap(tap, p.mac, br, net.mtu, p.adminUp);
      await this.report({
        portId: p.id,
        status: p.adminUp ? 'ACTIVE' : 'DOWN',
        vifType: 'bridge',
        vifDetails: { port_filter: true, connectivity: 'l2', bridge_name: br },
      });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.log(`port ${p.id}: binding failed: ${reason}`);
      await this.l2.unplug(tap).catch(() => {});
      await this.fw.removePort(p.id).catch(() => {});
      await this.report({ portId: p.id, status: 'DOWN', vifType: 'binding_failed', vifDetails: { reason } });
    }
  }

  private sgPort(p: PortView): SgPort {
    return {
      id: p.id,
      tap: tapName(p.id),
      bridge: this.l2.bridgeOf(this.networks.get(p.networkId), p.networkId),
      mac: p.mac,
      fixedIps: p.fixedIps.map((f) => f.ip),
      allowedAddressPairs: p.allowedAddressPairs,
      securityGroups: p.securityGroups,
      portSecurity: p.portSecurity,
      deviceOwner: p.deviceOwner,
    };
  }

  // --- networks: host gateway, DHCP

  /** Brings a network's host-side parts (host gateway address, DHCP) in line with its subnets and ports. */
  private async refreshNetwork(networkId: string): Promise<void> {
    const net = this.networks.get(networkId);
    if (!net) return;
    const subnets = [...this.subnets.values()].filter((s) => s.networkId === networkId);
    await this.refreshHostGateway(net, subnets);
    const dhcpPort = [...this.ports.values()].find(
      (p) => p.networkId === networkId && p.deviceOwner === 'network:dhcp',
    );
    const dhcpSubnets = subnets.filter(servedByDhcp);
    if (!dhcpPort || dhcpSubnets.length === 0) {
      if (await this.dhcp.runningPid(networkId)) await this.removeDhcp(networkId);
      return;
    }
    const routed = [...this.ports.values()].some(
      (p) => p.networkId === networkId && p.deviceOwner.startsWith('network:router_interface'),
    );
    const hosts = [...this.ports.values()].filter((p) => p.networkId === networkId && p.fixedIps.length > 0);
    try {
      const br = await this.l2.ensureNetwork(net);
      const proxies = this.proxies;
      await this.dhcp.apply(
        { networkId, port: dhcpPort, subnets: dhcpSubnets, hosts, metadataViaDhcp: !routed && !!proxies, mtu: net.mtu },
        (ns) => this.l2.plugVeth(tapName(dhcpPort.id), dhcpDeviceName(dhcpPort.id), ns, dhcpPort.mac, br, net.mtu),
        proxies ? (ns, on) => (on ? proxies.ensure(ns, { networkId }) : proxies.stop(ns)) : undefined,
      );
      await this.report({
        portId: dhcpPort.id,
        status: 'ACTIVE',
        vifType: 'bridge',
        vifDetails: { connectivity: 'l2', bridge_name: br },
      });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.log(`DHCP for network ${networkId} failed: ${reason}`);
      await this.report({ portId: dhcpPort.id, status: 'DOWN', vifType: 'binding_failed', vifDetails: { reason } });
    }
  }

  /** A host-only flat network holds its subnets' gateways on the host bridge (like devstack's br-ex). */
  private async refreshHostGateway(net: NetworkView, subnets: SubnetView[]): Promise<void> {
    if (!this.o.hostGateway || net.type !== 'flat' || (net.physnet && this.o.physnets?.[net.physnet])) return;
    const want = subnets
      .filter((s) => s.gatewayIp && s.ipVersion === 4)
      .map((s) => `${s.gatewayIp}/${prefixLen(s.cidr)}`);
    if (!want.length) return;
    const br = await this.l2.ensureNetwork(net);
    for (const a of want) await run('ip', ['addr', 'replace', a, 'dev', br]);
  }

  // --- routers

  /** Every metering label's counter in every router namespace on this host. */
  async readMeteringCounters(): Promise<MeteringCounter[]> {
    const out: MeteringCounter[] = [];
    for (const r of this.routers.values()) {
      if (r.metering.length === 0) continue;
      for (const c of await readMeteringCounters(routerNamespace(r.id))) out.push({ ...c, routerId: r.id });
    }
    return out;
  }

  private async applyRouter(r: RouterView): Promise<void> {
    const plan: RouterPlan = {
      router: r,
      subnets: this.subnets,
      floatingIps: [...this.fips.values()].filter((f) => f.routerId === r.id),
      metadataPort: this.proxies?.port ?? null,
    };
    try {
      await applyRouter(
        plan,
        this.l2.alias,
        async (ns) => {
          for (const p of r.interfaces) {
            const net = this.networks.get(p.networkId);
            if (!net) continue;
            const br = await this.l2.ensureNetwork(net);
            await this.l2.plugVeth(tapName(p.id), routerDeviceName(p.id, false), ns, p.mac, br, net.mtu);
          }
          const ext = r.gateway ? this.networks.get(r.gateway.networkId) : undefined;
          if (ext) {
            const br = await this.l2.ensureNetwork(ext);
            await this.l2.plugVeth(
              gatewayHostEnd(r.id),
              routerDeviceName(r.id, true),
              ns,
              gatewayMac(r.id),
              br,
              ext.mtu,
            );
          } else {
            await this.l2.unplug(gatewayHostEnd(r.id));
          }
        },
        this.log,
      );
      if (this.proxies) await this.proxies.ensure(routerNamespace(r.id), { routerId: r.id });
      for (const p of r.interfaces)
        await this.report({ portId: p.id, status: 'ACTIVE', vifType: 'bridge', vifDetails: { connectivity: 'l2' } });
    } catch (e) {
      this.log(`router ${r.id} failed: ${e instanceof Error ? e.message : String(e)}`);
      for (const p of r.interfaces)
        await this.report({
          portId: p.id,
          status: 'DOWN',
          vifType: 'binding_failed',
          vifDetails: { reason: String(e) },
        });
    }
  }

  private async removeDhcp(networkId: string): Promise<void> {
    await this.proxies?.stop(dhcpNamespace(networkId));
    await this.dhcp.remove(networkId);
  }

  private async removeRouter(id: string): Promise<void> {
    await this.proxies?.stop(routerNamespace(id));
    await this.l2.unplug(gatewayHostEnd(id));
    await deleteNamespace(routerNamespace(id));
  }

  // --- resync housekeeping

  /** Removes this cloud's devices and namespaces that belong to objects that no longer exist. */
  private async removeLeftovers(): Promise<void> {
    const wantedNs = new Set<string>([
      ...[...this.routers.keys()].map(routerNamespace),
      ...[...this.networks.keys()].map(dhcpNamespace),
    ]);
    const namespaces = (await run('ip', ['netns', 'list']))
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => /^q(router|dhcp)-/.test(n));
    for (const ns of namespaces) {
      if (wantedNs.has(ns) || (await namespaceAlias(ns)) !== this.l2.alias) continue;
      if (ns.startsWith('qdhcp-')) await this.removeDhcp(ns.slice('qdhcp-'.length));
      else await this.removeRouter(ns.slice('qrouter-'.length));
      this.log(`removed leftover namespace ${ns}`);
    }
    const wantedDev = new Set<string>();
    for (const n of this.networks.keys()) {
      wantedDev.add(bridgeName(n));
      wantedDev.add(`vx-${n.slice(0, 11)}`);
      wantedDev.add(`vl-${n.slice(0, 11)}`);
    }
    for (const p of this.ports.values()) wantedDev.add(tapName(p.id));
    for (const r of this.routers.values()) if (r.gateway) wantedDev.add(gatewayHostEnd(r.id));
    for (const l of await this.l2.ownedLinks()) {
      if (wantedDev.has(l.ifname)) continue;
      await run('ip', ['link', 'del', l.ifname]).catch(() => {});
      this.log(`removed leftover device ${l.ifname}`);
    }
  }

  /** Removes everything this cloud made on the host (tests, `gureum down --purge`). */
  async destroyAll(): Promise<void> {
    for (const id of this.routers.keys()) await this.removeRouter(id);
    for (const id of this.networks.keys()) await this.removeDhcp(id);
    this.routers.clear();
    this.networks.clear();
    this.ports.clear();
    this.subnets.clear();
    this.fips.clear();
    await this.removeLeftovers();
    await this.fw.destroy();
  }
}

/** The data dir's subfolder for the Linux data plane's files. */
export const netStateDir = (dataDir: string): string => join(dataDir, 'net');
