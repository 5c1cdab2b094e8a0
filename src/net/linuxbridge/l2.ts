// Layer 2 on one host: a bridge per network, its uplink (host-only, a physnet's bridge or interface, VXLAN), and the
// bridge-side devices of ports (guest taps, veths into DHCP and router namespaces). Every device Gureum makes carries
// the alias `gureum:<tag>`, so a resync removes only its own leftovers, never another program's devices.
import { existsSync } from 'node:fs';
import { ip, ipBatch, ipQuiet, run, NetCommandError } from './exec.js';
import { bridgeName, tapMac, vxlanName } from './names.js';
import type { NetworkView } from './model.js';

/** Where a physical network leaves the host: an existing (or to-be-made) bridge, or an interface to enslave. */
export interface PhysnetMapping {
  bridge?: string;
  interface?: string;
}

export interface L2Options {
  /** physnet → mapping; flat networks on a mapped physnet ride its bridge, VLANs its interface. */
  physnets: Record<string, PhysnetMapping>;
  /** Unmapped flat physnets get a host-only bridge (all-in-one); false: such ports fail to bind. */
  hostOnlyPhysnets: boolean;
  /** This host's VXLAN endpoint; null: tenant networks stay on this host (no VXLAN device until there is a peer). */
  vxlanLocalIp: string | null;
  /** Ownership mark put on every device (alias `gureum:<tag>`). */
  tag: string;
  log: (msg: string) => void;
}

/** A port cannot be wired, for a reason the port's binding should show (Neutron's binding_failed). */
export class BindingError extends Error {}

/** Linux link as `ip -j -d link show` reports it (the fields we read). */
interface LinkInfo {
  ifname: string;
  ifalias?: string;
  master?: string;
  address?: string;
  mtu?: number;
  linkinfo?: { info_kind?: string };
}

export class L2 {
  /** Bridges known to exist (skips a round trip per port). */
  private readonly bridges = new Set<string>();

  constructor(private readonly o: L2Options) {}

  get alias(): string {
    return `gureum:${this.o.tag}`;
  }

  /** The bridge a network's ports plug into on this host (what ensureNetwork makes), without touching the host. */
  bridgeOf(net: NetworkView | undefined, networkId: string): string {
    const mapping = net?.physnet ? this.o.physnets[net.physnet] : undefined;
    return net?.type === 'flat' && mapping?.bridge ? mapping.bridge : bridgeName(networkId);
  }

  /** The bridge a network's ports plug into on this host, made (with its uplink) when missing. */
  async ensureNetwork(net: NetworkView): Promise<string> {
    const mapping = net.physnet ? this.o.physnets[net.physnet] : undefined;
    if (net.type === 'flat' && mapping?.bridge) {
      await this.ensureBridge(mapping.bridge, net.mtu, false);
      return mapping.bridge;
    }
    const br = bridgeName(net.id);
    if (net.type === 'flat') {
      if (mapping?.interface) {
        await this.ensureBridge(br, net.mtu, true);
        await ip(['link', 'set', mapping.interface, 'master', br, 'up']);
        return br;
      }
      if (!this.o.hostOnlyPhysnets)
        throw new BindingError(`physical network ${net.physnet ?? '(none)'} is not mapped on this host`);
      if (!this.bridges.has(br))
        this.o.log(`physical network ${net.physnet} is not mapped: network ${net.id} gets the host-only bridge ${br}`);
      await this.ensureBridge(br, net.mtu, true);
      return br;
    }
    if (net.type === 'vlan') {
      if (!mapping?.interface)
        throw new BindingError(
          `physical network ${net.physnet ?? '(none)'} has no interface mapped for VLANs on this host`,
        );
      await this.ensureBridge(br, net.mtu, true);
      const vif = `vl-${net.id.slice(0, 11)}`;
      await ipQuiet([
        'link',
        'add',
        'link',
        mapping.interface,
        'name',
        vif,
        'type',
        'vlan',
        'id',
        String(net.segmentationId),
      ]);
      await ip(['link', 'set', vif, 'alias', this.alias, 'master', br, 'mtu', String(net.mtu), 'up']);
      return br;
    }
    // vxlan and local networks: a bridge of their own; the VXLAN device joins when a peer host exists.
    await this.ensureBridge(br, net.mtu, true);
    return br;
  }

