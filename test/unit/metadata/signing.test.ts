import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSecret, signInstanceId, verifyInstanceId } from '../../../src/services/metadata/signing.js';

test('a signature is valid for its own instance id only', () => {
  const s = 'x'.repeat(64);
  const a = signInstanceId(s, 'instance-a');
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.ok(verifyInstanceId(s, 'instance-a', a));
  assert.ok(!verifyInstanceId(s, 'instance-b', a));
  assert.ok(!verifyInstanceId('y'.repeat(64), 'instance-a', a), 'another secret');
  for (const bad of ['', 'zz', a.toUpperCase(), `${a}00`, a.slice(0, 63)])
    assert.ok(!verifyInstanceId(s, 'instance-a', bad), bad);
});

test('the secret file is created once with mode 0600, kept, and tightened when too open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'md-secret-'));
  try {
    const f = join(dir, 'sub', 'metadata-secret');
    const s1 = ensureSecret(f);
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.ok(s1.length >= 32);
    assert.equal(ensureSecret(f), s1);
    chmodSync(f, 0o644);
    ensureSecret(f);
    assert.equal(statSync(f).mode & 0o777, 0o600);
    writeFileSync(f, 'short\n');
    assert.throws(() => ensureSecret(f), /too short/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
