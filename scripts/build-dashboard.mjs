#!/usr/bin/env node
// Builds the web dashboard (dashboard/ → dist/dashboard/) when its sources changed: a type check with the
// dashboard's own tsconfig (DOM types stay out of the server's build), then `vite build`. Skipped in well under a
// second when nothing under dashboard/ (nor package-lock.json or the shared state table) is newer than the last build.
//   node scripts/build-dashboard.mjs [--force]

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', 'dashboard', '.built');
/** Files outside dashboard/ that the bundle includes or depends on. */
const EXTRA_INPUTS = ['package-lock.json', 'src/services/compute/states.ts', 'src/errors.ts'];

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newest(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    n = Math.max(n, e.isDirectory() ? newest(p) : mtime(p));
  }
  return n;
}

/** True when the built bundle is older than any of its inputs. */
export function dashboardStale() {
  const built = mtime(STAMP);
  if (!built) return true;
  const inputs = Math.max(newest(join(ROOT, 'dashboard')), ...EXTRA_INPUTS.map((f) => mtime(join(ROOT, f))));
  return inputs > built;
}

function run(args) {
  const res = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: ROOT });
  return res.status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  if (!force && !dashboardStale()) process.exit(0);
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) {
    console.error('build-dashboard: vite is not installed (npm ci)');
    process.exit(1);
  }
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (run([tsc, '-p', 'dashboard/tsconfig.json']) !== 0) process.exit(1);
  if (run([vite, 'build', '--config', 'dashboard/vite.config.ts']) !== 0) process.exit(1);
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}
