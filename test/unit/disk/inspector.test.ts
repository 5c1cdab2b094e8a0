import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { openFileSource, bufferSource, verifyImage, detect, ImageRefused } from '../../../src/disk/inspector/index.js';
import { checkDescriptor } from '../../../src/disk/inspector/vmdk.js';
import { requireCommands } from '../../helpers/requirements.js';
import {
  qemuImg,
  makeLab,
  makeIso,
  plantIsoDescriptor,
  makeVmdkWithPathExtent,
  makeFlatVmdkDescriptor,
  type Lab,
} from './hostile.js';

let lab: Lab;
before(() => {
  lab = makeLab();
});
after(() => {
  assert.equal(lab.canaryWasRead(), false, 'the inspector never read the canary');
  rmSync(lab.dir, { recursive: true, force: true });
});

async function verdict(path: string, disk: string, container = 'bare') {
  const src = await openFileSource(path);
  try {
    return await verifyImage(src, disk, container);
  } finally {
    await src.close();
  }
}

async function refused(path: string, disk: string, kind: string, pattern: RegExp, container = 'bare') {
  await assert.rejects(verdict(path, disk, container), (e: unknown) => {
    assert.ok(e instanceof ImageRefused, String(e));
    assert.equal(e.kind, kind);
    assert.match(e.message, pattern);
    return true;
  });
}

const need = (t: TestContext) => requireCommands(t, ['qemu-img']);

test('recognises the formats qemu-img writes and their virtual sizes', async (t) => {
  if (!need(t)) return;
  const cases: [string, string[], number][] = [
    ['qcow2', ['-f', 'qcow2'], 64 << 20],
    ['vmdk', ['-f', 'vmdk', '-o', 'subformat=monolithicSparse'], 64 << 20],
    ['vmdk', ['-f', 'vmdk', '-o', 'subformat=streamOptimized'], 64 << 20],
    ['vhdx', ['-f', 'vhdx'], 64 << 20],
    ['vdi', ['-f', 'vdi'], 64 << 20],
    ['vhd', ['-f', 'vpc'], 67125248],
    ['vhd', ['-f', 'vpc', '-o', 'subformat=fixed'], 67125248],
  ];
  for (const [fmt, args, size] of cases) {
    const f = lab.file(`ok-${fmt}-${args.join('')}`);
    qemuImg('create', ...args, f, '64M');
    const v = await verdict(f, fmt);
    assert.equal(v.detected, fmt, `${args.join(' ')}`);
    assert.equal(v.virtualSize, size, `${args.join(' ')}`);
  }
  const iso = lab.file('ok.iso');
  makeIso(iso, 64);
  assert.deepEqual(await verdict(iso, 'iso'), { detected: 'iso', virtualSize: 64 * 2048 });
  const raw = lab.file('ok.raw');
  writeFileSync(raw, randomBytes(100_000));
  assert.deepEqual(await verdict(raw, 'raw'), { detected: 'raw', virtualSize: 100_000 });
});

test('refuses a qcow2 whose backing file is /etc/passwd (and never reads it)', async (t) => {
  if (!need(t)) return;
  for (const target of ['/etc/passwd', lab.canary]) {
    const f = lab.file(`backing-${target.length}.qcow2`);
    qemuImg('create', '-f', 'qcow2', '-b', target, '-F', 'raw', f, '1M');
    for (const declared of ['qcow2', 'raw']) await refused(f, declared, 'unsafe', /backing file/);
  }
});

test('refuses a qcow2 with an external data file', async (t) => {
  if (!need(t)) return;
  const f = lab.file('datafile.qcow2');
  qemuImg('create', '-f', 'qcow2', '-o', `data_file=${lab.file('data.raw')},data_file_raw=on`, f, '1M');
  await refused(f, 'qcow2', 'unsafe', /external data file/);
  await refused(f, 'raw', 'unsafe', /external data file/);
});

