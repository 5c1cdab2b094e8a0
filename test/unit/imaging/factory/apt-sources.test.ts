// Mirror discovery from sample apt configurations (the host names are fictitious, under .example).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMirror, imageSourcesList, parseDeb822, parseSourcesList } from '../../../../src/imaging/apt-sources.js';

function etc(files: Record<string, string>): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gureum-apt-'));
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [p, c] of Object.entries(files)) writeFileSync(join(dir, p), c);
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('one-line sources.list: options, comments and deb-src', () => {
  const s = parseSourcesList(
    '# c\ndeb-src http://a.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://a.example/debian/ bookworm main contrib # tail\n',
    'f',
  );
  assert.deepEqual(s, [
    {
      uri: 'http://a.example/debian/',
      suites: ['bookworm'],
      components: ['main', 'contrib'],
      signedBy: '/k.gpg',
      file: 'f',
    },
  ]);
});

test('deb822 .sources: several suites, disabled stanzas skipped', () => {
  const s = parseDeb822(
    'Types: deb\nURIs: http://m.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nEnabled: no\nURIs: http://off.example/x\nSuites: bookworm\nComponents: main\n',
    'f',
  );
  assert.equal(s.length, 1);
  assert.deepEqual(s[0]!.suites, ['bookworm', 'bookworm-updates']);
});

test('findMirror picks the suite with main from sources.list.d/*.sources, with updates and security as extras', () => {
  const { dir, done } = etc({
    'sources.list.d/other.list': 'deb https://vendor.example/apt stable main\n',
    'sources.list.d/debian.sources':
      'Types: deb\nURIs: http://m.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://s.example/debian-security\nSuites: bookworm-security\nComponents: main\n',
    'sources.list.d/ignored.list.disabled': 'deb http://no.example/debian bookworm main\n',
  });
  try {
    const m = findMirror('bookworm', dir);
    assert.equal(m.uri, 'http://m.example/debian');
    assert.equal(m.extra.length, 2);
    assert.equal(
      imageSourcesList(m),
      'deb http://m.example/debian bookworm main\ndeb http://m.example/debian bookworm-updates main\ndeb http://s.example/debian-security bookworm-security main\n',
    );
  } finally {
    done();
  }
});

test('findMirror reads /etc/apt/sources.list first', () => {
  const { dir, done } = etc({
    'sources.list': 'deb http://first.example/debian bookworm main\n',
    'sources.list.d/b.list': 'deb http://second.example/debian bookworm main\n',
  });
  try {
    assert.equal(findMirror('bookworm', dir).uri, 'http://first.example/debian');
  } finally {
    done();
  }
});

test('findMirror: a clear error when no source carries the suite', () => {
  const { dir, done } = etc({ 'sources.list': 'deb http://m.example/debian trixie main\n' });
  try {
    assert.throws(() => findMirror('bookworm', dir), /no apt source for suite "bookworm".*trixie/);
  } finally {
    done();
  }
});