  /** Unicast VXLAN towards peer hosts (l2population style, no multicast): one flood entry per VTEP. */
  async setVxlanPeers(net: NetworkView, peers: string[]): Promise<void> {
    if (net.type !== 'vxlan' || net.segmentationId === null) return;
    const dev = vxlanName(net.id);
    if (!peers.length || !this.o.vxlanLocalIp) {
      await ipQuiet(['link', 'del', dev]);
      return;
    }
    await ipQuiet([
      'link',
      'add',
      dev,
      'type',
      'vxlan',
      'id',
      String(net.segmentationId),
      'local',
      this.o.vxlanLocalIp,
      'dstport',
      '4789',
      'nolearning',
    ]);
    await ip(['link', 'set', dev, 'alias', this.alias, 'master', bridgeName(net.id), 'mtu', String(net.mtu), 'up']);
    const have = (await run('bridge', ['fdb', 'show', 'dev', dev]))
      .split('\n')
      .filter((l) => l.startsWith('00:00:00:00:00:00'));
    for (const peer of peers) {
      if (!have.some((l) => l.includes(`dst ${peer} `)))
        await run('bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', dev, 'dst', peer]);
    }
  }

  /** Removes a network's bridge and its uplinks (never a mapped physnet bridge). */
  async removeNetwork(networkId: string): Promise<void> {
    const br = bridgeName(networkId);
    await ipQuiet(['link', 'del', vxlanName(networkId)]);
    await ipQuiet(['link', 'del', `vl-${networkId.slice(0, 11)}`]);
    await ipQuiet(['link', 'del', br]);
    this.bridges.delete(br);
  }

  /** A guest's tap on the bridge (persistent, so the guest keeps it while Gureum restarts), in one `ip -batch`. */
  async plugTap(tap: string, portMac: string, bridge: string, mtu: number, up: boolean): Promise<void> {
    const exists = await this.linkExists(tap);
    const lines: string[][] = [];
    if (!exists) lines.push(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    lines.push([
      'link',
      'set',
      'dev',
      tap,
      'address',
      tapMac(portMac),
      'mtu',
      String(mtu),
      'master',
      bridge,
      'alias',
      this.alias,
      up ? 'up' : 'down',
    ]);
    await ipBatch(lines);
  }

  /** A veth whose host end is on the bridge and whose other end is moved into a namespace with the port's MAC. */
  async plugVeth(
    hostEnd: string,
    nsEnd: string,
    netns: string,
    portMac: string,
    bridge: string,
    mtu: number,
  ): Promise<void> {
    const inNs = await this.linkExists(nsEnd, netns);
    if (!inNs) {
      await ipQuiet(['link', 'del', hostEnd]);
      await ipBatch([
        ['link', 'add', hostEnd, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', nsEnd, 'mtu', String(mtu)],
        ['link', 'set', 'dev', nsEnd, 'address', portMac, 'netns', netns],
      ]);
    }
    await ipBatch([['link', 'set', 'dev', hostEnd, 'master', bridge, 'alias', this.alias, 'mtu', String(mtu), 'up']]);
    await ip(['link', 'set', 'dev', nsEnd, 'mtu', String(mtu), 'up'], netns);
  }

  /** Removes a port's bridge-side device (a veth takes its namespace end along). */
  async unplug(dev: string): Promise<void> {
    await ipQuiet(['link', 'del', dev]);
  }

  async linkExists(dev: string, netns?: string): Promise<boolean> {
    // In this process's own namespace sysfs answers without spawning `ip` (a port's wiring is a handful of processes).
    if (!netns) return existsSync(`/sys/class/net/${dev}`);
    try {
      await ip(['link', 'show', 'dev', dev], netns);
      return true;
    } catch (e) {
      if (e instanceof NetCommandError) return false;
      throw e;
    }
  }

  /** Devices carrying this cloud's alias. */
  async ownedLinks(): Promise<LinkInfo[]> {
    const links = JSON.parse((await ip(['-j', '-d', 'link', 'show'])) || '[]') as LinkInfo[];
    return links.filter((l) => l.ifalias === this.alias);
  }

  private async ensureBridge(br: string, mtu: number, owned: boolean): Promise<void> {
    if (this.bridges.has(br)) return;
    if (!(await this.linkExists(br))) {
      await ip(['link', 'add', br, 'type', 'bridge']);
      // Forward at once (no STP learning delay) and keep the MTU the network asks for.
      await ip(['link', 'set', br, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
      if (owned) await ip(['link', 'set', br, 'alias', this.alias]);
      else this.o.log(`physnet bridge ${br} did not exist: created it (host-only)`);
    }
    await ip(['link', 'set', br, 'mtu', String(mtu), 'up']);
    this.bridges.add(br);
  }
}