test('refuses qcow2 with unknown incompatible features or version 1, and QED', async (t) => {
  if (!need(t)) return;
  const f = lab.file('features.qcow2');
  qemuImg('create', '-f', 'qcow2', f, '1M');
  const b = readFileSync(f);
  b.writeBigUInt64BE(1n << 40n, 72);
  writeFileSync(f, b);
  await refused(f, 'qcow2', 'unsafe', /unknown incompatible features/);
  b.writeBigUInt64BE(0n, 72);
  b.writeUInt32BE(1, 4);
  writeFileSync(f, b);
  await refused(f, 'qcow2', 'unsafe', /version 1/);
  const q = lab.file('x.qed');
  qemuImg('create', '-f', 'qed', q, '1M');
  await refused(q, 'raw', 'unsafe', /QED/);
});

test('refuses a VMDK whose descriptor names extents by path, and non-monolithic subformats', async (t) => {
  if (!need(t)) return;
  const sparse = lab.file('path-extent.vmdk');
  makeVmdkWithPathExtent(sparse, lab.canary);
  await refused(sparse, 'vmdk', 'unsafe', /extent names a path/);
  const flat = lab.file('flat-descriptor.vmdk');
  makeFlatVmdkDescriptor(flat, '/etc/passwd');
  await refused(flat, 'vmdk', 'unsafe', /monolithicflat|extent/i);
  await refused(flat, 'raw', 'unsafe', /monolithicflat|extent/i);
  const made = lab.file('made-flat.vmdk');
  qemuImg('create', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', made, '1M');
  await refused(made, 'vmdk', 'unsafe', /monolithicflat/i);
  const split = lab.file('split.vmdk');
  qemuImg('create', '-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', split, '1M');
  await refused(split, 'vmdk', 'unsafe', /twogbmaxextentsparse/i);
});

test('descriptor rules line by line', () => {
  const ok =
    '# Disk DescriptorFile\nversion=1\ncreateType="streamOptimized"\nRW 2048 SPARSE "disk.vmdk"\nddb.adapterType = ' +
    '"ide"\n';
  assert.deepEqual(checkDescriptor(ok).problems, []);
  assert.match(checkDescriptor(ok.replace('disk.vmdk', '../x')).problems.join(), /path/);
  assert.match(checkDescriptor(ok.replace('disk.vmdk', 'C:\\\\x')).problems.join(), /path/);
  assert.match(checkDescriptor(`${ok}something odd here\n`).problems.join(), /not understood/);
  assert.match(checkDescriptor(ok.replace('RW 2048 SPARSE "disk.vmdk"\n', '')).problems.join(), /no extents/);
  assert.match(checkDescriptor(ok.replace('SPARSE', 'VMFS')).problems.join(), /extent type/);
});

test('refuses a qcow2 hidden in an ISO (a polyglot), whatever it is declared as', async (t) => {
  if (!need(t)) return;
  const f = lab.file('qcow2-in-iso');
  qemuImg('create', '-f', 'qcow2', '-b', lab.canary, '-F', 'raw', f, '1M');
  plantIsoDescriptor(f);
  for (const declared of ['iso', 'qcow2', 'raw']) await refused(f, declared, 'polyglot', /more than one format/);
  const clean = lab.file('clean-qcow2-in-iso');
  qemuImg('create', '-f', 'qcow2', clean, '1M');
  plantIsoDescriptor(clean);
  await refused(clean, 'iso', 'polyglot', /iso, qcow2|qcow2/);
});

test('refuses content that does not match the declared disk_format', async (t) => {
  if (!need(t)) return;
  const q = lab.file('plain.qcow2');
  qemuImg('create', '-f', 'qcow2', q, '1M');
  await refused(q, 'vmdk', 'mismatch', /does not match/);
  await refused(q, 'iso', 'mismatch', /does not match/);
  const raw = lab.file('random.bin');
  writeFileSync(raw, randomBytes(4096));
  await refused(raw, 'qcow2', 'mismatch', /not qcow2/);
  await refused(raw, 'vmdk', 'mismatch', /not vmdk/);
  // Glance's rules: raw may hold any safe format; AMI-style and non-bare containers are not inspectable.
  assert.equal((await verdict(q, 'raw')).detected, 'qcow2');
  assert.equal((await verdict(raw, 'ami', 'ami')).detected, 'raw');
  assert.equal((await verdict(raw, 'vmdk', 'ova')).detected, 'raw');
  await refused(q, 'vmdk', 'mismatch', /does not match/, 'ovf');
});

test('MBR/GPT: sane partition tables pass, broken ones are refused; FAT boot sectors are not MBRs', async () => {
  const mbr = Buffer.alloc(4096);
  mbr.writeUInt16LE(0xaa55, 510);
  mbr[446] = 0x80;
  mbr[446 + 4] = 0x83;
  assert.equal((await detect(bufferSource(mbr))).name, 'gpt');
  assert.equal((await verifyImage(bufferSource(mbr), 'raw')).detected, 'gpt');
  const bad = Buffer.from(mbr);
  bad[446] = 0x12;
  await assert.rejects(verifyImage(bufferSource(bad), 'raw'), /invalid boot flag/);
  const gpt = Buffer.alloc(4096);
  gpt.writeUInt16LE(0xaa55, 510);
  gpt[446 + 4] = 0xee;
  gpt[446 + 2] = 2;
  gpt.writeUInt32LE(1, 446 + 8);
  assert.deepEqual((await detect(bufferSource(gpt))).unsafe, []);
  gpt[462 + 4] = 0x83;
  await assert.rejects(verifyImage(bufferSource(gpt), 'raw'), /extra partitions/);
  const fat = Buffer.from(mbr);
  fat[0x10] = 2;
  fat[0x15] = 0xf8;
  assert.equal((await detect(bufferSource(fat))).name, 'raw');
});

test('LUKS v1 is recognised; LUKS v2 is refused', async () => {
  const h = Buffer.alloc(8192);
  Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]).copy(h);
  h.writeUInt16BE(1, 6);
  h.writeUInt32BE(8, 104);
  assert.deepEqual(await detect(bufferSource(h)), { name: 'luks', virtualSize: 8192 - 4096, unsafe: [] });
  h.writeUInt16BE(2, 6);
  await assert.rejects(verifyImage(bufferSource(h), 'raw'), /LUKS version 2/);
});

