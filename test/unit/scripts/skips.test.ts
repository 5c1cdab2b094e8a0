// Every skip in the suite goes through test/helpers/requirements.ts, which turns a missing requirement into a
// failure under CI=true. A bare t.skip (or a { skip } test option, or test.skip) would skip in CI too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineOf, testSources } from './test-sources.js';

const HELPER = 'test/helpers/requirements.ts';

/** Ways to skip a node:test test other than the helper. `skip: [` is an option list of the product (seal ops). */
const FORBIDDEN: { pattern: RegExp; what: string }[] = [
  { pattern: /\.skip\s*\(/g, what: 'a bare .skip( call' },
  { pattern: /\.todo\s*\(/g, what: 'a .todo( call' },
  { pattern: /\bskip\s*:(?!\s*\[)/g, what: 'a { skip } test option' },
  { pattern: /\btodo\s*:/g, what: 'a { todo } test option' },
];

test('no test skips except through the requirement helper', () => {
  const found: string[] = [];
  for (const { path, text } of testSources()) {
    if (path === HELPER || path.startsWith('test/unit/scripts/')) continue;
    for (const { pattern, what } of FORBIDDEN) {
      for (const m of text.matchAll(pattern)) found.push(`${path}:${lineOf(text, m.index)}: ${what}`);
    }
  }
  assert.deepEqual(
    found,
    [],
    'use requireOrSkip/requireCommands/requireRoot/optIn/skipAfterFailedStep from test/helpers/requirements.ts',
  );
});

test('the check itself sees a bare skip', () => {
  const sample =
    "test('x', (t) => { if (!ok) return t.skip('no'); });\ntest('y', { skip: !ok }, () => {});\nseal({ skip: " +
    "['logfiles'] });";
  const hits = FORBIDDEN.flatMap(({ pattern }) => [...sample.matchAll(pattern)].map((m) => lineOf(sample, m.index)));
  assert.deepEqual(hits.sort(), [1, 2]);
});
