#!/usr/bin/env node
// Runs the compiled tests: `node scripts/run-tests.mjs [--only unit,api,compat] [--no-pg] [FILTER...]`.
//
// Collects dist/test/<folder>/**/*.test.js (Node 20's `--test` takes no globs), starts a throwaway
// PostgreSQL cluster for the store's second dialect unless GUREUM_TEST_PG_URL is already set, runs
// `node --test` over the files with the TAP reporter (its `# pass N` / `# fail N` summary ends the
// output), then stops and deletes the cluster, also on failure and on SIGINT/SIGTERM.
//
// Options:
//   --only a,b        top-level test/ folders to run (default: all but helpers)
//   --no-pg           do not start PostgreSQL (tests that need it skip, or fail under CI=true)
//   --concurrency N   test files run in parallel (default 2)
//   --timeout MS      per-test timeout (default 600000)
//   --reporter R      node test reporter (default tap)
//   FILTER...         only files whose path contains one of these strings
//
// Plain Node with builtins only, like prepare.mjs.

import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  appendFileSync,
  readFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEST_DIST = join(ROOT, 'dist', 'test');
/** Folders under test/ that hold support code, not tests. */
const NOT_TESTS = new Set(['helpers']);

function log(message) {
  console.log(`run-tests: ${message}`);
}

function parseArgs(argv) {
  const opts = { only: null, pg: true, concurrency: 2, timeout: 600_000, reporter: 'tap', filters: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (name) {
      case '--only':
        opts.only = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--no-pg':
        opts.pg = false;
        break;
      case '--concurrency':
        opts.concurrency = Number(value());
        break;
      case '--timeout':
        opts.timeout = Number(value());
        break;
      case '--reporter':
        opts.reporter = value();
        break;
      case '-h':
      case '--help':
        console.log(
          readFileSync(fileURLToPath(import.meta.url), 'utf8')
            .split('\n')
            .slice(1, 17)
            .join('\n'),
        );
        process.exit(0);
        break;
      default:
        if (arg.startsWith('--')) {
          console.error(`run-tests: unknown option ${arg}`);
          process.exit(2);
        }
        opts.filters.push(arg);
    }
  }
  return opts;
}

/** All *.test.js files below dir, sorted. */
function collect(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...collect(path));
    else if (entry.name.endsWith('.test.js')) out.push(path);
  }
  return out.sort();
}

function selectFiles(opts) {
  if (!existsSync(TEST_DIST)) {
    console.error('run-tests: dist/test is missing: run `npm run build` (or `npm test`, which builds) first');
    process.exit(1);
  }
  const folders = readdirSync(TEST_DIST, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !NOT_TESTS.has(e.name))
    .map((e) => e.name);
  if (opts.only) {
    const unknown = opts.only.filter((f) => !folders.includes(f));
    if (unknown.length > 0) log(`no compiled tests in test/${unknown.join(', test/')} (skipped)`);
  }
  const chosen = opts.only ? folders.filter((f) => opts.only.includes(f)) : folders;
  let files = chosen.flatMap((f) => collect(join(TEST_DIST, f)));
  if (opts.filters.length > 0) files = files.filter((f) => opts.filters.some((s) => f.includes(s)));
  return files;
}

/** Warns when a test source is newer than its compiled file (test:unit does not build). */
function warnIfStale(files) {
  const stale = files.filter((js) => {
    const ts = join(ROOT, relative(join(ROOT, 'dist'), js).replace(/\.js$/, '.ts'));
    try {
      return statSync(ts).mtimeMs > statSync(js).mtimeMs;
    } catch {
      return false;
    }
  });
  if (stale.length > 0) log(`warning: ${stale.length} test file(s) older than their .ts source: run \`npm run build\``);
}

// ---------------------------------------------------------------------------------------------
// Throwaway PostgreSQL cluster

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The newest installed PostgreSQL's bin directory, or null. */
function findPgBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(base, versions[0], 'bin') : null;
}

function userIds(name) {
  const res = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gres = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (res.status !== 0 || gres.status !== 0) return null;
  return { uid: Number(res.stdout.trim()), gid: Number(gres.stdout.trim()) };
}

/** A cluster owned by `postgres` (when root) or by the current user, or a reason it cannot start. */
class ThrowawayPostgres {
  dir = null;
  started = false;

