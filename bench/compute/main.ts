// Compute at scale with the fake driver: 1,000 hosts, 10,000 instances through the real API (in-process inject).
// Env: BENCH_HOSTS (1000), BENCH_INSTANCES (10000), BENCH_CONCURRENCY (32), BENCH_DB (sqlite file in a temp dir).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, loadConfig } from '../../src/config.js';
import { createController } from '../../src/app.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 1000);
const N = Number(process.env.BENCH_INSTANCES ?? 10000);
const CONC = Number(process.env.BENCH_CONCURRENCY ?? 32);

const pct = (a: number[], p: number) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))] ?? 0; };

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-bench-compute-'));
  const base = loadConfig({ dataDir, databaseUrl: process.env.BENCH_DB ?? 'sqlite', logLevel: 'silent' }, {});
  const config = configWith(base, {
    virt: { driver: 'fake', fake: { hosts: HOSTS, hostName: 'bench-host', vcpus: 64, memoryMb: 65536 } },
    identity: { passwordHash: { N: 1024, r: 8, p: 1 } }, server: { publicUrl: 'http://bench.test' },
  });
  const ctl = await createController(config, { adminPassword: 'bench-admin-pw' });
  await ctl.server.ready();
  const inject = async (method: string, url: string, token?: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await ctl.server.inject({ method: method as 'GET', url, headers: { ...(token ? { 'x-auth-token': token } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, payload: body ? JSON.stringify(body) : undefined });
    return { status: res.statusCode, json: () => JSON.parse(res.body), headers: res.headers };
  };
  const auth = await inject('POST', '/identity/v3/auth/tokens', undefined, { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'bench-admin-pw' } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } });
  const token = String(auth.headers['x-subject-token']);
  const projectId = auth.json().token.project.id as string;
  await inject('PUT', `/compute/v2.1/os-quota-sets/${projectId}`, token, { quota_set: { instances: -1, cores: -1, ram: -1 } });
  const img = await inject('POST', '/image/v2/images', token, { name: 'bench', disk_format: 'raw', container_format: 'bare', visibility: 'public' });
  const imageId = img.json().id as string;
  await ctl.server.inject({ method: 'PUT', url: `/image/v2/images/${imageId}/file`, headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(4096) });
  const compute = ctl.deps.compute;
  compute.scheduler.timer.reset();

  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < N) {
      const i = next++;
      const s = performance.now();
      const r = await inject('POST', '/compute/v2.1/servers', token, { server: { name: `b${i}`, imageRef: imageId, flavorRef: '42', networks: 'none' } }, { 'OpenStack-API-Version': 'compute 2.37' });
      latencies.push(performance.now() - s);
      if (r.status !== 202) errors++;
    }
  }));
  const accepted = (performance.now() - t0) / 1000;
  await compute.agent!.drain(600_000);
  const active = (performance.now() - t0) / 1000;
  const db = ctl.store.db;
  const count = await db.selectFrom('compute_instances').select((eb) => eb.fn.countAll<number>().as('n')).where('vm_state', '=', 'active').where('deleted', '=', 0).executeTakeFirstOrThrow();
  const hostsUsed = await db.selectFrom('compute_nodes').select((eb) => eb.fn.countAll<number>().as('n')).where('running_vms', '>', 0).executeTakeFirstOrThrow();
  const over = await db.selectFrom('compute_nodes').select('host').where((eb) => eb('memory_mb_used', '>', eb.ref('memory_mb'))).execute();

  const listMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    const r = await inject('GET', '/compute/v2.1/servers/detail?limit=1000', token);
    listMs.push(performance.now() - s);
    if (r.status !== 200 || r.json().servers.length !== Math.min(1000, N)) throw new Error(`list failed: ${r.status}`);
  }
  const rssMb = process.memoryUsage().rss / 1024 / 1024;
  const out = {
    hosts: HOSTS, instances: N, concurrency: CONC, errors, active: Number(count.n), hostsUsed: Number(hostsUsed.n), overcommittedHosts: over.length,
    createAcceptedPerSec: +(N / accepted).toFixed(1), createToActivePerSec: +(N / active).toFixed(1),
    createP50ms: +pct(latencies, 50).toFixed(2), createP99ms: +pct(latencies, 99).toFixed(2),
    schedulerP50ms: +compute.scheduler.timer.percentile(50).toFixed(3), schedulerP99ms: +compute.scheduler.timer.percentile(99).toFixed(3),
    listDetail1000P50ms: +pct(listMs, 50).toFixed(1), listDetail1000P99ms: +pct(listMs, 99).toFixed(1), rssMb: +rssMb.toFixed(0),
  };
  console.log(JSON.stringify(out, null, 2));
  await ctl.close();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
