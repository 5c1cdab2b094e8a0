// Compute at scale with the fake driver: 1,000 hosts, 10,000 instances created by 32 concurrent clients over real
// HTTP on loopback (keep-alive), each server with its own Neutron port on one /16. The controller runs in this
// process (to read the scheduler's own timer and drain the task queue), so the RSS figure covers the controller and
// the load generator together.
// Env: BENCH_HOSTS (1000), BENCH_INSTANCES (10000), BENCH_CONCURRENCY (32), BENCH_DB (sqlite file in a temp dir).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, loadConfig } from '../../src/config.js';
import { createController } from '../../src/app/index.js';
import type { AddressInfo } from 'node:net';
import { describeLatency, latencySummary, send } from '../lib/load.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 1000);
const N = Number(process.env.BENCH_INSTANCES ?? 10000);
const CONC = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-bench-compute-'));
  const base = loadConfig({ dataDir, databaseUrl: process.env.BENCH_DB ?? 'sqlite', logLevel: 'silent' }, {});
  const config = configWith(base, {
    virt: { driver: 'fake', fake: { hosts: HOSTS, hostName: 'bench-host', vcpus: 64, memoryMb: 65536 } },
    identity: { passwordHash: { N: 1024, r: 8, p: 1 } },
    server: { publicUrl: 'http://bench.test' },
  });
  const ctl = await createController(config, { adminPassword: 'bench-admin-pw' });
  await ctl.server.listen({ host: '127.0.0.1', port: 0 });
  const baseUrl = `http://127.0.0.1:${(ctl.server.server.address() as AddressInfo).port}`;
  const call = async (
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
    return { status: res.status, json: () => JSON.parse(res.body), headers: res.headers, body: res.body };
  };
  const must = async (status: number, method: string, url: string, token?: string, body?: unknown) => {
    const r = await call(method, url, token, body);
    if (r.status !== status) throw new Error(`${method} ${url}: ${r.status} ${r.body.slice(0, 300)}`);
    return r;
  };
  const auth = await call('POST', '/identity/v3/auth/tokens', undefined, {
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
  await must(200, 'PUT', `/compute/v2.1/os-quota-sets/${projectId}`, token, {
    quota_set: { instances: -1, cores: -1, ram: -1 },
  });
  await must(200, 'PUT', `/network/v2.0/quotas/${projectId}`, token, { quota: { port: -1 } });
  // One network with a /16: every server gets its own port (MAC, fixed IP), as a real create does.
  const netId = (await must(201, 'POST', '/network/v2.0/networks', token, { network: { name: 'bench' } })).json()
    .network.id as string;
  await must(201, 'POST', '/network/v2.0/subnets', token, {
    subnet: { network_id: netId, ip_version: 4, cidr: '10.200.0.0/16' },
  });
  const img = await must(201, 'POST', '/image/v2/images', token, {
    name: 'bench',
    disk_format: 'raw',
    container_format: 'bare',
    visibility: 'public',
  });
  const imageId = img.json().id as string;
  const put = await send(baseUrl, {
    method: 'PUT',
    path: `/image/v2/images/${imageId}/file`,
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(4096).toString('latin1'),
  });
  if (put.status !== 204) throw new Error(`image upload: ${put.status} ${put.body}`);
  const compute = ctl.deps.compute;
  compute.scheduler.timer.reset();

  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < N) {
        const i = next++;
        const s = performance.now();
        const r = await call(
          'POST',
          '/compute/v2.1/servers',
          token,
          { server: { name: `b${i}`, imageRef: imageId, flavorRef: '42', networks: [{ uuid: netId }] } },
          { 'OpenStack-API-Version': 'compute 2.37' },
        );
        latencies.push(performance.now() - s);
        if (r.status !== 202) errors++;
      }
    }),
  );
  const accepted = (performance.now() - t0) / 1000;
  await ctl.computeHost!.agent.drain(600_000);
  const active = (performance.now() - t0) / 1000;
  const db = ctl.store.db;
  const count = await db
    .selectFrom('compute_instances')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('vm_state', '=', 'active')
    .where('deleted', '=', 0)
    .executeTakeFirstOrThrow();
  const hostsUsed = await db
    .selectFrom('compute_nodes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('running_vms', '>', 0)
    .executeTakeFirstOrThrow();
  const over = await db
    .selectFrom('compute_nodes')
    .select('host')
    .where((eb) => eb('memory_mb_used', '>', eb.ref('memory_mb')))
    .execute();

  const ports = await db
    .selectFrom('net_ports')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('device_owner', 'like', 'compute:%')
    .executeTakeFirstOrThrow();

  const listMs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    const r = await call('GET', '/compute/v2.1/servers/detail?limit=1000', token);
    listMs.push(performance.now() - s);
    if (r.status !== 200 || r.json().servers.length !== Math.min(1000, N)) throw new Error(`list failed: ${r.status}`);
  }
  const rssMb = process.memoryUsage().rss / 1024 / 1024;
  const create = latencySummary(latencies);
  const out = {
    transport: 'HTTP on loopback',
    hosts: HOSTS,
    instances: N,
    concurrency: CONC,
    errors,
    active: Number(count.n),
    serverPorts: Number(ports.n),
    hostsUsed: Number(hostsUsed.n),
    overcommittedHosts: over.length,
    createAcceptedPerSec: +(N / accepted).toFixed(1),
    createToActivePerSec: +(N / active).toFixed(1),
    createP50ms: +create.p50.toFixed(2),
    createP99ms: +create.p99.toFixed(2),
    createSamples: create.n,
    schedulerP50ms: +compute.scheduler.timer.percentile(50).toFixed(3),
    schedulerP99ms: +compute.scheduler.timer.percentile(99).toFixed(3),
    rssMbControllerAndLoadGenerator: +rssMb.toFixed(0),
  };
  console.log(JSON.stringify(out, null, 2));
  console.log(`GET /servers/detail?limit=1000: ${describeLatency(listMs)}`);
  await ctl.close();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
