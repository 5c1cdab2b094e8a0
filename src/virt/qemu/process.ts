// QEMU processes: start (daemonized, argument array), find by pidfile, check, kill, and spot strays.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** QEMU refused to start; `stderr` says why. */
export class QemuStartError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'QemuStartError';
  }
}

/**
 * Runs QEMU with `-daemonize`: the first process exits once the guest is set up (0) or with the reason it could
 * not be (port taken, bad disk). The guest process outlives the control plane, which re-attaches later.
 */
export function launchDaemon(binary: string, args: string[], timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (c: string) => {
      if (stderr.length < 16_384) stderr += c;
    });
    const t = setTimeout(() => {
      p.kill('SIGKILL');
    }, timeoutMs);
    p.on('error', (e) => {
      clearTimeout(t);
      reject(new QemuStartError(`QEMU could not run: ${e.message}`, ''));
    });
    p.on('exit', (code, signal) => {
      clearTimeout(t);
      if (code === 0) return resolve();
      const why =
        stderr
          .trim()
          .split('\n')
          .filter(Boolean)
          .slice(-3)
          .join(' ')
          .replace(/^\S+ qemu-system-x86_64: /, '') || `exit ${code ?? signal}`;
      reject(new QemuStartError(`QEMU failed to start: ${why}`, stderr));
    });
  });
}

/** The pid in a pidfile, or null. */
export async function readPid(pidFile: string): Promise<number | null> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const n = Number.parseInt(text.trim(), 10);
  return Number.isInteger(n) && n > 1 ? n : null;
}

/** True when `pid` is alive and its command line mentions `marker` (a pid reused by another program is not ours). */
export function isOurProcess(pid: number, marker: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmd.includes(marker)) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Sends SIGKILL and waits until the process is gone (or 5 s). */
export async function killHard(pid: number, marker: string): Promise<void> {
  if (!isOurProcess(pid, marker)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitGone(pid, marker, 5000);
}

/** Waits until the process is gone; false on timeout. */
export async function waitGone(pid: number, marker: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isOurProcess(pid, marker)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isOurProcess(pid, marker);
}

/** QEMU processes whose pidfile lies under `root` (ours), as pid → instance id. */
export function qemuProcessesUnder(root: string): Map<number, string> {
  const out = new Map<number, string>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('-pidfile');
      if (i < 0 || !/qemu-system/.test(argv[0] ?? '')) continue;
      const pf = argv[i + 1] ?? '';
      if (!pf.startsWith(`${root}/`)) continue;
      const id = pf.slice(root.length + 1).split('/')[0];
      if (id) out.set(Number(e), id);
    } catch {
      // raced with an exiting process
    }
  }
  return out;
}
