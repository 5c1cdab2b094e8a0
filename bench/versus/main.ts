// bench/versus: Gureum beside Debian's Keystone and Glance (openstack.ts), same machine, same run, same load
// generator (bench/lib/load.ts) over loopback HTTP. Prints one table with p50/p99/req/s per side and the ratio.
// Env: BENCH_VERSUS_N (requests per identity line, default 1000), BENCH_VERSUS_PASSWORD_N (password logins per line,
// default 20: Keystone's bcrypt costs seconds each), BENCH_VERSUS_GIB (upload size, default 1),
// BENCH_VERSUS_IMAGES (images for the list, default 1000), BENCH_VERSUS_JSON (write raw results there).
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { runLoad, send, type LoadResult, type RequestSpec } from '../lib/load.js';
import { startBenchServer, type BenchServer } from '../lib/server.js';
import { downloadStream, sampleMax, uploadStream } from '../lib/transfer.js';
import { hashPassword, verifyPassword } from '../../src/services/identity/passwords.js';
import { defaults } from '../../src/config.js';
import { keystoneHashCost, startOpenStack, treeRssMb, type OpenStackSide } from './openstack.js';

const N = Number(process.env.BENCH_VERSUS_N ?? 1000);
const PASSWORD_N = Number(process.env.BENCH_VERSUS_PASSWORD_N ?? 20);
const GIB = Number(process.env.BENCH_VERSUS_GIB ?? 1);
const IMAGES = Number(process.env.BENCH_VERSUS_IMAGES ?? 1000);

/** One side as the load generator sees it: where identity and image live, and who answers. */
interface Side {
  name: string;
  identityUrl: string; // base URL whose /v3 is Keystone's API
  identityPrefix: string;
  imageUrl: string;
  imagePrefix: string;
  adminPassword: string;
  /** Every process serving this side (pids whose trees are summed for RSS). */
  pids(): number[];
}

interface Row {
  what: string;
  conc?: number;
  gureum: LoadResult | number;
  openstack: LoadResult | number;
  /** How the ratio reads: 'higher' (throughput: Gureum ÷ OpenStack), 'lower' (time, memory: OpenStack ÷ Gureum). */
  better: 'higher' | 'lower';
  unit?: string;
}

const rss = (s: Side) => s.pids().reduce((sum, p) => sum + treeRssMb(p), 0);

function passwordBody(password: string): string {
  return JSON.stringify({
    auth: {
      identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } },
      scope: { project: { name: 'admin', domain: { id: 'default' } } },
    },
  });
}

async function login(s: Side): Promise<string> {
  const r = await send(s.identityUrl, {
    method: 'POST',
    path: `${s.identityPrefix}/v3/auth/tokens`,
    body: passwordBody(s.adminPassword),
  });
  if (r.status !== 201) throw new Error(`${s.name}: login answered ${r.status}: ${r.body.slice(0, 300)}`);
  return String(r.headers['x-subject-token']);
}

/**
 * Failed requests are counted in the table (a benchmark of two products should not die on one reset); the first is
 * printed.
 */
function checked(r: LoadResult, side: string): LoadResult {
  if (r.errors > 0)
    console.error(
      `${side}: ${r.name} (concurrency ${r.concurrency}): ${r.errors} of ${r.requests} requests failed; first: ` +
        `${r.firstError}`,
    );
  return r;
}

async function identityLoad(s: Side, token: string, conc: number): Promise<Record<string, LoadResult>> {
  const p = s.identityPrefix;
  const rescope = JSON.stringify({
    auth: {
      identity: { methods: ['token'], token: { id: token } },
      scope: { project: { name: 'admin', domain: { id: 'default' } } },
    },
  });
  const load = (name: string, total: number, make: () => RequestSpec) =>
    runLoad(name, s.identityUrl, conc, total, make).then((r) => checked(r, s.name));
  return {
    password: await load('password auth', PASSWORD_N, () => ({
      method: 'POST',
      path: `${p}/v3/auth/tokens?nocatalog`,
      body: passwordBody(s.adminPassword),
      expect: 201,
    })),
    validate: await load('token validation', N, () => ({
      method: 'GET',
      path: `${p}/v3/auth/tokens?nocatalog`,
      headers: { 'x-auth-token': token, 'x-subject-token': token },
      expect: 200,
    })),
    rescope: await load('token re-scope', N, () => ({
      method: 'POST',
      path: `${p}/v3/auth/tokens?nocatalog`,
      body: rescope,
      expect: 201,
    })),
    projects: await load('GET /v3/projects', N, () => ({
      method: 'GET',
      path: `${p}/v3/projects`,
      headers: { 'x-auth-token': token },
      expect: 200,
    })),
  };
}

