// Which data plane this host runs, and why: `linuxbridge` (taps on Linux bridges, root only) or `user` (QEMU user
// networking, unprivileged). `auto` stays on `user` until the bridged path passes the QEMU end-to-end tests.
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian puts the tools (a non-root PATH may lack the sbin folders). */
export const TOOL_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export type DataPlaneSetting = 'auto' | 'linuxbridge' | 'user';

export interface DataPlaneChoice {
  plane: 'linuxbridge' | 'user';
  reason: string;
}

function onPath(bin: string, dirs: string[]): boolean {
  return dirs.some((d) => {
    try { accessSync(join(d, bin), constants.X_OK); return true; } catch { return false; }
  });
}

/** What is missing on this host for the Linux bridge data plane (empty: nothing). */
export function linuxBridgeMissing(isRoot: boolean, dirs: string[] = TOOL_DIRS): string[] {
  const missing: string[] = [];
  if (!isRoot) missing.push('root');
  for (const bin of ['ip', 'bridge', 'nft', 'dnsmasq']) if (!onPath(bin, dirs)) missing.push(bin);
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  return missing;
}

/** Resolves the setting against this host. An explicit `linuxbridge` that cannot run is an error, not a fallback. */
export function chooseDataPlane(setting: DataPlaneSetting, env: { isRoot: boolean; dirs?: string[] }): DataPlaneChoice {
  if (setting === 'user') return { plane: 'user', reason: 'configured (network.dataPlane=user)' };
  const missing = linuxBridgeMissing(env.isRoot, env.dirs);
  if (setting === 'linuxbridge') {
    if (missing.length) throw new Error(`network.dataPlane=linuxbridge needs ${missing.join(', ')} on this host`);
    return { plane: 'linuxbridge', reason: 'configured (network.dataPlane=linuxbridge)' };
  }
  return { plane: 'user', reason: missing.length ? `auto: the Linux bridge data plane needs ${missing.join(', ')}` : 'auto: QEMU user networking is the default until linuxbridge is proven here; set network.dataPlane=linuxbridge to use it' };
}