  async start() {
    const bin = findPgBin();
    if (!bin)
      return { error: 'PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)' };
    const root = process.getuid?.() === 0;
    let owner = null;
    if (root) {
      owner = userIds('postgres');
      if (!owner) return { error: 'running as root but there is no `postgres` user to own the cluster' };
    }
    this.bin = bin;
    this.asOwner = (cmd, args) =>
      root ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];

    this.dir = mkdtempSync(join(tmpdir(), 'gureum-pg-'));
    if (owner) chownSync(this.dir, owner.uid, owner.gid);
    const data = join(this.dir, 'data');
    const port = await freePort();

    const init = this.#run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    if (init.status !== 0) return { error: `initdb failed: ${tail(init)}` };
    // Settings go into the file rather than through pg_ctl -o, which pg_ctl hands to a shell.
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        '',
        '# throwaway test cluster (scripts/run-tests.mjs)',
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        `unix_socket_directories = '${this.dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 200',
        '',
      ].join('\n'),
    );
    const logFile = join(this.dir, 'postgres.log');
    const start = this.#run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', 'start']);
    this.started = true; // even a half-started server must be stopped
    if (start.status !== 0) {
      let serverLog = '';
      try {
        serverLog = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
      } catch {}
      return { error: `pg_ctl start failed: ${tail(start)}\n${serverLog}` };
    }
    const create = spawnSync(
      join(bin, 'createdb'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'gureum_test'],
      {
        encoding: 'utf8',
      },
    );
    if (create.status !== 0) return { error: `createdb failed: ${tail(create)}` };
    return { url: `postgres://postgres@127.0.0.1:${port}/gureum_test` };
  }

  /** Stops and deletes the cluster. Synchronous so it can run from signal and exit handlers. */
  stop() {
    if (!this.dir) return;
    if (this.started) {
      this.#run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', '-t', '20', 'stop']);
      this.started = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  #run(cmd, args) {
    const [file, argv] = this.asOwner(cmd, args);
    // cwd: the postgres user may not be able to enter the caller's directory.
    return spawnSync(file, argv, { encoding: 'utf8', cwd: this.dir ?? '/' });
  }
}

function tail(res) {
  const text = `${res.stdout ?? ''}${res.stderr ?? ''}${res.error ? res.error.message : ''}`.trim();
  return text.split('\n').slice(-10).join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const files = selectFiles(opts);
  if (files.length === 0) {
    log(`no test files selected${opts.only ? ` (--only ${opts.only.join(',')})` : ''}`);
    console.log('# tests 0\n# pass 0\n# fail 0');
    return 0;
  }
  warnIfStale(files);

  const env = { ...process.env };
  const pg = new ThrowawayPostgres();
  let child = null;
  let signalled = null;
  const cleanup = () => pg.stop();
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      signalled = sig;
      log(`${sig}: stopping tests and PostgreSQL`);
      if (child && child.exitCode === null) child.kill(sig);
      else {
        cleanup();
        process.exit(130);
      }
    });
  }

  if (env.GUREUM_TEST_PG_URL) {
    log(`PostgreSQL: using GUREUM_TEST_PG_URL from the environment`);
  } else if (!opts.pg) {
    log('PostgreSQL: not started (--no-pg); PostgreSQL tests will skip (or fail under CI=true)');
  } else {
    const t0 = Date.now();
    const res = await pg.start();
    if (res.url) {
      env.GUREUM_TEST_PG_URL = res.url;
      log(`PostgreSQL: throwaway cluster at ${res.url} (${Date.now() - t0} ms)`);
    } else {
      pg.stop();
      log(`PostgreSQL: not available, its tests will skip (or fail under CI=true): ${res.error}`);
    }
  }

  const args = [
    '--test',
    `--test-concurrency=${opts.concurrency}`,
    `--test-timeout=${opts.timeout}`,
    `--test-reporter=${opts.reporter}`,
    '--enable-source-maps',
    ...files.map((f) => relative(ROOT, f).split(sep).join('/')),
  ];
  log(`${files.length} test file(s): node ${args.slice(0, 5).join(' ')} ...`);
  child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
  const code = await new Promise((resolve) => {
    child.on('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
    child.on('error', (err) => {
      console.error(`run-tests: could not start node --test: ${err.message}`);
      resolve(1);
    });
  });
  cleanup();
  if (signalled) return 130;
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
