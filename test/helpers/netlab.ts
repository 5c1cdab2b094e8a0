// A throwaway L2 lab for data-plane tests and benches: one Linux bridge the lab creates, and hosts that are network
// namespaces plugged into it by veth pairs (the host-side veth stands in for a guest's tap). Names carry a random
// suffix so parallel runs never collide; `destroy` removes every namespace, veth and the bridge, also after failures.
// Traffic stays inside the bridge: no address on the host side, no routes out.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command (argument array, no shell); never rejects on a non-zero exit. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + e.message });
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${String(r.code)}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** One namespace host on the lab bridge. */
export interface LabHost {
  name: string;
  netns: string;
  /** The host-side veth on the bridge: what the firewall knows as the port's tap. */
  tap: string;
  mac: string;
  ip: string;
}

export class NetLab {
  readonly suffix = randomBytes(3).toString('hex');
  readonly bridge = `gb${this.suffix}`;
  readonly hosts: LabHost[] = [];
  private readonly children = new Set<import('node:child_process').ChildProcess>();
  private bridgeMade = false;

  /** Creates the bridge. */
  async up(): Promise<this> {
    await must('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    this.bridgeMade = true;
    // No STP/forward delay, so ports forward at once.
    await must('ip', ['link', 'set', this.bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    await must('ip', ['link', 'set', this.bridge, 'up']);
    return this;
  }

  /** Adds a namespace host with `ip` (CIDR) on the bridge; `name` is one or two characters. */
  async addHost(name: string, cidr: string, mac: string): Promise<LabHost> {
    const host: LabHost = {
      name,
      netns: `gn${this.suffix}${name}`,
      tap: `gt${this.suffix}${name}`,
      mac,
      ip: cidr.split('/')[0]!,
    };
    const peer = `gp${this.suffix}${name}`;
    await must('ip', ['netns', 'add', host.netns]);
    this.hosts.push(host);
    await must('ip', ['link', 'add', host.tap, 'type', 'veth', 'peer', 'name', peer]);
    await must('ip', ['link', 'set', peer, 'netns', host.netns]);
    await must('ip', ['link', 'set', host.tap, 'master', this.bridge, 'up']);
    const inNs = (...a: string[]) => must('ip', ['-n', host.netns, ...a]);
    await inNs('link', 'set', peer, 'name', 'eth0');
    await inNs('link', 'set', 'eth0', 'address', mac);
    await inNs('addr', 'add', cidr, 'dev', 'eth0');
    await inNs('link', 'set', 'eth0', 'up');
    await inNs('link', 'set', 'lo', 'up');
    return host;
  }

  /** Runs a command inside a host's namespace. */
  exec(host: LabHost, args: string[], timeoutMs = 20_000): Promise<RunResult> {
    return run('ip', ['netns', 'exec', host.netns, ...args], { timeoutMs });
  }

  /** Starts a long-running command in a host's namespace; `destroy` kills it. */
  spawn(host: LabHost, args: string[]): import('node:child_process').ChildProcess {
    const child = spawn('ip', ['netns', 'exec', host.netns, ...args], { stdio: 'ignore' });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Whether one ICMP echo from `from` to `to` is answered (1 s wait, 2 tries: one lost ARP is not a verdict). */
  async ping(from: LabHost, to: string): Promise<boolean> {
    const r = await this.exec(from, ['ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '1', to]);
    return r.code === 0;
  }

  /** Whether a TCP connection from `from` to `to:port` (optionally from source `src`) gets the listener's greeting. */
  async tcp(from: LabHost, to: string, port: number, src?: string): Promise<boolean> {
    const script =
      `const s=require('net').connect({host:process.argv[1],port:+process.argv[2],localAddress:process.argv[3]||undefined});` +
      `s.setTimeout(1500,()=>process.exit(3));s.on('data',d=>{if(String(d).startsWith('hello'))process.exit(0)});s.on('error',()=>process.exit(2));`;
    const r = await this.exec(from, [process.execPath, '-e', script, to, String(port), src ?? '']);
    return r.code === 0;
  }

  /** Starts a TCP listener in a host that greets every connection with "hello"; resolves once it listens. */
  async listen(host: LabHost, port: number): Promise<void> {
    const script = `require('net').createServer(s=>{s.end('hello\\n')}).listen(+process.argv[1],'0.0.0.0',()=>console.log('up'))`;
    const child = spawn('ip', ['netns', 'exec', host.netns, process.execPath, '-e', script, String(port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`listener in ${host.netns} exited (${String(code)})`)));
    });
  }

  /** Kills the lab's processes and removes its namespaces, veths and bridge (each step tried, errors collected). */
  async destroy(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    const errors: string[] = [];
    for (const h of this.hosts) {
      const r = await run('ip', ['netns', 'del', h.netns]);
      if (r.code !== 0) errors.push(r.stderr.trim());
      await run('ip', ['link', 'del', h.tap]); // gone with the namespace's peer; this covers a half-made host
    }
    if (this.bridgeMade) {
      const r = await run('ip', ['link', 'del', this.bridge]);
      if (r.code !== 0) errors.push(r.stderr.trim());
    }
    if (errors.length) throw new Error(`lab cleanup: ${errors.join('; ')}`);
  }
}
