// publish and --image against a real running cloud (`gureum up`, fake hypervisor): the CLI is run as a user
// would run it, finding its credentials in the server's data directory, and Glance is checked over HTTP.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OP_NAMES } from '../../../src/imaging/identity-ops.js';
import { requireCommands, requireRoot } from '../../helpers/requirements.js';
import { startServer } from '../../helpers/server.js';
import { glance, gureum, imagesNamed, plantedQcow2, type CliResult } from './cloud-cli.js';

const ready = (t: TestContext) =>
  requireRoot(t, 'libguestfs needs root here') && requireCommands(t, ['guestfish', 'mke2fs', 'qemu-img']);

const show = (r: CliResult) => `exit ${String(r.code)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

test('publish refuses an unsealed image (nothing in Glance), publishes a sealed one with min_disk and properties; ' +
  'audit/seal --image work on the service', {
  timeout: 1_200_000,
}, async (t) => {
  if (!ready(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'gureum-publish-it-'));
  const server = await startServer();
  try {
    const dd = ['--data-dir', server.dataDir];
    const g = await glance(server);
    const planted = plantedQcow2(dir, 'planted');
    const sealed = join(dir, 'sealed.qcow2');
    copyFileSync(planted, sealed);

    // Unsealed: refused, exit 3, nothing left in the image service.
    const refused = await gureum(['image', 'publish', planted, '--name', 'unsealed', ...dd]);
    assert.equal(refused.code, 3, show(refused));
    assert.match(refused.stderr, /identities left .*seal it first, or publish with --force/);
    assert.deepEqual(await imagesNamed(g, 'unsealed'), []);

    // Sealed: published with the recipe's values.
    const s = await gureum(['image', 'seal', sealed]);
    assert.equal(s.code, 0, show(s));
    const pub = await gureum([
      'image',
      'publish',
      sealed,
      '--name',
      'golden',
      '--recipe',
      'debian-12',
      '--property',
      'gureum_test=yes',
      '--json',
      ...dd,
    ]);
    assert.equal(pub.code, 0, show(pub));
    const [golden, ...more] = await imagesNamed(g, 'golden');
    assert.equal(more.length, 0);
    assert.ok(golden);
    assert.equal(golden.status, 'active');
    assert.equal(golden.disk_format, 'qcow2');
    assert.equal(golden.container_format, 'bare');
    assert.equal(golden.virtual_size, 1100 * 2 ** 20);
    assert.equal(golden.min_disk, 2, '1100 MiB rounds up to 2 GiB');
    assert.equal(golden.min_ram, 512, 'min_ram from the recipe');
    for (const [k, v] of Object.entries({
      architecture: 'x86_64',
      os_type: 'linux',
      os_distro: 'debian',
      os_version: '12',
      hw_qemu_guest_agent: 'yes',
      hw_disk_bus: 'virtio',
      hw_vif_model: 'virtio',
      gureum_audit: 'clean',
      gureum_test: 'yes',
    }))
      assert.equal(golden[k], v, `property ${k}`);
    assert.equal((JSON.parse(pub.stdout) as { image: { id: string } }).image.id, golden.id);

    // Forced: the unsealed image goes in with its audit result recorded.
    const forced = await gureum(['image', 'publish', planted, '--name', 'planted', '--force', ...dd]);
    assert.equal(forced.code, 0, show(forced));
    const [pl] = await imagesNamed(g, 'planted');
    assert.ok(pl);
    assert.equal(pl.status, 'active');
    assert.match(String(pl.gureum_audit), /^identity-left: /);
    for (const op of OP_NAMES.filter((o) => o !== 'unconfigured'))
      assert.ok(String(pl.gureum_audit).includes(op), `audit property names ${op}`);

    // audit --image: exit 1 on the planted image, 0 on the golden one, by name and by id; the result is recorded.
    const auditPlanted = await gureum(['image', 'audit', '--image', 'planted', '--json', ...dd]);
    assert.equal(auditPlanted.code, 1, show(auditPlanted));
    const report = JSON.parse(auditPlanted.stdout) as {
      clean: boolean;
      image: string;
      findings: { op: string; path: string }[];
    };
    assert.equal(report.clean, false);
    assert.equal(report.image, pl.id);
    assert.ok(report.findings.some((f) => f.path === '/etc/machine-id'));
    const auditGolden = await gureum(['image', 'audit', '--image', String(golden.id), ...dd]);
    assert.equal(auditGolden.code, 0, show(auditGolden));
    assert.match(auditGolden.stdout, /clean/);

    // seal --image: a new image carrying the properties, clean; the original is untouched (Glance data is immutable).
    const sealRemote = await gureum(['image', 'seal', '--image', 'planted', '--name', 'planted-sealed', ...dd]);
    assert.equal(sealRemote.code, 0, show(sealRemote));
    assert.match(sealRemote.stdout, /uploaded as image [0-9a-f-]{36} \(planted-sealed\)/);
    const [ps] = await imagesNamed(g, 'planted-sealed');
    assert.ok(ps);
    assert.equal(ps.status, 'active');
    assert.equal(ps.gureum_audit, 'clean');
    assert.equal(ps.min_disk, 2);
    assert.equal(ps.os_distro, 'debian');
    const auditSealed = await gureum(['image', 'audit', '--image', 'planted-sealed', ...dd]);
    assert.equal(auditSealed.code, 0, show(auditSealed));
    const [plAfter] = await imagesNamed(g, 'planted');
    assert.equal(plAfter!.checksum, pl.checksum);

    // Bad references: clear errors, exit 2.
    const missing = await gureum(['image', 'audit', '--image', 'no-such-image', ...dd]);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /no image named or with id "no-such-image"/);
    const both = await gureum(['image', 'seal', planted, '--image', 'planted', ...dd]);
    assert.equal(both.code, 2, show(both));
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
