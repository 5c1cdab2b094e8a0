// Starts a real `gureum up` for a benchmark and knows its pid (for RSS).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/server.js';
import { send } from './load.js';

const MAIN_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** The Node flags and malloc setting `npm start` and the gureum shebang use (package.json "start", src/cli/main.ts line 1): measure what users run. */
export const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=2').split(' ').filter(Boolean);

export interface BenchServer {
  baseUrl: string;
  pid: number;
  dataDir: string;
  adminPassword: string;
  stop(): Promise<void>;
}

export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-bench-'));
  const child: ChildProcess = spawn(process.execPath, [...NODE_FLAGS, MAIN_JS, 'up', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072', ...env },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000; // a loaded 2-core machine has taken ~50 s
  for (;;) {
    try {
      if ((await send(baseUrl, { method: 'GET', path: '/healthz' })).status === 200) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('bench server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = /^export OS_PASSWORD='([^']*)'$/m.exec(readFileSync(join(dataDir, 'admin-openrc.sh'), 'utf8'));
  return {
    baseUrl, pid: child.pid!, dataDir, adminPassword: m![1]!,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(null); else child.once('exit', r); });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
