// seal and audit through libguestfs on a small ext4 image (made with mke2fs -d from a planted tree), raw and qcow2.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditImage, sealImage } from '../../../src/imaging/seal.js';
import { ImagingError } from '../../../src/imaging/errors.js';
import { OP_NAMES } from '../../../src/imaging/identity-ops.js';
import { plantTree } from '../../unit/imaging/factory/planted-tree.js';
import { requireCommands, requireRoot } from '../../helpers/requirements.js';

const ready = (t: TestContext) =>
  requireRoot(t, 'libguestfs needs root here') &&
  requireCommands(t, ['guestfish', 'mke2fs', 'e2fsck', 'debugfs', 'qemu-img']);

function makeImage(dir: string, name: string): string {
  const tree = join(dir, `${name}-tree`);
  plantTree(tree);
  const img = join(dir, `${name}.raw`);
  execFileSync('mke2fs', ['-q', '-t', 'ext4', '-L', 'gureum-root', '-d', tree, '-F', img, '48M']);
  return img;
}

test('audit lists every kind of planted identity; seal removes it; seal again is a no-op; the image stays valid ' +
  '(raw)', {
  timeout: 600_000,
}, async (t) => {
  if (!ready(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'gureum-seal-it-'));
  try {
    const img = makeImage(dir, 'planted');
    const before = await auditImage(img);
    assert.equal(before.clean, false);
    const ops = new Set(before.findings.map((f) => f.op));
    for (const op of OP_NAMES.filter((o) => o !== 'unconfigured')) assert.ok(ops.has(op), `audit reports ${op}`);
    for (const p of [
      '/etc/machine-id',
      '/etc/ssh/ssh_host_ed25519_key',
      '/var/log/syslog',
      '/root/.ssh/authorized_keys',
      '/etc/shadow',
      '/var/lib/cloud/instance',
    ]) {
      assert.ok(
        before.findings.some((f) => f.path === p),
        `audit lists ${p}`,
      );
    }

    const dry = await sealImage(img, { dryRun: true });
    assert.equal(dry.changes.length, before.findings.length);
    assert.equal((await auditImage(img)).findings.length, before.findings.length, 'dry run changed nothing');

    const sealed = await sealImage(img);
    assert.equal(sealed.changes.length, before.findings.length);
    const after = await auditImage(img);
    assert.deepEqual(after.findings, []);
    assert.equal(after.clean, true);

    const again = await sealImage(img);
    assert.deepEqual(again.changes, [], 'seal is idempotent');
    // Still a valid filesystem; machine-id still exists, empty.
    const fsck = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    const st = execFileSync('debugfs', ['-R', 'stat /etc/machine-id', img], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    assert.match(st, /Size: 0\b/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('qcow2: seal then audit clean, and qemu-img check passes', { timeout: 600_000 }, async (t) => {
  if (!ready(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'gureum-seal-it-'));
  try {
    const raw = makeImage(dir, 'q');
    const q = join(dir, 'q.qcow2');
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, q]);
    const r = await sealImage(q, { skip: ['logfiles'] });
    assert.ok(r.changes.length > 10);
    const a = await auditImage(q);
    assert.deepEqual([...new Set(a.findings.map((f) => f.op))], ['logfiles'], 'only the skipped operation is left');
    execFileSync('qemu-img', ['check', '-f', 'qcow2', q]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: not a disk, no Linux root, a qcow2 with a backing file', { timeout: 600_000 }, async (t) => {
  if (!ready(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'gureum-seal-it-'));
  try {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello\n');
    await assert.rejects(
      auditImage(text),
      (e: unknown) => e instanceof ImagingError && /too small to be a disk image/.test(e.message),
    );
    await assert.rejects(auditImage(join(dir, 'missing.qcow2')), /no such file/);
    const empty = join(dir, 'empty.raw');
    execFileSync('mke2fs', ['-q', '-t', 'ext4', '-F', empty, '8M']);
    await assert.rejects(
      auditImage(empty),
      (e: unknown) => e instanceof ImagingError && e.code === 'no-root' && /no Linux root/.test(e.message),
    );
    const backed = join(dir, 'backed.qcow2');
    execFileSync('qemu-img', ['create', '-f', 'qcow2', '-F', 'raw', '-b', empty, backed]);
    await assert.rejects(sealImage(backed), (e: unknown) => e instanceof ImagingError && e.code === 'refused');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
