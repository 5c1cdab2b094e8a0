#!/usr/bin/env node
// Makes this machine ready for one purpose: `node scripts/prepare.mjs --for start|test|tempest|bench`.
//
// Steps, each skipped when already satisfied:
// 1. Debian packages the purpose needs, declared in scripts/packages.mjs (installed with apt-get when root, else the
// command is printed).
//   2. `npm ci` when node_modules is missing or older than package-lock.json.
//   3. `npm run build` when a .ts file under src/, test/ or bench/ is newer than dist/.tsbuildinfo, or the web
//      dashboard's sources (dashboard/) are newer than its last bundle (scripts/build-dashboard.mjs decides).
//
// Plain Node with builtins only: it runs before node_modules exists.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PURPOSES, packagesFor } from './packages.mjs';
import { dashboardStale } from './build-dashboard.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Source folders whose .ts files tsc compiles into dist/. */
const SOURCE_DIRS = ['src', 'test', 'bench'];

function log(message) {
  console.log(`prepare: ${message}`);
}

function fail(message) {
  console.error(`prepare: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  let purpose = 'start';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--for') purpose = argv[++i] ?? '';
    else if (arg.startsWith('--for=')) purpose = arg.slice('--for='.length);
    else if (arg === '-h' || arg === '--help') {
      console.log(`usage: node scripts/prepare.mjs --for ${Object.keys(PURPOSES).join('|')}`);
      process.exit(0);
    } else fail(`unknown argument ${arg}`);
  }
  if (!(purpose in PURPOSES)) fail(`unknown purpose "${purpose}" (one of ${Object.keys(PURPOSES).join(', ')})`);
  return purpose;
}

/** Runs a command with inherited stdio; exits when it fails. */
function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (res.error) fail(`${cmd} could not run: ${res.error.message}`);
  return res.status ?? 1;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Step 1: Debian packages. Returns the names that are not installed. */
function missingPackages(packages) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format, not a JS template
  const res = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...packages], { encoding: 'utf8' });
  if (res.error) return null; // no dpkg: not a Debian system
  const installed = new Set();
  for (const line of res.stdout.split('\n')) {
    const [name, ...status] = line.trim().split(/\s+/);
    if (name && status.join(' ') === 'install ok installed') installed.add(name.split(':')[0]);
  }
  return packages.filter((p) => !installed.has(p));
}

function ensurePackages(purpose) {
  const packages = packagesFor(purpose);
  const missing = missingPackages(packages);
  if (missing === null) {
    log(`dpkg-query not found (not Debian?): make sure these are installed: ${packages.join(' ')}`);
    return;
  }
  if (missing.length === 0) return;
  if (!isRoot()) {
    fail(
      `missing Debian packages for "${purpose}": ${missing.join(' ')}\n` +
        `run:  sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update'], { env }) !== 0) fail('apt-get update failed');
  if (run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env }) !== 0) {
    fail(`apt-get install failed for: ${missing.join(' ')}`);
  }
  const still = missingPackages(missing) ?? [];
  if (still.length > 0) fail(`still not installed after apt-get: ${still.join(' ')}`);
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** Step 2: node_modules. npm writes node_modules/.package-lock.json on every install. */
function ensureNodeModules() {
  const lock = join(ROOT, 'package-lock.json');
  const hasLock = existsSync(lock);
  const reference = hasLock ? mtime(lock) : mtime(join(ROOT, 'package.json'));
  const installed = mtime(join(ROOT, 'node_modules', '.package-lock.json')) ?? mtime(join(ROOT, 'node_modules'));
  if (installed !== null && reference !== null && installed >= reference) return;
  const args = hasLock ? ['ci'] : ['install'];
  log(
    installed === null
      ? `node_modules missing: npm ${args[0]}`
      : `node_modules older than ${hasLock ? 'package-lock.json' : 'package.json'}: npm ${args[0]}`,
  );
  if (run('npm', args) !== 0) fail(`npm ${args[0]} failed`);
}

/** Newest mtime of any .ts file below dir (skipping node_modules and dot folders). */
function newestTs(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestTs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, mtime(path) ?? 0);
  }
  return newest;
}

/** Step 3: dist/. A failed type check still emits JavaScript; only CI treats it as fatal. */
function ensureBuild() {
  const buildInfo = join(ROOT, 'dist', '.tsbuildinfo');
  const built = mtime(buildInfo);
  const newest = Math.max(...SOURCE_DIRS.map((d) => newestTs(join(ROOT, d))), mtime(join(ROOT, 'tsconfig.json')) ?? 0);
  if (built !== null && built >= newest && !dashboardStale()) return;
  log(built === null ? 'dist/ missing: npm run build' : 'sources newer than dist/: npm run build');
  const status = run('npm', ['run', '--silent', 'build']);
  if (status === 0) {
    // tsc leaves .tsbuildinfo alone when nothing changed; touch it so the next check is quick.
    if (existsSync(buildInfo)) {
      const now = new Date();
      utimesSync(buildInfo, now, now);
    }
    return;
  }
  // Mark dist/ stale so the next run type-checks again and shows the errors again.
  if (existsSync(buildInfo)) utimesSync(buildInfo, new Date(0), new Date(0));
  if (process.env.CI === 'true') fail('type errors (see above)');
  log('type errors (see above); dist/ was emitted anyway, continuing (CI=true makes this fatal)');
}

const purpose = parseArgs(process.argv.slice(2));
ensurePackages(purpose);
ensureNodeModules();
ensureBuild();
