// bench/network: port creation on one /16 against a real `gureum up` (SQLite, or PostgreSQL with
// GUREUM_DATABASE_URL): latency with 0, 10k and 50k ports already allocated, then 32 concurrent creators,
// then a check that no address was handed out twice. BENCH_N = measured creates per step (default 300).
import { runLoad, send, rssMb, table, type LoadResult } from '../lib/load.js';
import { startBenchServer } from '../lib/server.js';

const N = Number(process.env.BENCH_N ?? 300);
const FILL = [0, 10_000, 50_000];
const BULK = 500;

async function main() {
  const srv = await startBenchServer();
  try {
    const pwBody = JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: srv.adminPassword } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    });
    const auth = await send(srv.baseUrl, { method: 'POST', path: '/identity/v3/auth/tokens', body: pwBody });
    const token = String(auth.headers['x-subject-token']);
    const projectId = JSON.parse(auth.body).token.project.id as string;
    const h = { 'x-auth-token': token };
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await send(srv.baseUrl, {
        method,
        path: `/network/v2.0${path}`,
        headers: h,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
      return r.body ? JSON.parse(r.body) : undefined;
    };
    await call('PUT', `/quotas/${projectId}`, { quota: { port: -1 } });
    const net = (await call('POST', '/networks', { network: { name: 'bench' } })).network.id as string;
    await call('POST', '/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '10.128.0.0/16' } });
    const portBody = JSON.stringify({ port: { network_id: net } });
    const create = () => ({ method: 'POST', path: '/network/v2.0/ports', headers: h, body: portBody, expect: 201 });

    const rows: LoadResult[] = [];
    let allocated = 0;
    for (const target of FILL) {
      // Fill with bulk creates (not measured) up to the target, counting what the measured steps added.
      while (allocated < target) {
        const n = Math.min(BULK, target - allocated);
        await call('POST', '/ports', { ports: Array.from({ length: n }, () => ({ network_id: net })) });
        allocated += n;
      }
      const r = await runLoad(`port create, ${target.toLocaleString('en')} allocated`, srv.baseUrl, 1, N, create);
      rows.push(r);
      allocated += N;
    }
    const conc = await runLoad(
      `port create, 32 concurrent, ${allocated.toLocaleString('en')}+ allocated`,
      srv.baseUrl,
      32,
      Math.max(N * 4, 1000),
      create,
    );
    rows.push(conc);
    allocated += conc.requests;

    // Zero duplicates: every fixed IP on the network, counted.
    const avail = await call('GET', `/network-ip-availabilities/${net}`);
    const ports = await call('GET', `/ports?network_id=${net}&fields=fixed_ips`);
    const ips = (ports.ports as { fixed_ips: { ip_address: string }[] }[]).flatMap((p) =>
      p.fixed_ips.map((f) => f.ip_address),
    );
    const unique = new Set(ips).size;
    const errors = rows.reduce((n, r) => n + r.errors, 0);

    console.log('## bench/network');
    console.log(table(rows));
    console.log(
      `\nports on the /16: ${ips.length}, distinct IPs: ${unique}, duplicates: ${ips.length - unique}, used_ips ` +
        `(ip-availability): ${avail.network_ip_availability.used_ips}, request errors: ${errors}`,
    );
    console.log(`server RSS: ${rssMb(srv.pid).toFixed(0)} MB`);
    if (ips.length !== unique || errors) process.exitCode = 1;
  } finally {
    await srv.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