interface ImageFigures {
  uploadMBs: number;
  downloadMBs: number;
  rssPeakUploadMb: number;
  create: LoadResult;
  page: LoadResult;
  full: LoadResult;
}

async function imageLoad(s: Side, token: string): Promise<ImageFigures> {
  const h = { 'x-auth-token': token };
  const p = s.imagePrefix;
  const bytes = Math.round(GIB * 1024 ** 3);
  const c = await send(s.imageUrl, {
    method: 'POST',
    path: `${p}/v2/images`,
    headers: h,
    body: JSON.stringify({ name: 'big', disk_format: 'raw', container_format: 'bare' }),
  });
  if (c.status !== 201) throw new Error(`${s.name}: image create answered ${c.status}: ${c.body.slice(0, 300)}`);
  const id = JSON.parse(c.body).id as string;
  const peak = sampleMax(() => rss(s));
  const t0 = process.hrtime.bigint();
  const status = await uploadStream(s.imageUrl, `${p}/v2/images/${id}/file`, token, bytes);
  const upSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const rssPeakUploadMb = peak.stop();
  if (status !== 204) throw new Error(`${s.name}: upload answered ${status}`);
  const t1 = process.hrtime.bigint();
  const got = await downloadStream(s.imageUrl, `${p}/v2/images/${id}/file`, token);
  const downSec = Number(process.hrtime.bigint() - t1) / 1e9;
  if (got !== bytes) throw new Error(`${s.name}: download returned ${got} of ${bytes} bytes`);
  await send(s.imageUrl, { method: 'DELETE', path: `${p}/v2/images/${id}`, headers: h });

  const create = checked(
    await runLoad('image create', s.imageUrl, 4, IMAGES, (i) => ({
      method: 'POST',
      path: `${p}/v2/images`,
      headers: h,
      body: JSON.stringify({ name: `img-${i}`, disk_format: 'qcow2', container_format: 'bare', tags: ['bench'] }),
      expect: 201,
    })),
    s.name,
  );
  await runLoad('warm-up', s.imageUrl, 1, 20, () => ({
    method: 'GET',
    path: `${p}/v2/images`,
    headers: h,
    expect: 200,
  }));
  const page = checked(
    await runLoad(`GET /v2/images (25 of ${IMAGES})`, s.imageUrl, 1, Math.min(N, 500), () => ({
      method: 'GET',
      path: `${p}/v2/images`,
      headers: h,
      expect: 200,
    })),
    s.name,
  );
  const full = checked(
    await runLoad(`GET /v2/images?limit=1000`, s.imageUrl, 1, 20, () => ({
      method: 'GET',
      path: `${p}/v2/images?limit=1000`,
      headers: h,
      expect: 200,
    })),
    s.name,
  );
  return { uploadMBs: bytes / upSec / 1e6, downloadMBs: bytes / downSec / 1e6, rssPeakUploadMb, create, page, full };
}

function fmt(x: number, digits = 1): string {
  if (Number.isNaN(x)) return '–';
  return x >= 100 ? x.toFixed(0) : x.toFixed(digits);
}

