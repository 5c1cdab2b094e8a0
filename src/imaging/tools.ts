// Finding and running the external tools the factory uses (always argument arrays, never a shell).
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { ImagingError } from './errors.js';
import { guestfsEnv } from './guestfish.js';
import { pathDirs } from '../util/host-env.js';

/** True when `cmd` is an executable on PATH (or in /usr/sbin, /sbin, where e2fsprogs and debootstrap live). */
export function onPath(cmd: string): boolean {
  return pathDirs().some((d) => {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Throws a clear error naming the Debian package when a tool is missing. */
export function requireTools(tools: Record<string, string>): void {
  const missing = Object.entries(tools).filter(([cmd]) => !onPath(cmd));
  if (missing.length) {
    throw new ImagingError(
      'tool',
      `missing tools: ${missing.map(([c, p]) => `${c} (Debian package ${p})`).join(', ')}; run: node ` +
        `scripts/prepare.mjs --for imaging`,
    );
  }
}

/**
 * Runs a tool (stdin from a file when `stdin` names one); resolves with stdout, rejects with the last lines of stderr.
 * `onLine` sees stderr/stdout lines (progress).
 */
export function runTool(
  cmd: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    onLine?: (line: string) => void;
    cwd?: string;
    stdin?: string;
  } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = opts.stdin ? openSync(opts.stdin, 'r') : 'ignore';
    const child = spawn(cmd, args, {
      env: opts.env ?? guestfsEnv(),
      stdio: [input, 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    if (typeof input === 'number') closeSync(input);
    let out = '';
    let err = '';
    let partial = '';
    const lines = (b: Buffer) => {
      if (!opts.onLine) return;
      partial += b.toString();
      const parts = partial.split(/\r?\n|\r/);
      partial = parts.pop()!;
      for (const l of parts) if (l.trim()) opts.onLine(l);
    };
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.length > 8 << 20) out = out.slice(-(4 << 20));
      lines(b);
    });
    child.stderr!.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-16_384);
      lines(b);
    });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ImagingError('tool', `cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(out);
      const tail = (err || out).trim().split('\n').slice(-4).join(' | ');
      reject(new ImagingError('tool', `${cmd} ${signal ? `killed by ${signal}` : `exited ${code}`}: ${tail}`));
    });
  });
}
