import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { primaryName, readIso9660, writeIso9660 } from '../../../src/disk/iso9660.js';
import { buildConfigDrive } from '../../../src/disk/config-drive.js';
import { configDriveFiles } from '../../../src/services/metadata/trees.js';
import { sampleMetadata } from './fixture.js';
import { requireCommands } from '../../helpers/requirements.js';

const date = new Date('2026-11-22T10:00:00Z');

test('files read back through the Joliet tree with their long names, and through the primary tree', () => {
  const big = Buffer.alloc(5000, 0x61);
  const files: [string, Buffer][] = [
    ['openstack/latest/meta_data.json', Buffer.from('{"uuid":"x"}')],
    ['openstack/latest/vendor_data2.json', Buffer.from('{}')],
    ['openstack/2018-08-27/user_data', big],
    ['ec2/latest/meta-data.json', Buffer.from('{}')],
    ['empty', Buffer.alloc(0)],
  ];
  const img = writeIso9660(files, { volumeId: 'config-2', date });
  assert.equal(img.length % 2048, 0);
  const j = readIso9660(img);
  assert.equal(j.volumeId, 'config-2');
  assert.equal(j.jolietVolumeId, 'config-2');
  assert.deepEqual([...j.files.keys()].sort(), files.map(([p]) => p).sort());
  for (const [p, d] of files) assert.deepEqual(j.files.get(p), d, p);
  const p = readIso9660(img, { preferJoliet: false });
  assert.deepEqual(p.files.get('OPENSTACK/LATEST/META_DATA.JSON'), files[0]![1]);
  assert.deepEqual(p.files.get('OPENSTACK/2018_08_27/USER_DATA'), big);
});

test('a directory with many entries spans sectors without a record crossing a boundary', () => {
  const files: [string, Buffer][] = Array.from({ length: 120 }, (_, i) => [
    `d/file-with-a-long-name-${String(i).padStart(3, '0')}.json`,
    Buffer.from(String(i)),
  ]);
  const img = writeIso9660(files, { volumeId: 'MANY', date });
  const back = readIso9660(img);
  assert.equal(back.files.size, 120);
  for (const [p, d] of files) assert.deepEqual(back.files.get(p), d);
});

test('identical input gives identical bytes; bad input is refused', () => {
  const f: [string, Buffer][] = [['a/b.txt', Buffer.from('x')]];
  assert.deepEqual(writeIso9660(f, { volumeId: 'v', date }), writeIso9660(f, { volumeId: 'v', date }));
  assert.throws(() => writeIso9660([['../x', Buffer.from('')]], { volumeId: 'v' }), /bad ISO path/);
  assert.throws(
    () =>
      writeIso9660(
        [
          ['a', Buffer.from('')],
          ['a', Buffer.from('')],
        ],
        { volumeId: 'v' },
      ),
    /duplicate/,
  );
  assert.throws(
    () =>
      writeIso9660(
        [
          ['a-b', Buffer.from('')],
          ['a_b', Buffer.from('')],
        ],
        { volumeId: 'v' },
      ),
    /same ISO name/,
  );
  assert.throws(() => writeIso9660(f, { volumeId: 'x'.repeat(33) }), /longer than 32/);
  assert.equal(primaryName('meta_data.json', false), 'META_DATA.JSON;1');
  assert.equal(primaryName('2018-08-27', true), '2018_08_27');
});

test('a config drive is labelled config-2 for blkid and holds the metadata', async (t) => {
  if (!requireCommands(t, ['blkid'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'cfgdrive-'));
  try {
    const path = join(dir, 'disk.config');
    await buildConfigDrive(configDriveFiles(sampleMetadata(), { dhcpDomain: 'novalocal' }), path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const back = readIso9660(readFileSync(path));
    assert.equal(JSON.parse(back.files.get('openstack/latest/meta_data.json')!.toString()).uuid, sampleMetadata().uuid);
    const r = spawnSync('blkid', ['-p', '-o', 'export', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, `blkid: ${r.stderr}`);
    assert.match(r.stdout, /^TYPE=iso9660$/m);
    assert.match(r.stdout, /^LABEL=config-2$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