test('truncated headers are refused, not crashed on', async (t) => {
  if (!need(t)) return;
  const q = lab.file('trunc.qcow2');
  qemuImg('create', '-f', 'qcow2', q, '1M');
  const v = lab.file('trunc.vmdk');
  qemuImg('create', '-f', 'vmdk', v, '1M');
  // A qcow2 cut after its header is still a well-formed header (qemu-img then fails on the missing tables).
  for (const [f, fmt, cuts] of [
    [q, 'qcow2', [5, 40, 80]],
    [v, 'vmdk', [5, 40, 80, 600]],
  ] as const) {
    const b = readFileSync(f);
    for (const n of cuts) {
      const src = bufferSource(b.subarray(0, n));
      await assert.rejects(verifyImage(src, fmt), ImageRefused, `${fmt} cut at ${n}`);
    }
  }
});

test(
  'a Linux kernel declared as aki is a raw kernel, not a broken MBR; as a disk format it is still ' + 'refused',
  async () => {
    // The shape of a bzImage's first sector: setup header bytes where an MBR keeps its partition table,
    // 0x55aa at 510 and the boot protocol's "HdrS" magic at 0x202.
    const kernel = Buffer.alloc(8192, 0);
    kernel.fill(0x5a, 446, 510);
    kernel.writeUInt16LE(0xaa55, 510);
    kernel.write('HdrS', 0x202, 'latin1');
    const asKernel = await verifyImage(bufferSource(kernel), 'aki', 'aki');
    assert.equal(asKernel.detected, 'raw');
    await assert.rejects(verifyImage(bufferSource(kernel), 'qcow2', 'bare'));
    // Without the kernel magic the same sector is a partition table with invalid boot flags: refused even as aki.
    const notKernel = Buffer.from(kernel);
    notKernel.write('\0\0\0\0', 0x202, 'latin1');
    await assert.rejects(verifyImage(bufferSource(notKernel), 'aki', 'aki'), /invalid boot flag/);
  },
);
