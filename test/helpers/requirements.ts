// The one place a test may skip: missing requirements (root, PostgreSQL, a command from a Debian package).
// Outside CI a missing requirement skips with the reason; under CI=true it fails, because CI installs
// everything (scripts/prepare.mjs --for test). test/unit/scripts/skips.test.ts forbids skips anywhere else.
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root: the nearest folder above this file holding scripts/packages.mjs (works from dist/ too). */
export const REPO_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'scripts', 'packages.mjs'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find scripts/packages.mjs above test/helpers');
    dir = up;
  }
  return dir;
})();

/** The shape of scripts/packages.mjs, the one declaration of Debian packages shared with scripts/prepare.mjs. */
export interface PackageDeclaration {
  PURPOSES: Record<string, { extends?: string; packages: string[] }>;
  COMMANDS: Record<string, string>;
  packagesFor(purpose: string): string[];
}

export const PACKAGES = (await import(
  pathToFileURL(join(REPO_ROOT, 'scripts', 'packages.mjs')).href
)) as PackageDeclaration;

/** True when running under CI, where a missing requirement is a failure rather than a skip. */
export function isCI(): boolean {
  return process.env.CI === 'true';
}

/**
 * Returns true when `condition` holds. Otherwise skips the test with `why` and returns false, so
 * the caller returns at once: `if (!requireOrSkip(t, hasPg, 'needs PostgreSQL')) return;`.
 * Under CI=true a missing requirement fails the test instead (throws).
 * Only for requirements of the machine: a product failure (a build that throws) must be a plain failure.
 */
export function requireOrSkip(t: TestContext, condition: unknown, why: string): boolean {
  if (condition) return true;
  if (isCI()) throw new Error(`requirement missing under CI=true: ${why}`);
  t.skip(why);
  return false;
}

/** Absolute path of `command` on PATH (plus the sbin folders a non-root PATH may lack), or undefined. */
export function commandPath(command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/**
 * Requires commands from Debian packages. Each command must be declared in scripts/packages.mjs's COMMANDS
 * with a package that `purpose` installs; otherwise this throws everywhere (a test bug, not a missing
 * requirement). A declared command that is not installed skips (fails under CI) naming its package.
 */
export function requireCommands(t: TestContext, commands: readonly string[], purpose = 'test'): boolean {
  const wanted = new Set(PACKAGES.packagesFor(purpose));
  const missing: string[] = [];
  for (const command of commands) {
    const pkg = PACKAGES.COMMANDS[command];
    if (!pkg) throw new Error(`requireCommands: "${command}" has no package in scripts/packages.mjs COMMANDS`);
    if (!wanted.has(pkg))
      throw new Error(`requireCommands: "${command}" comes from ${pkg}, which purpose "${purpose}" does not install`);
    if (!commandPath(command)) missing.push(`${command} (${pkg})`);
  }
  const why = `missing ${missing.join(', ')}: node scripts/prepare.mjs --for ${purpose} installs it`;
  return requireOrSkip(t, missing.length === 0, why);
}

/** Requires root (bridges, namespaces, nftables, libguestfs on this machine). */
export function requireRoot(t: TestContext, why = 'needs root'): boolean {
  return requireOrSkip(t, isRoot(), why);
}

/**
 * A test too slow or too outward-facing for every local run (e.g. it downloads from the apt mirror): it always
 * runs under CI=true, and locally only when the environment variable `variable` is 1. Skips with `why` otherwise.
 */
export function optIn(t: TestContext, variable: string, why: string): boolean {
  if (isCI() || process.env[variable] === '1') return true;
  t.skip(`${why}: runs under CI=true, or set ${variable}=1`);
  return false;
}

/**
 * Skips a step of a step-by-step test because an earlier step failed. Not a missing requirement: the
 * earlier failure already fails the parent test, so skipping the dependent steps hides nothing.
 */
export function skipAfterFailedStep(t: TestContext, step: string): void {
  t.skip(`needs the failed step "${step}"`);
}

/** True when the process runs as root (bridges, namespaces, nftables). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The throwaway PostgreSQL database started by scripts/run-tests.mjs, if any. */
export function testPgUrl(): string | undefined {
  return process.env.GUREUM_TEST_PG_URL || undefined;
}
