// Cost of observability with the fake driver: 200 running instances (over real HTTP on loopback), then
// (1) GET /metrics with the scrape token, timed and its CPU measured per scrape (controller and client share this
//     process, so the CPU figure includes the client's side of one loopback request);
// (2) one collector round (every instance's counters read, rates into the ring store);
// (3) the ring store after 24 h simulated: 1,440 minutes × N instances recorded, its typed arrays, the heap growth and
//     the saved file's size.
// QEMU guests are not part of this bench: see docs/performance.md for why and what was measured instead.
// Env: BENCH_INSTANCES (200), BENCH_SCRAPES (30).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { configWith, loadConfig } from '../../src/config.js';
import { createController } from '../../src/app/index.js';
import { RingStore, SLOTS } from '../../src/services/monitoring/ring-store.js';
import { percentile, send } from '../lib/load.js';

const N = Number(process.env.BENCH_INSTANCES ?? 200);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 30);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gureum-bench-metrics-'));
  const base = loadConfig({ dataDir, databaseUrl: 'sqlite', logLevel: 'silent' }, {});
  const config = configWith(base, {
    virt: { driver: 'fake', fake: { hosts: 1, hostName: 'bench-host', vcpus: 4096, memoryMb: 8_000_000 } },
    identity: { passwordHash: { N: 1024, r: 8, p: 1 } },
    image: { tinyImage: false },
    server: { publicUrl: 'http://bench.test' },
    // The bench samples by hand; the timer stays out of the way.
    observability: { sampleIntervalSeconds: 3600 },
  });
  const ctl = await createController(config, { adminPassword: 'bench-admin-pw' });
  try {
    await ctl.server.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(ctl.server.server.address() as AddressInfo).port}`;
    const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
      const r = await send(baseUrl, {
        method,
        path,
        headers,
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return { ...r, json: () => JSON.parse(r.body) };
    };
    const auth = await call(
      'POST',
      '/identity/v3/auth/tokens',
      {},
      {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'bench-admin-pw' } },
          },
          scope: { project: { name: 'admin', domain: { name: 'Default' } } },
        },
      },
    );
    const tok = { 'x-auth-token': String(auth.headers['x-subject-token']) };
    const projectId = auth.json().token.project.id as string;
    await call('PUT', `/compute/v2.1/os-quota-sets/${projectId}`, tok, {
      quota_set: { instances: -1, cores: -1, ram: -1 },
    });
    await call('PUT', `/network/v2.0/quotas/${projectId}`, tok, { quota: { port: -1 } });
    const net = (await call('GET', '/network/v2.0/networks?name=private', tok)).json().networks[0].id as string;
    const img = (
      await call('POST', '/image/v2/images', tok, {
        name: 'bench',
        disk_format: 'raw',
        container_format: 'bare',
        visibility: 'public',
      })
    ).json().id as string;
    await call(
      'PUT',
      `/image/v2/images/${img}/file`,
      { ...tok, 'content-type': 'application/octet-stream' },
      Buffer.alloc(4096).toString('latin1'),
    );
    // The private /24 holds ~250 ports: enough for 200 servers.
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < N) {
          const i = next++;
          const r = await call('POST', '/compute/v2.1/servers', tok, {
            server: { name: `m${i}`, imageRef: img, flavorRef: '42', networks: [{ uuid: net }] },
          });
          if (r.status !== 202) throw new Error(`create: ${r.status} ${r.body.slice(0, 200)}`);
        }
      }),
    );
    await ctl.computeHost!.agent.drain(600_000);
    const running = (await ctl.deps.monitoring.instances()).filter((i) => i.vmState === 'active').length;

    const scrapeToken = readFileSync(join(dataDir, 'metrics-token'), 'utf8').trim();
    const bearer = { authorization: `Bearer ${scrapeToken}` };
    // One warm-up scrape (JIT, first statements), then the measured ones.
    await call('GET', '/metrics', bearer);
    const times: number[] = [];
    let bytes = 0;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < SCRAPES; i++) {
      const t = performance.now();
      const r = await call('GET', '/metrics', bearer);
      times.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`scrape: ${r.status}`);
      bytes = r.body.length;
    }
    const cpu = process.cpuUsage(cpu0);
    const sorted = [...times].sort((a, b) => a - b);
    const series = (await call('GET', '/metrics', bearer)).body.split('\n').filter((l) => l && !l.startsWith('#'));

    const s0 = performance.now();
    const sampled = await ctl.deps.monitoring.sampleOnce();
    const sampleMs = performance.now() - s0;

    // 24 h simulated: every minute of a day recorded for N instances, in a store of its own.
    global.gc?.();
    const heap0 = process.memoryUsage();
    const store = new RingStore(N);
    const t0 = Date.UTC(2026, 11, 7);
    const fields = {
      cpu_percent: 12.5,
      memory_rss_bytes: 64e6,
      disk_read_bytes_per_sec: 1e5,
      disk_write_bytes_per_sec: 5e4,
      disk_read_ops_per_sec: 25,
      disk_write_ops_per_sec: 12,
      net_rx_bytes_per_sec: 2e4,
      net_tx_bytes_per_sec: 1e4,
      net_rx_packets_per_sec: 20,
      net_tx_packets_per_sec: 10,
      net_drops_per_sec: 0,
    };
    const r0 = performance.now();
    for (let m = 0; m < SLOTS; m++) for (let i = 0; i < N; i++) store.record(`inst-${i}`, t0 + m * 60_000, fields);
    const recordMs = performance.now() - r0;
    global.gc?.();
    const heap1 = process.memoryUsage();
    const file = join(dataDir, 'bench-series.bin');
    const w0 = performance.now();
    await store.save(file);
    const saveMs = performance.now() - w0;
    const q0 = performance.now();
    store.range('inst-0', t0, t0 + 86_340_000, ['cpu_percent', 'net_rx_bytes_per_sec']);
    const rangeMs = performance.now() - q0;

    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    console.log(
      `metrics bench: ${running} running fake instances (asked ${N}), load average ${loadavg()[0]!.toFixed(1)}`,
    );
    const p = (q: number) => percentile(sorted, q).toFixed(1);
    const max = sorted[sorted.length - 1]!.toFixed(1);
    console.log(
      `  GET /metrics: ${SCRAPES} scrapes, median ${p(50)} ms, p95 ${p(95)} ms, max ${max} ms; ` +
        `${(bytes / 1024).toFixed(0)} KiB, ${series.length} samples`,
    );
    console.log(
      `  CPU per scrape (server + loopback client): ${((cpu.user + cpu.system) / 1000 / SCRAPES).toFixed(1)} ms`,
    );
    console.log(`  one collector round: ${sampled} instances in ${sampleMs.toFixed(1)} ms`);
    const growth = heap1.heapUsed + heap1.arrayBuffers - heap0.heapUsed - heap0.arrayBuffers;
    console.log(
      `  ring store, 24 h x ${N} instances: typed arrays ${mb(store.bytes())} MiB, heap growth ${mb(growth)} MiB, ` +
        `file ${mb(statSync(file).size)} MiB (saved in ${saveMs.toFixed(0)} ms); ` +
        `${SLOTS * N} records in ${recordMs.toFixed(0)} ms; a 24 h range of 2 fields in ${rangeMs.toFixed(2)} ms`,
    );
  } finally {
    await ctl.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
