import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCpio, writeCpio, type CpioEntry } from '../../../../src/imaging/tiny/cpio.js';
import { requireCommands } from '../../../helpers/requirements.js';

const sample: CpioEntry[] = [
  { kind: 'dir', path: 'bin' },
  { kind: 'file', path: 'bin/hello', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { kind: 'symlink', path: 'bin/sh', target: '/bin/busybox' },
  { kind: 'dir', path: 'dev' },
  { kind: 'char', path: 'dev/console', major: 5, minor: 1 },
  { kind: 'dir', path: 'tmp', mode: 0o1777 },
  { kind: 'file', path: 'odd', data: Buffer.from([1, 2, 3]) },
];

test('newc archive reads back with modes, data, link targets and device numbers', () => {
  const members = readCpio(writeCpio(sample));
  assert.deepEqual(
    members.map((m) => m.path),
    ['bin', 'bin/hello', 'bin/sh', 'dev', 'dev/console', 'tmp', 'odd'],
  );
  const by = new Map(members.map((m) => [m.path, m]));
  assert.equal(by.get('bin')!.mode, 0o040755);
  assert.equal(by.get('bin/hello')!.mode, 0o100755);
  assert.equal(by.get('bin/hello')!.data.toString(), '#!/bin/sh\necho hi\n');
  assert.equal(by.get('bin/sh')!.mode, 0o120777);
  assert.equal(by.get('bin/sh')!.data.toString(), '/bin/busybox');
  assert.equal(by.get('dev/console')!.mode, 0o020600);
  assert.deepEqual([by.get('dev/console')!.rdevMajor, by.get('dev/console')!.rdevMinor], [5, 1]);
  assert.equal(by.get('tmp')!.mode, 0o041777);
  assert.deepEqual([...by.get('odd')!.data], [1, 2, 3]);
});

test('every header starts on a 4-byte boundary and the archive ends with the trailer', () => {
  const buf = writeCpio(sample);
  let count = 0;
  for (let off = buf.indexOf('070701'); off >= 0; off = buf.indexOf('070701', off + 1)) {
    assert.equal(off % 4, 0, `header at ${off}`);
    count++;
  }
  assert.equal(count, sample.length + 1);
  assert.ok(buf.includes(Buffer.from('TRAILER!!!\0')));
  assert.equal(buf.length % 4, 0);
});

test('the same entries give the same bytes', () => {
  assert.deepEqual(writeCpio(sample), writeCpio(sample));
  assert.notDeepEqual(writeCpio(sample, { mtime: 1 }), writeCpio(sample));
});

test('refuses absolute paths, dot-dot, empty parts and duplicates', () => {
  for (const path of ['/etc/passwd', '../x', 'a/../b', 'a//b', '', 'a/./b']) {
    assert.throws(() => writeCpio([{ kind: 'dir', path }]), /bad cpio path/, path);
  }
  assert.throws(
    () =>
      writeCpio([
        { kind: 'dir', path: 'a' },
        { kind: 'dir', path: 'a' },
      ]),
    /duplicate/,
  );
});

test('GNU cpio lists the archive the same way', (t) => {
  if (!requireCommands(t, ['cpio'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'cpio-test-'));
  try {
    writeFileSync(join(dir, 'a.cpio'), writeCpio(sample));
    const r = spawnSync('cpio', ['-t', '--quiet', '-F', join(dir, 'a.cpio')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.stdout.trim().split('\n'),
      sample.map((e) => e.path),
    );
    assert.ok(readFileSync(join(dir, 'a.cpio')).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
