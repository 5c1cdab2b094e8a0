// Skipping tests whose requirements (root, PostgreSQL, QEMU, the openstack CLI) are missing.
import type { TestContext } from 'node:test';

/** True when running under CI, where a missing requirement is a failure rather than a skip. */
export function isCI(): boolean {
  return process.env.CI === 'true';
}

/**
 * Returns true when `condition` holds. Otherwise skips the test with `why` and returns false, so
 * the caller returns at once: `if (!requireOrSkip(t, hasPg, 'needs PostgreSQL')) return;`.
 * Under CI=true a missing requirement fails the test instead (throws).
 */
export function requireOrSkip(t: TestContext, condition: unknown, why: string): boolean {
  if (condition) return true;
  if (isCI()) throw new Error(`requirement missing under CI=true: ${why}`);
  t.skip(why);
  return false;
}

/** True when the process runs as root (bridges, namespaces, nftables). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The throwaway PostgreSQL database started by scripts/run-tests.mjs, if any. */
export function testPgUrl(): string | undefined {
  return process.env.GUREUM_TEST_PG_URL || undefined;
}
