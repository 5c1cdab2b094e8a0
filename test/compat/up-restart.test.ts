import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN_JS, freePort, getToken, readCloudConfig } from '../helpers/server.js';

/**
 * Runs `gureum up` until /healthz answers, returns a stopper that resolves with the exit code. The child goes into
 * `started` at once so the test's cleanup can kill whatever is still running before it deletes the data dir.
 */
async function up(dataDir: string, port: number, started: ChildProcess[]) {
  // About restarts of the control plane, not the network: pinned to QEMU user networking (no bridges to clean up).
  const child = spawn(
    process.execPath,
    [MAIN_JS, 'up', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GUREUM_DATA_PLANE: 'user' } },
  );
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const deadline = Date.now() + 120_000; // a guard, not a threshold: a start on a loaded 2-core machine can take 30 s
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) break;
    } catch {
      /* starting */
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    output: () => out,
    stop: () =>
      new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

test(
  'a second start reuses the data dir: same admin password, files rewritten for the new address, clean ' + 'SIGTERM',
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gureum-restart-'));
    const started: ChildProcess[] = [];
    try {
      const p1 = await freePort();
      const first = await up(dataDir, p1, started);
      assert.match(first.output(), /First start/);
      const cfg1 = readCloudConfig(join(dataDir, 'clouds.yaml'));
      assert.equal(statSync(join(dataDir, 'clouds.yaml')).mode & 0o777, 0o600);
      assert.equal(statSync(join(dataDir, 'admin-openrc.sh')).mode & 0o777, 0o600);
      assert.equal(await first.stop(), 0, 'SIGTERM stops cleanly with exit code 0');

      const p2 = await freePort();
      const second = await up(dataDir, p2, started);
      try {
        assert.doesNotMatch(second.output(), /First start/);
        const cfg2 = readCloudConfig(join(dataDir, 'clouds.yaml'));
        assert.equal(cfg2.admin.password, cfg1.admin.password);
        assert.match(readFileSync(join(dataDir, 'clouds.yaml'), 'utf8'), new RegExp(`127\\.0\\.0\\.1:${p2}/identity`));
        const token = await getToken(`http://127.0.0.1:${p2}`, cfg2.admin);
        assert.ok(token.length > 20);
      } finally {
        await second.stop();
      }
    } finally {
      // A failed assertion leaves a server running: stop it before its data dir goes.
      await Promise.all(
        started
          .filter((c) => c.exitCode === null && c.signalCode === null)
          .map(
            (c) =>
              new Promise((resolve) => {
                c.once('exit', resolve);
                c.kill('SIGKILL');
              }),
          ),
      );
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
