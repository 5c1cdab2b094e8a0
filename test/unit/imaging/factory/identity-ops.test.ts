// The sealing operation list on a planted root tree (through DirView: no libguestfs needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirView } from '../../../../src/imaging/guest-view.js';
import { auditView, sealView } from '../../../../src/imaging/seal.js';
import { IDENTITY_OPS, OP_NAMES, selectOps } from '../../../../src/imaging/identity-ops.js';
import { KEPT, plantTree } from './planted-tree.js';

function planted(): { root: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'gureum-seal-'));
  plantTree(root);
  return { root, done: () => rmSync(root, { recursive: true, force: true }) };
}

/** Paths each operation must report on the planted tree. */
const EXPECTED: Record<string, string[]> = {
  hostname: ['/etc/hostname', '/etc/hosts'],
  'ssh-hostkeys': [
    '/etc/ssh/ssh_host_rsa_key',
    '/etc/ssh/ssh_host_rsa_key.pub',
    '/etc/ssh/ssh_host_ed25519_key',
    '/etc/ssh/ssh_host_ed25519_key.pub',
  ],
  'machine-id': ['/etc/machine-id', '/var/lib/dbus/machine-id', '/var/lib/systemd/credential.secret'],
  'udev-net-rules': [
    '/etc/udev/rules.d/70-persistent-net.rules',
    '/etc/udev/rules.d/75-persistent-net-generator.rules',
  ],
  'net-hwaddr': [
    '/etc/sysconfig/network-scripts/ifcfg-eth0',
    '/etc/netplan/01-static.yaml',
    '/etc/NetworkManager/system-connections/wired.nmconnection',
    '/etc/systemd/network/10-eth.link',
    '/etc/systemd/network/20-eth.network',
    '/etc/network/interfaces',
  ],
  'dhcp-leases': ['/var/lib/dhcp/dhclient.eth0.leases'],
  logfiles: [
    '/var/log/syslog',
    '/var/log/auth.log.1',
    '/var/log/dpkg.log.2.gz',
    '/var/log/journal/0123456789abcdef0123456789abcdef',
  ],
  'shell-history': ['/root/.bash_history', '/home/debian/.bash_history', '/home/debian/.python_history'],
  passwords: ['/etc/shadow'],
  'authorized-keys': ['/root/.ssh/authorized_keys', '/home/debian/.ssh/authorized_keys'],
  'cloud-init': [
    '/var/lib/cloud/instances',
    '/var/lib/cloud/instance',
    '/var/lib/cloud/data',
    '/etc/network/interfaces.d/50-cloud-init',
  ],
  'tmp-files': ['/tmp/build.log', '/var/tmp/cache'],
  'random-seed': ['/var/lib/systemd/random-seed'],
  'package-caches': ['/var/cache/apt/archives/nginx_1.22_amd64.deb', '/var/cache/apt/pkgcache.bin'],
  'tls-keys': ['/etc/ssl/private/ssl-cert-snakeoil.key', '/etc/ssl/certs/ssl-cert-snakeoil.pem'],
};

test('every audited operation is covered by the planted tree', () => {
  assert.deepEqual(
    Object.keys(EXPECTED).sort(),
    IDENTITY_OPS.filter((o) => o.audited)
      .map((o) => o.name)
      .sort(),
  );
});

test('audit lists each planted identity under its operation, and nothing else', async () => {
  const { root, done } = planted();
  try {
    const r = await auditView(new DirView(root), root);
    assert.equal(r.clean, false);
    for (const [op, paths] of Object.entries(EXPECTED)) {
      assert.deepEqual(
        r.findings
          .filter((f) => f.op === op)
          .map((f) => f.path)
          .sort(),
        [...paths].sort(),
        op,
      );
    }
    assert.equal(r.findings.length, Object.values(EXPECTED).flat().length);
    assert.match(r.findings.find((f) => f.op === 'passwords')!.what, /root, debian/);
  } finally {
    done();
  }
});

