// Starts a real `gureum up` for a benchmark and knows its pid (for RSS).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/server.js';
import { send } from './load.js';

const MAIN_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/**
 * The Node flags and malloc setting `npm start` and the gureum shebang use (package.json "start", src/cli/main.ts line
 * 1): measure what users run.
 */
export const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=2').split(' ').filter(Boolean);

export interface BenchServer {
  baseUrl: string;
  pid: number;
  dataDir: string;
  adminPassword: string;
  /** ms from spawning `gureum up` to the first 200 on /healthz (this start; a fresh data dir the first time). */
  startMs: number;
  /** Stops the process and starts it again on the same data dir; resolves with that start's ms to /healthz 200. */
  restart(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Spawns `gureum up` on `dataDir` and waits for /healthz 200: QEMU user networking, so an API bench leaves no bridges
 * (bench/dataplane measures those).
 */
async function spawnGureum(
  port: number,
  dataDir: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; startMs: number }> {
  const t0 = process.hrtime.bigint();
  const child: ChildProcess = spawn(
    process.execPath,
    [...NODE_FLAGS, MAIN_JS, 'up', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'warn'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072', GUREUM_DATA_PLANE: 'user', ...env },
    },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000; // a 2-core machine at load 30 has taken 120 s for a fresh data dir
  for (;;) {
    try {
      if ((await send(baseUrl, { method: 'GET', path: '/healthz' })).status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('bench server did not start');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { child, startMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-bench-'));
  let started: { child: ChildProcess; startMs: number };
  try {
    started = await spawnGureum(port, dataDir, env);
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const m = /^export OS_PASSWORD='([^']*)'$/m.exec(readFileSync(join(dataDir, 'admin-openrc.sh'), 'utf8'));
  const server: BenchServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: started.child.pid!,
    dataDir,
    adminPassword: m![1]!,
    startMs: started.startMs,
    async restart() {
      await stopChild(started.child);
      started = await spawnGureum(port, dataDir, env);
      server.pid = started.child.pid!;
      return started.startMs;
    },
    async stop() {
      await stopChild(started.child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
