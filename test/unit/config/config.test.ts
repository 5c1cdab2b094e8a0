import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  configWith,
  loadConfig,
  loadConfigWithSources,
  parseListen,
  defaults,
  ENV_SETTINGS,
} from '../../../src/config.js';
import { renderConfig } from '../../../src/config/show.js';

/** Runs `fn` with a fresh data dir holding `file` as gureum.json (when given). */
function withDir<T>(file: unknown, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'gureum-cfg-'));
  try {
    if (file !== undefined) writeFileSync(join(dir, 'gureum.json'), JSON.stringify(file));
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('precedence: defaults < config file < env < flags', () =>
  withDir({ server: { listen: '127.0.0.1:7000', region: 'FileRegion' }, identity: { tokenTtlSeconds: 60 } }, (dir) => {
    const fileOnly = loadConfig({ dataDir: dir }, {});
    assert.deepEqual(fileOnly.server.listen, { host: '127.0.0.1', port: 7000 });
    assert.equal(fileOnly.server.region, 'FileRegion');
    assert.equal(fileOnly.logging.level, defaults.logging.level);
    const withEnv = loadConfig({ dataDir: dir }, { GUREUM_LISTEN: '127.0.0.1:7001', GUREUM_TOKEN_TTL: '120' });
    assert.equal(withEnv.server.listen.port, 7001);
    assert.equal(withEnv.identity.tokenTtlSeconds, 120);
    const withFlags = loadConfig({ dataDir: dir, listen: '127.0.0.2:7002' }, { GUREUM_LISTEN: '127.0.0.1:7001' });
    assert.deepEqual(withFlags.server.listen, { host: '127.0.0.2', port: 7002 });
    assert.equal(withFlags.server.publicUrl, 'http://127.0.0.2:7002');
    assert.ok(
      Object.isFrozen(withFlags) && Object.isFrozen(withFlags.server) && Object.isFrozen(withFlags.server.listen),
    );
  }));

test('the flat keys of the old gureum.json still work', () =>
  withDir(
    { listen: '127.0.0.1:7000', region: 'Old', tokenTtlSeconds: 60, hypervisor: 'fake', tinyImage: false },
    (dir) => {
      const c = loadConfig({ dataDir: dir }, {});
      assert.equal(c.server.listen.port, 7000);
      assert.equal(c.server.region, 'Old');
      assert.equal(c.identity.tokenTtlSeconds, 60);
      assert.equal(c.virt.driver, 'fake');
      assert.equal(c.image.tinyImage, false);
    },
  ));

test('nested settings merge instead of replacing the whole group', () => {
  const c = loadConfig({ dataDir: tmpdir() }, { GUREUM_LOCKOUT_FAILURE_ATTEMPTS: '3' });
  assert.equal(c.identity.securityCompliance.lockoutFailureAttempts, 3);
  assert.equal(
    c.identity.securityCompliance.lockoutDurationSeconds,
    defaults.identity.securityCompliance.lockoutDurationSeconds,
  );
});

test('every old environment name still sets its setting', () => {
  const c = loadConfig(
    { dataDir: tmpdir() },
    {
      GUREUM_FAKE_HOSTS: '3',
      GUREUM_CPU_ALLOCATION_RATIO: '2.5',
      GUREUM_COMPUTE_AGENT: '0',
      GUREUM_DEFAULT_AZ: 'az9',
      GUREUM_NET_VLAN_RANGES: 'physnet1:100:199,ext',
      GUREUM_NET_TOPOLOGY: 'none',
      GUREUM_IMAGE_CONVERT_TO: 'raw',
      GUREUM_CONSOLE_TOKEN_TTL: '30',
      GUREUM_NOVNC_DIR: '/x',
      GUREUM_QEMU: '/q',
      GUREUM_QEMU_IMG: '/qi',
      GUREUM_RESUME_GUESTS_ON_HOST_BOOT: '1',
      GUREUM_POWER_SYNC_INTERVAL: '2',
      GUREUM_TINY_IMAGE: 'off',
    },
  );
  assert.equal(c.virt.fake.hosts, 3);
  assert.equal(c.compute.cpuAllocationRatio, 2.5);
  assert.equal(c.compute.runAgent, false);
  assert.equal(c.compute.defaultAvailabilityZone, 'az9');
  assert.deepEqual(c.network.vlanRanges, { physnet1: [[100, 199]], ext: [] });
  assert.equal(c.network.topology, null);
  assert.equal(c.image.convertTo, 'raw');
  assert.deepEqual(
    [c.console.tokenTtlSeconds, c.console.novncDir, c.virt.qemuBinary, c.disk.qemuImg],
    [30, '/x', '/q', '/qi'],
  );
  assert.deepEqual(
    [c.compute.resumeGuestsOnHostBoot, c.compute.powerSyncIntervalSeconds, c.image.tinyImage],
    [true, 2, false],
  );
  // Each name in the table reaches a real setting (a typo in a path would be an unknown key).
  for (const s of ENV_SETTINGS) assert.ok(s.env.startsWith('GUREUM_'), s.env);
});

test('GUREUM_COMPUTE_DRIVER is the older name of GUREUM_HYPERVISOR, which wins', () => {
  assert.equal(loadConfig({ dataDir: tmpdir() }, { GUREUM_COMPUTE_DRIVER: 'fake' }).virt.driver, 'fake');
  assert.equal(
    loadConfig({ dataDir: tmpdir() }, { GUREUM_COMPUTE_DRIVER: 'fake', GUREUM_HYPERVISOR: 'qemu' }).virt.driver,
    'qemu',
  );
});

test('an unknown key in the config file is an error naming it', () => {
  withDir({ lisen: '1.2.3.4:5' }, (dir) =>
    assert.throws(() => loadConfig({ dataDir: dir }, {}), /unknown setting "lisen"/),
  );
  withDir({ identity: { tokenTTL: 5 } }, (dir) =>
    assert.throws(() => loadConfig({ dataDir: dir }, {}), /unknown setting "identity.tokenTTL"/),
  );
});

test('a wrong value stops loading with one line naming the setting and where it came from', () => {
  assert.throws(
    () => loadConfig({ dataDir: tmpdir() }, { GUREUM_HYPERVISOR: 'kvm' }),
    /^Error: setting "virt.driver" \(from env GUREUM_HYPERVISOR\): one of auto, qemu, fake; got "kvm"$/,
  );
  assert.throws(
    () => loadConfig({ dataDir: tmpdir() }, { GUREUM_TOKEN_TTL: 'soon' }),
    /GUREUM_TOKEN_TTL: expected a whole number, got "soon"/,
  );
  withDir({ compute: { agentConcurrency: 0 } }, (dir) =>
    assert.throws(
      () => loadConfig({ dataDir: dir }, {}),
      /setting "compute.agentConcurrency" \(from file .*gureum.json\)/,
    ),
  );
});

test('configWith changes settings and validates like loading', () => {
  const base = loadConfig({ dataDir: tmpdir() }, {});
  const c = configWith(base, { virt: { fake: { hosts: 4 } } });
  assert.equal(c.virt.fake.hosts, 4);
  assert.equal(c.virt.fake.vcpus, defaults.virt.fake.vcpus);
  assert.throws(() => configWith(base, { virt: { nope: 1 } } as never), /unknown setting "virt.nope"/);
});

test('config show: every value with its source, secrets masked', () => {
  const { config, sources } = loadConfigWithSources(
    { dataDir: tmpdir(), logLevel: 'warn' },
    { GUREUM_DATABASE_URL: 'postgres://gureum:hunter2@127.0.0.1/gureum', GUREUM_FAKE_HOSTS: '2' },
  );
  const text = renderConfig(config, sources);
  assert.match(text, /^database\.url\s+"postgres:\/\/gureum:\*\*\*@127\.0\.0\.1\/gureum"\s+env GUREUM_DATABASE_URL$/m);
  assert.doesNotMatch(text, /hunter2/);
  assert.match(text, /^logging\.level\s+"warn"\s+flag --log-level$/m);
  assert.match(text, /^virt\.fake\.hosts\s+2\s+env GUREUM_FAKE_HOSTS$/m);
  assert.match(text, /^server\.region\s+"RegionOne"\s+default$/m);
  assert.match(text, /^server\.publicUrl\s+"http:\/\/127\.0\.0\.1:8080"\s+derived from server\.listen$/m);
});

test('--listen forms', () => {
  assert.deepEqual(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
  assert.deepEqual(parseListen(':9000'), { host: '127.0.0.1', port: 9000 });
  assert.throws(() => parseListen('8080'));
  assert.throws(() => parseListen('host:99999'));
});

test('docs/configuration.md names every section and every environment name', () => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'docs', 'configuration.md'))) dir = dirname(dir);
  const doc = readFileSync(join(dir, 'docs', 'configuration.md'), 'utf8');
  for (const s of ENV_SETTINGS) assert.ok(doc.includes(`\`${s.env}\``), `${s.env} is not in docs/configuration.md`);
  for (const k of Object.keys(defaults))
    assert.ok(doc.includes(`\`${k}`), `section ${k} is not in docs/configuration.md`);
});
