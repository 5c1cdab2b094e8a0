// Settings come from the typed config and the host environment from one start-up snapshot
// (src/config/process-env.ts): a new `process.env` read anywhere else in src/ fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileWriter, repoRoot } from '../../helpers/source-tree.js';

/** The files allowed to read process.env: the config loader (and its folder) and the CLI entry. */
const ALLOWED = (rel: string) => rel === 'src/config.ts' || rel.startsWith('src/config/') || rel === 'src/cli/main.ts';

/** `process.env`, `process['env']`, `const { env } = process` (comments stripped first, so prose may name it). */
const READS = [
  /\bprocess\s*\.\s*env\b/,
  /\bprocess\s*\[\s*['"`]env['"`]\s*\]/,
  /\{[^}]*\benv\b[^}]*\}\s*=\s*process\b/,
];

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every `file:line` under root/src outside the allowed files that reads the process environment. */
export function processEnvReads(root: string): string[] {
  const out: string[] = [];
  for (const file of tsFiles(join(root, 'src'))) {
    const rel = relative(root, file).split(sep).join('/');
    if (ALLOWED(rel)) continue;
    withoutComments(readFileSync(file, 'utf8'))
      .split('\n')
      .forEach((line, i) => {
        if (READS.some((re) => re.test(line))) out.push(`${rel}:${i + 1}`);
      });
  }
  return out;
}

test('only the config loader and the CLI entry read process.env', () => {
  assert.deepEqual(processEnvReads(repoRoot()), []);
});

test('the check catches each way of reading it, and lets comments and the allowed files be', () => {
  const root = mkdtempSync(join(tmpdir(), 'gureum-process-env-'));
  try {
    const put = fileWriter(root);
    put('src/virt/a.ts', '// process.env is not read here\nconst home = process.env.HOME;\n');
    put('src/net/b.ts', "const e = process['env'];\nconst { env } = process;\n");
    put('src/config/process-env.ts', 'export const processEnv = { ...process.env };\n');
    put('src/cli/main.ts', 'run(process.env);\n');
    put('src/util/c.ts', "/* process.env */\nimport { processEnv } from '../config/process-env.js';\n");
    assert.deepEqual(processEnvReads(root).sort(), ['src/net/b.ts:1', 'src/net/b.ts:2', 'src/virt/a.ts:2']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
