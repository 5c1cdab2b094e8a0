// bench/image: upload and download throughput of a large image against dd on the same disk in the same run,
// peak server RSS during the upload, and GET /v2/images latency with 1,000 images.
// Env: BENCH_IMAGE_GIB (sizes to upload, comma-separated, default "0.5,2": peak RSS must not grow with size),
// BENCH_IMAGE_LIST (default 1000 images), BENCH_IMAGE_JSON (write results there).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startBenchServer } from '../lib/server.js';
import { runLoad, send } from '../lib/load.js';
import { downloadStream, uploadStream } from '../lib/transfer.js';

const SIZES_GIB = (process.env.BENCH_IMAGE_GIB ?? '0.5,2').split(',').map(Number);
const GIB = Math.max(...SIZES_GIB);
const BYTES = Math.round(GIB * 1024 ** 3);
const LIST_IMAGES = Number(process.env.BENCH_IMAGE_LIST ?? 1000);
const MiB = 1024 * 1024;

/** dd with a final fdatasync (what the store does before it renames), and a read back; MB/s from dd's own timing. */
function dd(args: string[]): number {
  const r = spawnSync('dd', args, { encoding: 'utf8' });
  const m = /(\d+) bytes .* copied, ([\d.]+) s/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`dd failed: ${r.stderr}`);
  return Number(m[1]) / Number(m[2]) / 1e6;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const server = await startBenchServer();
  const results: Record<string, unknown> = { gib: SIZES_GIB, listImages: LIST_IMAGES };
  try {
    const auth = await send(server.baseUrl, {
      method: 'POST',
      path: '/identity/v3/auth/tokens',
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: server.adminPassword } },
          },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    const token = String(auth.headers['x-subject-token']);
    const h = { 'x-auth-token': token };

    // Raw disk speed in the same directory the store writes to.
    const ddFile = join(server.dataDir, 'images', 'dd-bench.bin');
    const ddWrite = dd(['if=/dev/zero', `of=${ddFile}`, 'bs=1M', `count=${Math.round(BYTES / MiB)}`, 'conv=fdatasync']);
    const ddRead = dd([`if=${ddFile}`, 'of=/dev/null', 'bs=1M']);
    rmSync(ddFile, { force: true });
    results.ddWriteMBs = ddWrite;
    results.ddReadMBs = ddRead;

    // Upload with md5 + sha512 computed in the same pass, fsync and rename; sample RSS meanwhile. Each size in turn,
    // smallest first; the throughput compared with dd is the largest size's (the size dd wrote).
    const uploads: { gib: number; MBs: number; rssBeforeMb: number; rssPeakMb: number }[] = [];
    let id = '';
    for (const gib of [...SIZES_GIB].sort((a, b) => a - b)) {
      if (id) await send(server.baseUrl, { method: 'DELETE', path: `/image/v2/images/${id}`, headers: h });
      const bytes = Math.round(gib * 1024 ** 3);
      const c = await send(server.baseUrl, {
        method: 'POST',
        path: '/image/v2/images',
        headers: h,
        body: JSON.stringify({ name: `big-${gib}`, disk_format: 'raw', container_format: 'bare' }),
      });
      id = JSON.parse(c.body).id as string;
      const rssBefore = rssMb(server.pid);
      let peak = rssBefore;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMb(server.pid));
      }, 20);
      const t0 = process.hrtime.bigint();
      const status = await uploadStream(server.baseUrl, `/image/v2/images/${id}/file`, token, bytes);
      const upSec = Number(process.hrtime.bigint() - t0) / 1e9;
      clearInterval(sampler);
      if (status !== 204) throw new Error(`upload answered ${status}`);
      uploads.push({ gib, MBs: bytes / upSec / 1e6, rssBeforeMb: rssBefore, rssPeakMb: peak });
    }
    const largest = uploads[uploads.length - 1]!;
    results.uploads = uploads;
    results.uploadMBs = largest.MBs;
    results.uploadVsDd = largest.MBs / ddWrite;
    results.rssBeforeMb = largest.rssBeforeMb;
    results.rssPeakUploadMb = Math.max(...uploads.map((u) => u.rssPeakMb));

    const t1 = process.hrtime.bigint();
    const got = await downloadStream(server.baseUrl, `/image/v2/images/${id}/file`, token);
    const downSec = Number(process.hrtime.bigint() - t1) / 1e9;
    if (got !== BYTES) throw new Error(`download returned ${got} bytes`);
    results.downloadMBs = BYTES / downSec / 1e6;
    results.downloadVsDd = (results.downloadMBs as number) / ddRead;
    await send(server.baseUrl, { method: 'DELETE', path: `/image/v2/images/${id}`, headers: h });

    // 1,000 images, then GET /v2/images (first page of 25, Glance's default) and the full list in one page.
    const created = await runLoad('create images', server.baseUrl, 4, LIST_IMAGES, (i) => ({
      method: 'POST',
      path: '/image/v2/images',
      headers: h,
      body: JSON.stringify({
        name: `img-${i}`,
        disk_format: 'qcow2',
        container_format: 'bare',
        tags: ['bench'],
        os_distro: 'debian',
      }),
      expect: 201,
    }));
    // A list benchmark over fewer images than claimed would overstate: every create must have succeeded.
    if (created.errors > 0) throw new Error(`${created.errors} of ${LIST_IMAGES} image creates failed`);
    await runLoad('warm-up', server.baseUrl, 1, 200, () => ({
      method: 'GET',
      path: '/image/v2/images',
      headers: h,
      expect: 200,
    }));
    const page = await runLoad('GET /v2/images (25 of 1000)', server.baseUrl, 1, 2000, () => ({
      method: 'GET',
      path: '/image/v2/images',
      headers: h,
      expect: 200,
    }));
    const full = await runLoad('GET /v2/images?limit=1000', server.baseUrl, 1, 50, () => ({
      method: 'GET',
      path: '/image/v2/images?limit=1000',
      headers: h,
      expect: 200,
    }));
    const filtered = await runLoad('GET /v2/images?os_distro=debian&sort=name:asc', server.baseUrl, 1, 500, () => ({
      method: 'GET',
      path: '/image/v2/images?os_distro=debian&sort=name:asc',
      headers: h,
      expect: 200,
    }));
    for (const l of [page, full, filtered])
      if (l.errors > 0) throw new Error(`${l.name}: ${l.errors} of ${l.requests} requests failed`);
    results.list = { page, full, filtered };
    results.rssEndMb = rssMb(server.pid);
  } finally {
    await server.stop();
  }
  const r = results as Record<string, any>;
  const f = (n: number) => n.toFixed(1);
  console.log(
    `image sizes ${SIZES_GIB.join(', ')} GiB on ${process.platform}, ${new Date().toISOString()}, ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  console.log(`dd write (fdatasync) ${f(r.ddWriteMBs)} MB/s, dd read ${f(r.ddReadMBs)} MB/s (${GIB} GiB)`);
  for (const u of r.uploads)
    console.log(
      `upload ${u.gib} GiB: ${f(u.MBs)} MB/s, server RSS ${f(u.rssBeforeMb)} MB before, peak ${f(u.rssPeakMb)} MB`,
    );
  console.log(
    `upload   ${f(r.uploadMBs)} MB/s (${(r.uploadVsDd * 100).toFixed(0)}% of dd write) with md5+sha512 (two ` +
      `threads), fsync, inspection`,
  );
  console.log(`download ${f(r.downloadMBs)} MB/s (${(r.downloadVsDd * 100).toFixed(0)}% of dd read)`);
  console.log(
    `server RSS: ${f(r.rssBeforeMb)} MB before upload, peak ${f(r.rssPeakUploadMb)} MB during upload, ` +
      `${f(r.rssEndMb)} MB at end`,
  );
  for (const l of [r.list.page, r.list.full, r.list.filtered]) {
    const tail = Number.isNaN(l.p99ms) ? '' : `p99 ${l.p99ms.toFixed(2)} ms, `;
    console.log(
      `${l.name}: p50 ${l.p50ms.toFixed(2)} ms, ${tail}max ${l.maxms.toFixed(2)} ms (${l.requests} requests), ` +
        `${l.reqPerSec.toFixed(0)} req/s, ${l.errors} errors`,
    );
  }
  if (process.env.BENCH_IMAGE_JSON)
    writeFileSync(process.env.BENCH_IMAGE_JSON, `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