test('seal removes every identity, keeps the rest, and a second seal changes nothing', async () => {
  const { root, done } = planted();
  try {
    const v = new DirView(root);
    const first = await sealView(v, root);
    assert.equal(first.changes.length, Object.values(EXPECTED).flat().length);
    const after = await auditView(v, root);
    assert.deepEqual(after.findings, []);
    assert.equal(after.clean, true);
    const again = await sealView(v, root);
    assert.deepEqual(again.changes, []);
    for (const k of KEPT) assert.ok(existsSync(join(root, k)), `${k} kept`);
    const f = (p: string) => readFileSync(join(root, p), 'utf8');
    assert.equal(f('/etc/machine-id'), '', 'machine-id emptied');
    assert.equal(readlinkSync(join(root, '/var/lib/dbus/machine-id')), '/etc/machine-id');
    assert.equal(f('/etc/hostname'), 'localhost\n');
    assert.doesNotMatch(f('/etc/hosts'), /golden-builder/);
    assert.match(f('/etc/hosts'), /127\.0\.0\.1 localhost/);
    assert.match(f('/etc/shadow'), /^root:!\$6\$salt\$hashhashhash:/m);
    assert.match(f('/etc/shadow'), /^debian:!\$y\$/m);
    assert.match(f('/etc/shadow'), /^daemon:\*:/m);
    assert.equal(f('/etc/sysconfig/network-scripts/ifcfg-eth0'), 'DEVICE=eth0\nBOOTPROTO=dhcp\n');
    assert.equal(
      f('/etc/netplan/01-static.yaml'),
      'network:\n  version: 2\n  ethernets:\n    nic0:\n      dhcp4: true\n',
    );
    assert.doesNotMatch(f('/etc/NetworkManager/system-connections/wired.nmconnection'), /mac-address/);
    assert.ok(!existsSync(join(root, '/etc/systemd/network/10-eth.link')), 'a .link matching only a MAC is removed');
    assert.equal(f('/etc/systemd/network/20-eth.network'), '[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n');
    assert.doesNotMatch(f('/etc/network/interfaces'), /hwaddress/);
    assert.equal(f('/var/log/syslog'), '');
    assert.ok(existsSync(join(root, '/var/log/empty.log')));
    assert.ok(!existsSync(join(root, '/var/log/journal/0123456789abcdef0123456789abcdef')));
    assert.ok(lstatSync(join(root, '/tmp')).isDirectory() && lstatSync(join(root, '/var/tmp')).isDirectory());
    assert.ok(existsSync(join(root, '/var/cache/apt/archives/partial')), 'apt partial dir kept');
  } finally {
    done();
  }
});

test('dry run lists the changes and changes nothing', async () => {
  const { root, done } = planted();
  try {
    const r = await sealView(new DirView(root), root, { dryRun: true });
    assert.ok(r.changes.some((c) => c.path === '/etc/machine-id' && c.change === 'empty'));
    assert.ok(r.changes.some((c) => c.path === '/var/lib/dbus/machine-id' && /link/.test(c.change)));
    assert.equal(readFileSync(join(root, '/etc/machine-id'), 'utf8').trim(), '0123456789abcdef0123456789abcdef');
    assert.equal((await auditView(new DirView(root), root)).findings.length, Object.values(EXPECTED).flat().length);
  } finally {
    done();
  }
});

test('--skip leaves that identity in place; --with unconfigured creates the marker', async () => {
  const { root, done } = planted();
  try {
    const v = new DirView(root);
    await sealView(v, root, { skip: ['ssh-hostkeys', 'logfiles'], with: ['unconfigured'] });
    const r = await auditView(v, root);
    assert.deepEqual([...new Set(r.findings.map((f) => f.op))].sort(), ['logfiles', 'ssh-hostkeys']);
    assert.ok(existsSync(join(root, '/.unconfigured')));
    assert.deepEqual((await auditView(v, root, { skip: ['ssh-hostkeys', 'logfiles'] })).findings, []);
  } finally {
    done();
  }
});

test('operation selection: defaults, opt-in, unknown names refused', () => {
  assert.ok(!selectOps().some((o) => o.name === 'unconfigured'));
  assert.ok(selectOps({ with: ['unconfigured'] }).some((o) => o.name === 'unconfigured'));
  assert.equal(selectOps({ skip: ['hostname'] }).length, OP_NAMES.length - 2);
  assert.throws(() => selectOps({ skip: ['hostnmae'] }), /unknown operation "hostnmae"/);
});
