// Which data plane this host runs, and why: `linuxbridge` (taps on Linux bridges, root only) or `user` (QEMU user
// networking, unprivileged). `auto` picks linuxbridge when this process runs real QEMU guests as root and the
// kernel and tools it needs are here (bridge, network namespaces, tun/tap, nftables, dnsmasq); else user.
import { accessSync, constants, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Where Debian puts the tools (a non-root PATH may lack the sbin folders). */
export const TOOL_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export type DataPlaneSetting = 'auto' | 'linuxbridge' | 'user';

export interface DataPlaneChoice {
  plane: 'linuxbridge' | 'user';
  reason: string;
}

/** What chooseDataPlane looks at on the host (injected by tests). */
export interface DataPlaneHost {
  isRoot: boolean;
  /** The hypervisor this process drives: only real QEMU guests have NICs to plug into bridges. */
  hypervisor?: 'qemu' | 'fake' | 'none';
  dirs?: string[];
  /** Kernel features that are missing (default: probed on this host). */
  kernelMissing?: () => string[];
}

function toolPath(bin: string, dirs: string[]): string | null {
  for (const d of dirs) {
    try {
      accessSync(join(d, bin), constants.X_OK);
      return join(d, bin);
    } catch {
      /* next */
    }
  }
  return null;
}

/**
 * Kernel features the bridged plane uses, as this host shows them: bridges, network namespaces, tun/tap and
 * nf_tables (asked of the kernel by listing tables: a kernel without nf_tables refuses). veth has no cheap probe
 * and is built wherever bridges and namespaces are (it is in every Debian kernel).
 */
export function probeKernelFeatures(dirs: string[] = TOOL_DIRS): string[] {
  const missing: string[] = [];
  if (!existsSync('/proc/sys/net/bridge') && !existsSync('/sys/module/bridge')) missing.push('bridge (kernel)');
  if (!existsSync('/proc/self/ns/net')) missing.push('network namespaces (kernel)');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  const nft = toolPath('nft', dirs);
  if (nft && spawnSync(nft, ['list', 'tables'], { stdio: 'ignore', timeout: 5000 }).status !== 0)
    missing.push('nf_tables (kernel)');
  return missing;
}

/** What is missing on this host for the Linux bridge data plane (empty: nothing). */
export function linuxBridgeMissing(
  isRoot: boolean,
  dirs: string[] = TOOL_DIRS,
  kernelMissing: () => string[] = () => probeKernelFeatures(dirs),
): string[] {
  const missing: string[] = [];
  if (!isRoot) missing.push('root');
  for (const bin of ['ip', 'bridge', 'nft', 'dnsmasq']) if (!toolPath(bin, dirs)) missing.push(bin);
  // The kernel is only asked as root (listing nft tables needs it) and once the tools exist.
  if (missing.length === 0) missing.push(...kernelMissing());
  return missing;
}

/** Resolves the setting against this host. An explicit `linuxbridge` that cannot run is an error, not a fallback. */
export function chooseDataPlane(setting: DataPlaneSetting, host: DataPlaneHost): DataPlaneChoice {
  if (setting === 'user') return { plane: 'user', reason: 'configured (network.dataPlane=user)' };
  const missing = () => linuxBridgeMissing(host.isRoot, host.dirs, host.kernelMissing);
  if (setting === 'linuxbridge') {
    const m = missing();
    if (m.length) throw new Error(`network.dataPlane=linuxbridge needs ${m.join(', ')} on this host`);
    return { plane: 'linuxbridge', reason: 'configured (network.dataPlane=linuxbridge)' };
  }
  if (host.hypervisor !== 'qemu') {
    return {
      plane: 'user',
      reason: `auto: no QEMU guests here (hypervisor ${host.hypervisor ?? 'none'}), nothing to plug into bridges`,
    };
  }
  const m = missing();
  if (m.length)
    return {
      plane: 'user',
      reason: `auto: the Linux bridge data plane needs ${m.join(', ')}; QEMU user networking instead`,
    };
  return {
    plane: 'linuxbridge',
    reason: 'auto: root, QEMU guests, and bridge, netns, tun, nftables and dnsmasq are here',
  };
}
