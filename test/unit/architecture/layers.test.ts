// The layer rule of docs/architecture.md, checked by reading every import in src/ (static, `export ... from`,
// dynamic `import('...')` and inline `import('...').Type`), so a new upward import fails here, not in review.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileWriter, repoRoot } from '../../helpers/source-tree.js';

/** One rule: files under `from` must not import the modules `forbidden` matches (a src-relative path or a package). */
interface Rule {
  from: string;
  forbidden: (target: string) => boolean;
  why: string;
}

const under = (dir: string) => (t: string) => t === dir || t.startsWith(`${dir}/`);
const anyOf =
  (...preds: ((t: string) => boolean)[]) =>
  (t: string) =>
    preds.some((p) => p(t));
/**
 * What the low layers may use: each other, src/util, src/errors.ts, the start-up environment snapshot (a leaf that
 * imports nothing), node builtins and packages (never fastify).
 */
const lowLayer = (t: string) =>
  ['src/virt', 'src/net', 'src/disk', 'src/storage', 'src/util'].some((d) => under(d)(t)) ||
  t === 'src/errors.ts' ||
  t === 'src/config/process-env.ts';

export const RULES: Rule[] = [
  {
    from: 'src/api',
    forbidden: anyOf(under('src/store'), under('src/cli')),
    why: 'HTTP never reaches SQL: ask a service',
  },
  {
    from: 'src/services',
    forbidden: anyOf(under('src/api'), under('src/cli'), (t) => t === 'fastify' || t.startsWith('@fastify/')),
    why: 'services hold the rules, without HTTP',
  },
  {
    from: 'src/store',
    forbidden: anyOf(under('src/api'), under('src/services'), under('src/cli')),
    why: 'the store knows only rows',
  },
  ...['src/virt', 'src/net', 'src/disk', 'src/storage'].map(
    (from): Rule => ({
      from,
      forbidden: (t) => (t.startsWith('src/') && !lowLayer(t)) || t === 'fastify',
      why: 'drivers import nothing above them',
    }),
  ),
];

const IMPORT_RES = [
  /\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

/** An import specifier as the rules see it: a repo-relative path without extension change, or a package name. */
function normalise(root: string, file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  const abs = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
  return relative(root, abs).split(sep).join('/');
}

/** Every import under root/src that breaks a rule, as "file: target (why)". */
export function layerViolations(root: string): string[] {
  const out: string[] = [];
  for (const file of tsFiles(join(root, 'src'))) {
    const rel = relative(root, file).split(sep).join('/');
    const rules = RULES.filter((r) => under(r.from)(rel));
    if (!rules.length) continue;
    const text = readFileSync(file, 'utf8');
    for (const re of IMPORT_RES) {
      for (const m of text.matchAll(re)) {
        const target = normalise(root, file, m[1]!);
        for (const r of rules) if (r.forbidden(target)) out.push(`${rel}: ${target} (${r.why})`);
      }
    }
  }
  return out;
}

test('imports only point down the layers (docs/architecture.md)', () => {
  assert.deepEqual(layerViolations(repoRoot()), []);
});

test(
  'the rule catches an API module importing the store, a service importing fastify, a driver importing a ' + 'service',
  () => {
    const root = mkdtempSync(join(tmpdir(), 'gureum-layers-'));
    try {
      const put = fileWriter(root);
      put(
        'src/api/compute/x.ts',
        "import { openStore } from '../../store/database.js';\nconst t = await import('../../store/tables.js');\n",
      );
      put('src/services/compute/y.ts', "import type { FastifyRequest } from 'fastify';\n");
      put(
        'src/virt/z.ts',
        "import { uuid } from '../util/ids.js';\nimport { CloudError } from '../errors.js';\nlet a: " +
          "import('../services/policy.js').Rule;\n",
      );
      put('src/net/ok.ts', "import { x } from '../disk/overlay.js';\nimport { y } from 'kysely';\n");
      assert.deepEqual(layerViolations(root).sort(), [
        'src/api/compute/x.ts: src/store/database.ts (HTTP never reaches SQL: ask a service)',
        'src/api/compute/x.ts: src/store/tables.ts (HTTP never reaches SQL: ask a service)',
        'src/services/compute/y.ts: fastify (services hold the rules, without HTTP)',
        'src/virt/z.ts: src/services/policy.ts (drivers import nothing above them)',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
