// Booting real guests with the QEMU driver: POST /servers -> ACTIVE and -> the guest's finished line (tiny image),
// each server with a Neutron port (networks: auto), the API called over HTTP on loopback; overlay creation vs a full
// copy of a 10 GiB-virtual image, and the control plane's RSS with N running servers. Env: BENCH_BOOTS (10),
// BENCH_RUNNING (20), BENCH_ACCEL (tcg), GUREUM_TINY_CACHE (tmp/gureum-tiny-cache).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, openSync, writeSync, closeSync, ftruncateSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { configWith, loadConfig } from '../../src/config.js';
import { createController } from '../../src/app/index.js';
import { createOverlay } from '../../src/disk/overlay.js';
import { FINISHED_MARK } from '../../src/imaging/tiny/index.js';
import { registerTinyImage } from '../../src/imaging/tiny/register.js';
import { qemuAvailable } from '../../src/virt/index.js';
import type { QemuDriver } from '../../src/virt/qemu/index.js';
import { qemuProcessesUnder } from '../../src/virt/qemu/process.js';
import { send } from '../lib/load.js';

const BOOTS = Number(process.env.BENCH_BOOTS ?? 10);
const RUNNING = Number(process.env.BENCH_RUNNING ?? 20);
const ACCEL = (process.env.BENCH_ACCEL ?? 'tcg') as 'tcg' | 'kvm' | 'auto';
const CACHE = process.env.GUREUM_TINY_CACHE || join(tmpdir(), 'gureum-tiny-cache');
const V = '/compute/v2.1';
// 20 m1.nano guests on a 2-core host need more than Nova's default 4x CPU overcommit.
const CPU_RATIO = Number(process.env.GUREUM_CPU_ALLOCATION_RATIO ?? 16);

const pct = (a: number[], p: number) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

