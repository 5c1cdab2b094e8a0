// The one declaration of Debian packages (scripts/packages.mjs) covers every command a test requires, and
// scripts/prepare.mjs installs from it rather than from a list of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGES, REPO_ROOT } from '../../helpers/requirements.js';
import { lineOf, testSources } from './test-sources.js';

const HELPER = 'test/helpers/requirements.ts';

/** Every requireCommands call in test/: where, which commands, for which purpose ('test' unless given). */
function requiredCommands(): { where: string; commands: string[] | null; purpose: string }[] {
  const out: { where: string; commands: string[] | null; purpose: string }[] = [];
  for (const { path, text } of testSources()) {
    if (path === HELPER || path.startsWith('test/unit/scripts/')) continue;
    for (const m of text.matchAll(/requireCommands\(/g)) {
      const where = `${path}:${lineOf(text, m.index)}`;
      const call = /^requireCommands\(\s*\w+\s*,\s*\[([^\]]*)\]\s*(?:,\s*'([\w-]+)'\s*)?\)/.exec(text.slice(m.index));
      const commands = call ? [...call[1]!.matchAll(/'([^']+)'/g)].map((c) => c[1]!) : null;
      out.push({ where, commands, purpose: call?.[2] ?? 'test' });
    }
  }
  return out;
}

test('every command a test requires comes from a package its purpose installs', () => {
  const calls = requiredCommands();
  assert.ok(calls.length >= 20, `found only ${calls.length} requireCommands calls: has the pattern changed?`);
  const problems: string[] = [];
  for (const { where, commands, purpose } of calls) {
    if (commands === null) {
      problems.push(
        `${where}: list the commands literally (requireCommands(t, ['cmd', ...])) so this check can read them`,
      );
      continue;
    }
    const installed = new Set(PACKAGES.packagesFor(purpose));
    for (const command of commands) {
      const pkg = PACKAGES.COMMANDS[command];
      if (!pkg) problems.push(`${where}: "${command}" has no package in scripts/packages.mjs COMMANDS`);
      else if (!installed.has(pkg))
        problems.push(`${where}: "${command}" comes from ${pkg}, which purpose "${purpose}" does not install`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the tools the test suite is known to need are declared for the test purpose', () => {
  const test = new Set(PACKAGES.packagesFor('test'));
  for (const pkg of [
    'busybox-static',
    'cpio',
    'util-linux',
    'openssh-client',
    'postgresql',
    'python3-openstackclient',
    'tempest',
    'qemu-utils',
    'qemu-system-x86',
    'libguestfs-tools',
  ]) {
    assert.ok(test.has(pkg), `${pkg} is not installed by node scripts/prepare.mjs --for test`);
  }
  assert.ok(PACKAGES.packagesFor('tempest').length >= test.size, 'tempest extends test');
});

test('every purpose resolves, and every command maps to a package some purpose installs', () => {
  const all = new Set(Object.keys(PACKAGES.PURPOSES).flatMap((p) => PACKAGES.packagesFor(p)));
  for (const [purpose, entry] of Object.entries(PACKAGES.PURPOSES)) {
    if (entry.extends) assert.ok(entry.extends in PACKAGES.PURPOSES, `${purpose} extends unknown ${entry.extends}`);
  }
  for (const [command, pkg] of Object.entries(PACKAGES.COMMANDS))
    assert.ok(all.has(pkg), `${command}: ${pkg} is in no purpose`);
  assert.throws(() => PACKAGES.packagesFor('nope'), /unknown purpose "nope"/);
});

test('scripts/prepare.mjs installs from scripts/packages.mjs and keeps no list of its own', () => {
  const prepare = readFileSync(join(REPO_ROOT, 'scripts', 'prepare.mjs'), 'utf8');
  assert.match(prepare, /from '\.\/packages\.mjs'/);
  assert.doesNotMatch(prepare, /packages:\s*\[/);
});