function printTable(rows: Row[]): string {
  const out = [
    '| measure | conc. | Gureum p50 ms | p99 ms | req/s | OpenStack p50 ms | p99 ms | req/s | Gureum vs OpenStack | ' +
      'errors G/O |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (typeof r.gureum === 'number' && typeof r.openstack === 'number') {
      const ratio = r.better === 'higher' ? r.gureum / r.openstack : r.openstack / r.gureum;
      const label = r.better === 'higher' ? `${fmt(ratio, 2)}× the rate` : `${fmt(ratio, 2)}× less`;
      out.push(`| ${r.what} | | ${fmt(r.gureum)} ${r.unit} | | | ${fmt(r.openstack)} ${r.unit} | | | ${label} | |`);
      continue;
    }
    const g = r.gureum as LoadResult;
    const o = r.openstack as LoadResult;
    const p99 = (l: LoadResult) => (Number.isNaN(l.p99ms) ? `(max ${fmt(l.maxms)})` : fmt(l.p99ms, 2));
    out.push(
      `| ${r.what} | ${r.conc ?? ''} | ${fmt(g.p50ms, 2)} | ${p99(g)} | ${fmt(g.reqPerSec)} | ${fmt(o.p50ms, 2)} | ` +
        `${p99(o)} | ${fmt(o.reqPerSec)} | ${fmt(g.reqPerSec / o.reqPerSec, 2)}× req/s | ${g.errors}/${o.errors} |`,
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  const load0 = loadavg();
  // Hash cost, each in its own code: Gureum's scrypt in this process, Keystone's bcrypt in its Python.
  const g0 = process.hrtime.bigint();
  const stored = await hashPassword('correct horse battery staple', defaults.identity.passwordHash);
  const gHashMs = Number(process.hrtime.bigint() - g0) / 1e6;
  const g1 = process.hrtime.bigint();
  await verifyPassword('correct horse battery staple', stored);
  const gVerifyMs = Number(process.hrtime.bigint() - g1) / 1e6;
  const kHash = keystoneHashCost();

  let gureum: BenchServer | undefined;
  let openstack: OpenStackSide | undefined;
  // uWSGI runs in its own process groups (a terminal's Ctrl-C does not reach it): stop everything on a signal too.
  const cleanup = async () => {
    await openstack?.stop().catch((e) => console.error('stopping OpenStack:', e));
    await gureum?.stop().catch((e) => console.error('stopping Gureum:', e));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      void cleanup().finally(() => process.exit(130));
    });
  try {
    gureum = await startBenchServer();
    const gFreshStartMs = gureum.startMs;
    const gRestartMs = await gureum.restart();
    const os0 = process.hrtime.bigint();
    openstack = await startOpenStack();
    const osSetupSec = Number(process.hrtime.bigint() - os0) / 1e9;
    const kRestartMs = await openstack.restartKeystone();
    const g = gureum;
    const o = openstack;
    const gSide: Side = {
      name: 'Gureum',
      identityUrl: g.baseUrl,
      identityPrefix: '/identity',
      imageUrl: g.baseUrl,
      imagePrefix: '/image',
      adminPassword: g.adminPassword,
      pids: () => [g.pid],
    };
    const oSide: Side = {
      name: 'OpenStack',
      identityUrl: o.keystone.baseUrl,
      identityPrefix: '',
      imageUrl: o.glance.baseUrl,
      imagePrefix: '',
      adminPassword: o.adminPassword,
      pids: () => [o.keystone.pid, o.glance.pid],
    };
    const gToken = await login(gSide);
    const oToken = await login(oSide);
    // Idle: both just started and answered one login; the Python side also has its workers forked.
    const idle = { gureum: rss(gSide), keystone: treeRssMb(o.keystone.pid), glance: treeRssMb(o.glance.pid) };

    const rows: Row[] = [];
    for (const conc of [1, 16]) {
      const gi = await identityLoad(gSide, gToken, conc);
      const oi = await identityLoad(oSide, oToken, conc);
      for (const k of ['password', 'validate', 'rescope', 'projects'] as const)
        rows.push({ what: gi[k]!.name, conc, gureum: gi[k]!, openstack: oi[k]!, better: 'higher' });
    }
    const gImg = await imageLoad(gSide, gToken);
    const oImg = await imageLoad(oSide, oToken);
    rows.push({
      what: `image create (conc. 4, ${IMAGES})`,
      conc: 4,
      gureum: gImg.create,
      openstack: oImg.create,
      better: 'higher',
    });
    rows.push({ what: gImg.page.name, conc: 1, gureum: gImg.page, openstack: oImg.page, better: 'higher' });
    rows.push({ what: gImg.full.name, conc: 1, gureum: gImg.full, openstack: oImg.full, better: 'higher' });
    rows.push({
      what: `upload ${GIB} GiB`,
      gureum: gImg.uploadMBs,
      openstack: oImg.uploadMBs,
      better: 'higher',
      unit: 'MB/s',
    });
    rows.push({
      what: `download ${GIB} GiB`,
      gureum: gImg.downloadMBs,
      openstack: oImg.downloadMBs,
      better: 'higher',
      unit: 'MB/s',
    });
    const after = { gureum: rss(gSide), keystone: treeRssMb(o.keystone.pid), glance: treeRssMb(o.glance.pid) };
    rows.push({
      what: 'RSS idle (identity + image)',
      gureum: idle.gureum,
      openstack: idle.keystone + idle.glance,
      better: 'lower',
      unit: 'MB',
    });
    rows.push({
      what: 'RSS peak during the upload',
      gureum: gImg.rssPeakUploadMb,
      openstack: oImg.rssPeakUploadMb,
      better: 'lower',
      unit: 'MB',
    });
    rows.push({
      what: 'RSS after the run',
      gureum: after.gureum,
      openstack: after.keystone + after.glance,
      better: 'lower',
      unit: 'MB',
    });
    rows.push({
      what: 'start on existing data to first 200 (Keystone alone)',
      gureum: gRestartMs,
      openstack: kRestartMs,
      better: 'lower',
      unit: 'ms',
    });
    rows.push({
      what: 'start to first 200: Gureum fresh data dir / Glance',
      gureum: gFreshStartMs,
      openstack: o.glance.startMs,
      better: 'lower',
      unit: 'ms',
    });

    const load1 = loadavg();
    const lines = [
      `## bench/versus ${started.toISOString()} → ${new Date().toISOString()}`,
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GB; load ` +
        `average at start ${load0.map((l) => l.toFixed(2)).join(' ')}, at end ` +
        `${load1.map((l) => l.toFixed(2)).join(' ')}`,
      `OpenStack: Debian python3-keystone + python3-glance under uWSGI (${2 * cpus().length} processes × 32 threads ` +
        `each), fernet, SQLite, file store; set up in ${osSetupSec.toFixed(0)} s`,
      `Gureum: one \`gureum up\` (npm start's Node flags), SQLite. Requests per identity line ${N}, password logins ` +
        `${PASSWORD_N}; p99 only from ≥1000 samples, else (max).`,
      '',
      printTable(rows),
      '',
      `password hash, one call each: Gureum scrypt N=${defaults.identity.passwordHash.N} ` +
        `r=${defaults.identity.passwordHash.r} p=${defaults.identity.passwordHash.p}: hash ${gHashMs.toFixed(0)} ` +
        `ms, verify ${gVerifyMs.toFixed(0)} ms; ` +
        `Keystone ${kHash.algorithm}: hash ${kHash.hashMs.toFixed(0)} ms, verify ${kHash.verifyMs.toFixed(0)} ms`,
      `RSS idle: Gureum ${idle.gureum.toFixed(0)} MB; Keystone ${idle.keystone.toFixed(0)} MB + Glance ` +
        `${idle.glance.toFixed(0)} MB. After: Gureum ${after.gureum.toFixed(0)} MB; Keystone ` +
        `${after.keystone.toFixed(0)} MB + Glance ${after.glance.toFixed(0)} MB`,
    ];
    console.log(lines.join('\n'));
    if (process.env.BENCH_VERSUS_JSON)
      writeFileSync(
        process.env.BENCH_VERSUS_JSON,
        `${JSON.stringify({ rows, idle, after, kHash, gHashMs, gVerifyMs, load0, load1 }, null, 2)}\n`,
      );
  } finally {
    await cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
