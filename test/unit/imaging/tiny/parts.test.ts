import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { moduleDepends, moduleLoadOrder, moduleName } from '../../../../src/imaging/tiny/modules.js';
import { elfDeps } from '../../../../src/imaging/tiny/elf.js';
import { parsePrintUris, versionOf } from '../../../../src/imaging/tiny/debs.js';
import { checkBzImage } from '../../../../src/imaging/tiny/build.js';

test('modules load after their dependencies, in the wanted order otherwise', () => {
  const deps: Record<string, string[]> = {
    virtio: ['virtio_ring'],
    virtio_ring: [],
    virtio_pci: ['virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio'],
    virtio_pci_modern_dev: [],
    virtio_pci_legacy_dev: [],
    virtio_net: ['virtio_ring', 'virtio', 'net_failover'],
    net_failover: ['failover'],
    failover: [],
  };
  const order = moduleLoadOrder(['virtio_pci', 'virtio_net'], (n) => deps[n]!);
  assert.deepEqual(order, [
    'virtio_ring',
    'virtio_pci_modern_dev',
    'virtio_pci_legacy_dev',
    'virtio',
    'virtio_pci',
    'failover',
    'net_failover',
    'virtio_net',
  ]);
  for (const [m, ds] of Object.entries(deps))
    for (const d of ds) if (order.includes(m)) assert.ok(order.indexOf(d) < order.indexOf(m), `${d} before ${m}`);
});

test('a dependency cycle is an error, not a hang', () => {
  assert.throws(() => moduleLoadOrder(['a'], (n) => (n === 'a' ? ['b'] : ['a'])), /cycle: a -> b -> a/);
});

test('modinfo depends= is read from the module bytes; names use underscores', () => {
  const ko = Buffer.concat([
    Buffer.from('\x7fELF....license=GPL\0depends=virtio,virtio_ring\0name=virtio_blk\0', 'latin1'),
  ]);
  assert.deepEqual(moduleDepends(ko), ['virtio', 'virtio_ring']);
  assert.deepEqual(moduleDepends(Buffer.from('\0depends=\0name=x\0')), []);
  assert.deepEqual(moduleDepends(Buffer.from('no modinfo here')), []);
  assert.equal(moduleName('virtio-rng.ko'), 'virtio_rng');
});

test('ELF reader finds the interpreter and DT_NEEDED of a dynamic program', () => {
  const deps = elfDeps(readFileSync(process.execPath));
  assert.match(deps.interpreter ?? '', /ld-linux-x86-64\.so\.2$/);
  assert.ok(deps.needed.includes('libc.so.6'), deps.needed.join(','));
  assert.throws(() => elfDeps(Buffer.from('#!/bin/sh\n')), /not an ELF/);
});

test('apt print-uris lines and file names give packages and versions (epochs too)', () => {
  const text = `'http://mirror/pool/b/busybox-static_1.35.0_amd64.deb' busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb 928188 SHA256:${'a'.repeat(64)}\n`;
  assert.deepEqual(parsePrintUris(text), [
    { file: 'busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb', size: 928188, sha256: 'a'.repeat(64) },
  ]);
  assert.equal(versionOf('busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb'), '1:1.35.0-4+deb12u1+b1');
  assert.equal(versionOf('libc6_2.36-9+deb12u14_amd64.deb'), '2.36-9+deb12u14');
  assert.throws(() => versionOf('nonsense.deb'), /not a Debian package/);
});

test('a bzImage is taken unchanged; anything else is refused', () => {
  const k = Buffer.alloc(4096, 7);
  k.write('HdrS', 0x202, 'latin1');
  k[510] = 0x55;
  k[511] = 0xaa;
  assert.equal(Buffer.compare(checkBzImage(k), k), 0);
  assert.throws(() => checkBzImage(Buffer.alloc(4096)), /not a bzImage/);
});
