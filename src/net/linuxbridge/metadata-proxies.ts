// Starts and stops the metadata proxy process of a router namespace (metadata-ns-proxy.ts), one per namespace,
// detached so it keeps serving while Gureum restarts; a pid file per namespace finds it again.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const METADATA_IP = '169.254.169.254';

const PROXY = fileURLToPath(new URL('./metadata-ns-proxy.js', import.meta.url));

export class MetadataProxies {
  constructor(
    private readonly dir: string,
    private readonly socket: string,
    readonly port: number,
  ) {}

  private pidFile(ns: string): string {
    return join(this.dir, `${ns}.pid`);
  }

  /** The live proxy's pid for a namespace, checked against /proc so a recycled pid is never taken for it. */
  async pid(ns: string): Promise<number | null> {
    const pid = Number((await readFile(this.pidFile(ns), 'utf8').catch(() => '')).trim());
    if (!pid) return null;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmd.includes(PROXY) && cmd.includes(this.socket) ? pid : null;
  }

  /** Makes sure the proxy of `ns` runs (for a router or a network). */
  async ensure(ns: string, scope: { routerId: string } | { networkId: string }): Promise<void> {
    if (await this.pid(ns)) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // A router redirects 169.254.169.254:80 to the proxy's port; a DHCP namespace holds the address itself.
    const where =
      'routerId' in scope
        ? ['--listen', String(this.port), '--router-id', scope.routerId]
        : ['--listen', '80', '--host', METADATA_IP, '--network-id', scope.networkId];
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, PROXY, '--socket', this.socket, ...where], {
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    if (child.pid) await writeFile(this.pidFile(ns), String(child.pid), { mode: 0o600 });
  }

  async stop(ns: string): Promise<void> {
    const pid = await this.pid(ns);
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await rm(this.pidFile(ns), { force: true });
  }
}
