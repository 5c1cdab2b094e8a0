// The recipe parser: strict keys and types, defaults, and the shipped recipes parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadRecipe, parseRecipe, parseSize, recipesDir } from '../../../../src/imaging/recipe.js';

const base = { name: 'x', release: 'bookworm', version: '12' };

test('defaults: 2 GiB, 512 MiB RAM, serial console command line', () => {
  const r = parseRecipe(base);
  assert.equal(r.sizeBytes, 2 * 1024 ** 3);
  assert.equal(r.minRamMb, 512);
  assert.equal(r.kernelCmdline, 'console=tty0 console=ttyS0,115200n8');
  assert.deepEqual(r.services, { enable: [], disable: [] });
});

test('unknown keys are refused with their names, at every level', () => {
  assert.throws(() => parseRecipe({ ...base, pakages: [] }), /unknown key "pakages"/);
  assert.throws(() => parseRecipe({ ...base, services: { enabled: ['ssh'] } }), /services.*unknown key "enabled"/);
  assert.throws(
    () => parseRecipe({ ...base, files: [{ path: '/a', content: '', owner: 'root' }] }),
    /files\[0\].*unknown key "owner"/,
  );
});

test('wrong types and values are refused', () => {
  assert.throws(() => parseRecipe({ ...base, size: 'big' }), /"big" is not a size/);
  assert.throws(() => parseRecipe({ ...base, packages: ['ok', 'bad name'] }), /packages"\[1\]/);
  assert.throws(() => parseRecipe({ ...base, packages: 'nginx' }), /must be a list/);
  assert.throws(() => parseRecipe({ ...base, files: [{ path: 'rel', content: '' }] }), /absolute/);
  assert.throws(() => parseRecipe({ ...base, files: [{ path: '/etc/../x', content: '' }] }), /absolute/);
  assert.throws(() => parseRecipe({ ...base, files: [{ path: '/x', content: '', mode: '999' }] }), /octal/);
  assert.throws(() => parseRecipe({ ...base, min_ram_mb: -1 }), /min_ram_mb/);
  assert.throws(() => parseRecipe({ ...base, distro: 'fedora' }), /only "debian"/);
  assert.throws(() => parseRecipe({ ...base, kernel_cmdline: 'a\nb' }), /one line/);
  assert.throws(() => parseRecipe([]), /JSON object/);
  assert.throws(() => parseRecipe({ release: 'bookworm', version: '12' }), /"name"/);
});

test('sizes', () => {
  assert.equal(parseSize('1536M', 's'), 1536 * 2 ** 20);
  assert.equal(parseSize('3GiB', 's'), 3 * 2 ** 30);
  assert.throws(() => parseSize(1000, 's'), /whole number of MiB/);
});

test('every shipped recipe parses', () => {
  const files = readdirSync(recipesDir()).filter((f) => f.endsWith('.json'));
  assert.ok(files.includes('debian-12.json'));
  for (const f of files) {
    const r = loadRecipe(join(recipesDir(), f));
    assert.equal(`${r.name}.json`, f);
  }
  assert.equal(loadRecipe('debian-12').release, 'bookworm');
  assert.throws(() => loadRecipe('no-such-recipe'), /no recipe "no-such-recipe"/);
});
