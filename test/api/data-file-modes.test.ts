// Issue 11, finding 5: the cloud's data files (database, images, keys, logs) are its user's only (0600 files, 0700
// directories) even when the process starts with a permissive umask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCloud } from '../helpers/cloud.js';
import { makeImage } from './compute/helpers.js';

/** Every file and directory below `dir` whose mode lets group or others in. */
function openToOthers(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink() || e.isSocket()) continue;
    if ((statSync(p).mode & 0o077) !== 0) out.push(`${p} ${(statSync(p).mode & 0o777).toString(8)}`);
    if (e.isDirectory()) out.push(...openToOthers(p));
  }
  return out;
}

test('database, image files and directories are 0600/0700 under a 022 umask', async () => {
  const previous = process.umask(0o022);
  const cloud = await createTestCloud({ databaseUrl: 'sqlite' });
  try {
    await makeImage(cloud);
    const db = join(cloud.config.dataDir, 'gureum.db');
    assert.equal(statSync(db).mode & 0o777, 0o600, 'gureum.db');
    const files = readdirSync(cloud.config.dataDir, { recursive: true }).length;
    assert.ok(files > 2, `the data dir has files to check (${files})`);
    assert.deepEqual(openToOthers(cloud.config.dataDir), []);
  } finally {
    await cloud.close();
    process.umask(previous);
  }
});
