import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir } from '../../../src/util/fs.js';

test('ensureDir creates missing parents and accepts an existing directory', () => {
  const base = mkdtempSync(join(tmpdir(), 'gureum-fs-'));
  try {
    const deep = join(base, 'a', 'b', 'c');
    ensureDir(deep, 0o700);
    assert.ok(statSync(deep).isDirectory());
    assert.equal(statSync(deep).mode & 0o777, 0o700);
    ensureDir(deep);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('ensureDir fails clearly (and does not hang) where it cannot create', () => {
  assert.throws(() => ensureDir('/proc/gureum-cannot-exist/x'), /cannot create/);
  const base = mkdtempSync(join(tmpdir(), 'gureum-fs-'));
  try {
    writeFileSync(join(base, 'file'), '');
    assert.throws(() => ensureDir(join(base, 'file', 'sub')), /not a directory/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