async function overlayBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gureum-bench-overlay-'));
  try {
    const base = join(dir, 'base.raw');
    const fd = openSync(base, 'w');
    ftruncateSync(fd, 10 * 1024 ** 3);
    const chunk = randomBytes(4 * 1024 * 1024);
    for (let i = 0; i < 64; i++) writeSync(fd, chunk, 0, chunk.length, i * chunk.length); // 256 MiB of real data
    closeSync(fd);
    const overlay: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await createOverlay(join(dir, `o${i}.qcow2`), base, 'raw', 10 * 1024 ** 3);
      overlay.push(performance.now() - t0);
    }
    const t1 = performance.now();
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', base, join(dir, 'full.qcow2')]);
    const full = performance.now() - t1;
    console.log(
      `overlay on a 10 GiB-virtual raw base (256 MiB data): p50 ${ms(pct(overlay, 50))}, max ` +
        `${ms(Math.max(...overlay))}`,
    );
    console.log(`full copy of the same image (qemu-img convert to qcow2): ${ms(full)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await overlayBench();
  if (!qemuAvailable()) {
    console.log('qemu-system-x86_64 missing: boot figures skipped');
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-bench-boot-'));
  const base = loadConfig({ dataDir, databaseUrl: 'sqlite', logLevel: 'silent' }, {});
  const config = configWith(base, {
    virt: { driver: 'qemu', accel: ACCEL },
    image: { tinyImage: false },
    identity: { passwordHash: { N: 1024, r: 8, p: 1 } },
    server: { publicUrl: 'http://bench.test' },
    compute: { cpuAllocationRatio: CPU_RATIO },
    // Boot time, not wiring: QEMU user networking, so the run leaves no bridges (bench/dataplane measures those).
    net: { dataPlane: 'user' },
  });
  const ctl = await createController(config, { adminPassword: 'bench-admin-pw' });
  const driver = ctl.deps.compute.driver as QemuDriver;
  try {
    await ctl.server.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(ctl.server.server.address() as AddressInfo).port}`;
    ctl.deps.metadata.setControllerUrl(baseUrl);
    const reg = await registerTinyImage(ctl.deps.image, {
      adminProjectId: ctl.bootstrap.adminProjectId,
      cacheDir: CACHE,
    });
    if (reg.status === 'skipped') throw new Error(`tiny image: ${reg.reason}`);
    // Real HTTP on loopback (keep-alive), as a client would call it.
    const inject = async (
      method: string,
      url: string,
      token?: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res = await send(baseUrl, {
        method,
        path: url,
        headers: { ...(token ? { 'x-auth-token': token } : {}), ...headers },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: () => JSON.parse(res.body), headers: res.headers };
    };
    const auth = await inject('POST', '/identity/v3/auth/tokens', undefined, {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'bench-admin-pw' } },
        },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    });
    const token = String(auth.headers['x-subject-token']);
    const projectId = auth.json().token.project.id as string;
    await inject('PUT', `${V}/os-quota-sets/${projectId}`, token, { quota_set: { instances: -1, cores: -1, ram: -1 } });
    const create = async (name: string) => {
      const r = await inject(
        'POST',
        `${V}/servers`,
        token,
        { server: { name, imageRef: reg.imageId, flavorRef: '42', networks: 'auto' } },
        { 'OpenStack-API-Version': 'compute 2.37' },
      );
      if (r.status !== 202) throw new Error(`create: ${r.status}`);
      return r.json().server.id as string;
    };
    const untilActive = async (id: string) => {
      for (;;) {
        const s = (await inject('GET', `${V}/servers/${id}`, token)).json().server;
        if (s.status === 'ACTIVE') return;
        if (s.status === 'ERROR') throw new Error(`ERROR: ${JSON.stringify(s.fault)}`);
        await sleep(10);
      }
    };
    const untilFinished = async (id: string, timeoutMs = 120_000) => {
      const path = driver.files.paths(id).console;
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        try {
          if (readFileSync(path, 'utf8').includes(FINISHED_MARK)) return;
        } catch {
          /* not yet */
        }
        await sleep(20);
      }
      throw new Error('guest did not finish');
    };
    const accel = await driver.accel();
    console.log(`accelerator: ${accel.accel} (${accel.reason})`);
    const toActive: number[] = [];
    const toFinished: number[] = [];
    const timelines: string[][] = [];
    for (let i = 0; i < BOOTS; i++) {
      const t0 = performance.now();
      const id = await create(`boot${i}`);
      await untilActive(id);
      toActive.push(performance.now() - t0);
      await untilFinished(id);
      toFinished.push(performance.now() - t0);
      timelines.push(
        readFileSync(driver.files.paths(id).console, 'utf8')
          .split('\n')
          .filter((l) => /gureum-tiny: \[/.test(l))
          .map((l) => l.trim()),
      );
      await inject('DELETE', `${V}/servers/${id}`, token);
      while ((await inject('GET', `${V}/servers/${id}`, token)).status !== 404) await sleep(20);
    }
    console.log(
      `POST /servers -> ACTIVE (tiny, networks: auto, ${BOOTS} boots one at a time): p50 ${ms(pct(toActive, 50))}, ` +
        `max ${ms(Math.max(...toActive))}`,
    );
    console.log(
      `POST /servers -> guest finished line (${BOOTS} boots): p50 ${ms(pct(toFinished, 50))}, max ` +
        `${ms(Math.max(...toFinished))}`,
    );
    // The guest's own steps (uptime in seconds) for the boot closest to the median: where the time goes.
    const median = pct(toFinished, 50);
    const closest = toFinished.reduce(
      (best, v, i) => (Math.abs(v - median) < Math.abs(toFinished[best]! - median) ? i : best),
      0,
    );
    console.log(
      `guest timeline of boot ${closest} (${ms(toFinished[closest]!)}):\n  ${timelines[closest]!.join('\n  ')}`,
    );

    const rssBefore = process.memoryUsage().rss;
    const ids: string[] = [];
    for (let i = 0; i < RUNNING; i++) ids.push(await create(`run${i}`));
    for (const id of ids) await untilActive(id);
    for (const id of ids) await untilFinished(id, 600_000);
    await sleep(2000);
    const rss = process.memoryUsage().rss;
    let qemuRss = 0;
    for (const pid of qemuProcessesUnder(driver.files.root).keys()) {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      qemuRss += Number(m?.[1] ?? 0) * 1024;
    }
    console.log(
      `control-plane RSS with ${RUNNING} running servers: ${(rss / 2 ** 20).toFixed(0)} MB (before them: ` +
        `${(rssBefore / 2 ** 20).toFixed(0)} MB); QEMU processes together: ${(qemuRss / 2 ** 20).toFixed(0)} MB`,
    );
    for (const id of ids) await inject('DELETE', `${V}/servers/${id}`, token);
    for (const id of ids) while ((await inject('GET', `${V}/servers/${id}`, token)).status !== 404) await sleep(50);
  } finally {
    for (const pid of qemuProcessesUnder(driver.files.root).keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await ctl.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
