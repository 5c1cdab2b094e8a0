import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseListen, defaults } from '../../../src/config.js';

test('precedence: defaults < config file < env < flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gureum-cfg-'));
  try {
    writeFileSync(join(dir, 'gureum.json'), JSON.stringify({ listen: '127.0.0.1:7000', region: 'FileRegion', tokenTtlSeconds: 60 }));
    const fileOnly = loadConfig({ dataDir: dir }, {});
    assert.deepEqual(fileOnly.listen, { host: '127.0.0.1', port: 7000 });
    assert.equal(fileOnly.region, 'FileRegion');
    assert.equal(fileOnly.logLevel, defaults.logLevel);
    const withEnv = loadConfig({ dataDir: dir }, { GUREUM_LISTEN: '127.0.0.1:7001', GUREUM_TOKEN_TTL: '120' });
    assert.equal(withEnv.listen.port, 7001);
    assert.equal(withEnv.tokenTtlSeconds, 120);
    const withFlags = loadConfig({ dataDir: dir, listen: '127.0.0.2:7002' }, { GUREUM_LISTEN: '127.0.0.1:7001' });
    assert.deepEqual(withFlags.listen, { host: '127.0.0.2', port: 7002 });
    assert.equal(withFlags.publicUrl, 'http://127.0.0.2:7002');
    assert.ok(Object.isFrozen(withFlags));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nested settings merge instead of replacing the whole group', () => {
  const c = loadConfig({ dataDir: tmpdir() }, { GUREUM_LOCKOUT_FAILURE_ATTEMPTS: '3' });
  assert.equal(c.securityCompliance.lockoutFailureAttempts, 3);
  assert.equal(c.securityCompliance.lockoutDurationSeconds, defaults.securityCompliance.lockoutDurationSeconds);
});

test('an unknown key in the config file is an error, not silently ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gureum-cfg-'));
  try {
    writeFileSync(join(dir, 'gureum.json'), JSON.stringify({ lisen: '1.2.3.4:5' }));
    assert.throws(() => loadConfig({ dataDir: dir }, {}), /unknown setting "lisen"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--listen forms', () => {
  assert.deepEqual(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
  assert.deepEqual(parseListen(':9000'), { host: '127.0.0.1', port: 9000 });
  assert.throws(() => parseListen('8080'));
  assert.throws(() => parseListen('host:99999'));
});
