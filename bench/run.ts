// `npm run bench [-- NAME ...]`: runs every bench/<name>/main.js (or the named ones), one child process each.
// bench/versus runs only when named: it installs Debian's Keystone and Glance first (scripts/packages.mjs "versus").
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from './lib/server.js';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'main.js')))
  .map((d) => d.name)
  .sort();
/** Benchmarks that need more than the `bench` purpose's packages, run only when named. */
const ON_REQUEST: Record<string, string> = { versus: 'versus' };
const chosen = wanted.length ? wanted : all.filter((n) => !(n in ON_REQUEST));
if (!wanted.length)
  console.log(`bench: ${Object.keys(ON_REQUEST).join(', ')} only when named (npm run bench -- versus)`);
for (const name of chosen) {
  const purpose = ON_REQUEST[name];
  if (!purpose) continue;
  const prep = spawnSync(process.execPath, [join(here, '..', '..', 'scripts', 'prepare.mjs'), '--for', purpose], {
    stdio: 'inherit',
  });
  if (prep.status !== 0) process.exit(1);
}
let failed = 0;
for (const name of chosen) {
  if (!all.includes(name)) {
    console.error(`bench: no benchmark "${name}" (have: ${all.join(', ')})`);
    failed++;
    continue;
  }
  console.log(`\n=== bench/${name}`);
  // In-process benchmarks run with the same Node flags and malloc setting as `npm start`, so they measure what users
  // run.
  const r = spawnSync(process.execPath, [...NODE_FLAGS, join(here, name, 'main.js')], {
    stdio: 'inherit',
    env: { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env },
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
