// `npm run bench [-- NAME ...]`: runs every bench/<name>/main.js (or the named ones), one child process each.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'main.js')))
  .map((d) => d.name).sort();
const chosen = wanted.length ? wanted : all;
let failed = 0;
for (const name of chosen) {
  if (!all.includes(name)) { console.error(`bench: no benchmark "${name}" (have: ${all.join(', ')})`); failed++; continue; }
  console.log(`\n=== bench/${name}`);
  const r = spawnSync(process.execPath, [join(here, name, 'main.js')], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
