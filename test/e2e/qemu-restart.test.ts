// kill -9 of a real `gureum up` with three running QEMU servers and one mid-spawn; started again on the same data
// dir: the three are ACTIVE on the same QEMU processes (re-attached over QMP), the interrupted one is finished by its
// requeued spawn task (enqueued with the create, before the 202), and no instance folder or QEMU process is left that
// the database does not know.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN_JS, freePort, getToken, readCloudConfig } from '../helpers/server.js';
import { qemuProcessesUnder } from '../../src/virt/qemu/process.js';
import { FINISHED, V, killLeftovers, requireGuestTools, testGuest, type TestGuest } from './qemu-fixture.js';

interface Up {
  proc: ChildProcess;
  base: string;
  token: string;
  output(): string;
}

/** Starts `gureum up`; the process goes into `procs` at once, so the test's cleanup kills it even if up() throws. */
async function up(dataDir: string, procs: ChildProcess[]): Promise<Up> {
  const port = await freePort();
  const proc = spawn(process.execPath, [MAIN_JS, 'up', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    // About compute's restart, not the network's (test/e2e/dataplane-restart.test.ts is that): QEMU user networking.
    env: {
      ...process.env,
      GUREUM_HYPERVISOR: 'qemu',
      GUREUM_ACCEL: 'tcg',
      GUREUM_TINY_IMAGE: '0',
      GUREUM_POWER_SYNC_INTERVAL: '2',
      GUREUM_DATA_PLANE: 'user',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  });
  proc.stderr!.on('data', (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`gureum up exited: ${out}`);
    const ok = await fetch(`${base}/identity/v3`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok && existsSync(join(dataDir, 'clouds.yaml'))) break;
    if (Date.now() > deadline) throw new Error(`gureum up not ready: ${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const cloud = readCloudConfig(join(dataDir, 'clouds.yaml'), join(dataDir, 'admin-openrc.sh'));
  return { proc, base, token: await getToken(base, cloud.admin), output: () => out };
}

async function api(
  u: Up,
  method: string,
  path: string,
  body?: unknown,
  raw?: Buffer,
): Promise<{ status: number; json: any; headers: Headers }> {
  const headers: Record<string, string> = { 'x-auth-token': u.token, 'openstack-api-version': 'compute 2.37' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (raw) headers['content-type'] = 'application/octet-stream';
  const r = await fetch(`${u.base}${path}`, {
    method,
    headers,
    body: raw ? new Uint8Array(raw) : body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, headers: r.headers };
}

async function image(
  u: Up,
  name: string,
  file: string,
  fmt: string,
  props: Record<string, string> = {},
): Promise<string> {
  const c = await api(u, 'POST', '/image/v2/images', {
    name,
    disk_format: fmt,
    container_format: fmt,
    visibility: 'public',
    ...props,
  });
  assert.equal(c.status, 201);
  assert.equal((await api(u, 'PUT', `/image/v2/images/${c.json.id}/file`, undefined, readFileSync(file))).status, 204);
  return c.json.id;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const server = (u: Up, id: string) => api(u, 'GET', `${V}/servers/${id}`).then((r) => r.json?.server);
const consoleText = (u: Up, id: string) =>
  api(u, 'POST', `${V}/servers/${id}/action`, { 'os-getConsoleOutput': {} }).then((r) => String(r.json?.output ?? ''));

test('kill -9 with three running servers and one mid-spawn, then start again', { timeout: 900_000 }, async (t) => {
  if (!requireGuestTools(t)) return;
  const g = testGuest();
  const guest = g as TestGuest;
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-restart-'));
  const procs: ChildProcess[] = [];
  t.after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    killLeftovers(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const a = await up(dataDir, procs);
  const k = await image(a, 'k', guest.kernel, 'aki');
  const r = await image(a, 'r', guest.initrd, 'ari');
  const img = await image(a, 'g', guest.disk, 'ami', {
    kernel_id: k,
    ramdisk_id: r,
    os_command_line: 'console=ttyS0 quiet mitigations=off tsc=reliable no_timer_check',
  });
  const create = async (u: Up, name: string) => {
    const res = await api(u, 'POST', `${V}/servers`, {
      server: { name, imageRef: img, flavorRef: '42', networks: 'auto' },
    });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    return res.json.server.id as string;
  };
  const running: string[] = [];
  for (const n of ['r1', 'r2', 'r3']) running.push(await create(a, n));
  for (const id of running) {
    await until(`${id} ACTIVE`, async () => ((await server(a, id))?.status === 'ACTIVE' ? true : undefined));
    await until(`${id} finished`, async () => ((await consoleText(a, id)).includes(FINISHED) ? true : undefined));
  }
  const pidsBefore = new Map([...qemuProcessesUnder(join(dataDir, 'instances'))].map(([pid, id]) => [id, pid]));
  assert.equal(pidsBefore.size, 3);

  const mid = await create(a, 'mid');
  a.proc.kill('SIGKILL');
  await new Promise((res) => a.proc.once('exit', res));

  const b = await up(dataDir, procs);
  for (const id of running) {
    const s = await until(`${id} ACTIVE after restart`, async () => {
      const v = await server(b, id);
      return v?.status === 'ACTIVE' && v['OS-EXT-STS:task_state'] === null ? v : undefined;
    });
    assert.equal(s['OS-EXT-STS:power_state'], 1);
  }
  const pidsAfter = new Map([...qemuProcessesUnder(join(dataDir, 'instances'))].map(([pid, id]) => [id, pid]));
  for (const id of running) assert.equal(pidsAfter.get(id), pidsBefore.get(id), 'the same QEMU process, re-attached');
  // Re-attached over QMP: pause and unpause work on a guest the new process did not start.
  assert.equal((await api(b, 'POST', `${V}/servers/${running[0]}/action`, { pause: null })).status, 202);
  await until('PAUSED', async () => ((await server(b, running[0]!))?.status === 'PAUSED' ? true : undefined));
  assert.equal((await api(b, 'POST', `${V}/servers/${running[0]}/action`, { unpause: null })).status, 202);
  await until('ACTIVE', async () => ((await server(b, running[0]!))?.status === 'ACTIVE' ? true : undefined));

  const midServer = await until('the interrupted server settles', async () => {
    const v = await server(b, mid);
    return v && v['OS-EXT-STS:task_state'] === null && v.status !== 'BUILD' ? v : undefined;
  });
  assert.equal(midServer.status, 'ACTIVE', `the requeued spawn finished it: ${JSON.stringify(midServer.fault)}`);
  await until(`${mid} finished`, async () => ((await consoleText(b, mid)).includes(FINISHED) ? true : undefined));
  const midState = midServer.status as string;

  // Nothing orphaned: every folder and process belongs to a live server.
  const live = new Set([...running, ...(midState === 'ACTIVE' ? [mid] : [])]);
  const folders = readdirSync(join(dataDir, 'instances')).filter((n) => /^[0-9a-f-]{36}$/.test(n));
  for (const f of folders) assert.ok(live.has(f), `folder ${f} belongs to a live server`);
  for (const id of qemuProcessesUnder(join(dataDir, 'instances')).values())
    assert.ok(live.has(id), `process of ${id} belongs to a live server`);

  // A guest that dies behind the cloud's back becomes SHUTOFF through the power-state sync.
  process.kill(pidsAfter.get(running[2]!)!, 'SIGKILL');
  await until(
    'SHUTOFF after the guest died',
    async () => ((await server(b, running[2]!))?.status === 'SHUTOFF' ? true : undefined),
    30_000,
  );

  for (const id of [...running, mid]) await api(b, 'DELETE', `${V}/servers/${id}`);
  for (const id of [...running, mid])
    await until(`${id} deleted`, async () =>
      (await api(b, 'GET', `${V}/servers/${id}`)).status === 404 ? true : undefined,
    );
  assert.deepEqual([...qemuProcessesUnder(join(dataDir, 'instances')).keys()], []);
  b.proc.kill('SIGTERM');
  await new Promise((res) => b.proc.once('exit', res));
});
