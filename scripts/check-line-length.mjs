#!/usr/bin/env node
// The 120-character line limit for the code Biome checks (src/, test/, bench/, scripts/). Biome's formatter keeps
// code within 120 but leaves long string literals and comments alone; this check catches those. Allowed: a line
// holding a URL (it cannot be broken), and the lines counted per file in scripts/line-length-baseline.json, which
// lists what was long when the check came in and may only shrink. Run by `npm run check`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIMIT = 120;
const root = join(fileURLToPath(import.meta.url), '..', '..');
const roots = [
  ['src', '.ts'],
  ['test', '.ts'],
  ['bench', '.ts'],
  ['scripts', '.mjs'],
];
const baseline = JSON.parse(readFileSync(join(root, 'scripts', 'line-length-baseline.json'), 'utf8'));

function* files(dir, ext) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p, ext);
    else if (e.name.endsWith(ext)) yield p;
  }
}

const over = [];
let shrinkable = 0;
for (const [dir, ext] of roots) {
  for (const file of files(join(root, dir), ext)) {
    const rel = relative(root, file).split('\\').join('/');
    const long = readFileSync(file, 'utf8')
      .split('\n')
      .map((text, i) => ({ line: i + 1, text }))
      .filter(({ text }) => text.length > LIMIT && !/https?:\/\//.test(text));
    const allowed = baseline[rel] ?? 0;
    if (long.length > allowed) over.push({ rel, long, allowed });
    else if (long.length < allowed) shrinkable += allowed - long.length;
  }
}
for (const { rel, long, allowed } of over) {
  const what = allowed ? `${long.length} lines over ${LIMIT} characters (the baseline allows ${allowed})` : '';
  if (what) console.error(`${rel}: ${what}:`);
  for (const { line, text } of long) console.error(`${rel}:${line}: ${text.length} characters`);
}
if (shrinkable)
  console.log(`line length: ${shrinkable} baseline line(s) fixed; lower scripts/line-length-baseline.json`);
if (over.length) {
  console.error(`line length: break the lines above (string concatenation, shorter wording, comments re-wrapped)`);
  process.exit(1);
}
